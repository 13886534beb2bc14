// Block Kit for "Apply fix": the confirmation modal (opened at once, then updated after the dry run),
// the refusals, and the thread messages that record who applied what and follow the rollout. Pure:
// props in, messages and views out. Everything from the cluster is escaped.
import type { KnownBlock, ModalView } from '@slack/types';
import type { ApplyOp, DiffLine, WorkloadId } from '../apply/types';
import { ACTION_IDS, rerunValue } from './action-ids';
import {
  actions,
  button,
  context,
  dateToken,
  LIMITS,
  mention,
  section,
  untrusted,
  workloadWords,
  type BlockKitMessage,
} from './block-kit';
import { code, codeBlock, escapeMrkdwn, plainText, truncate } from './escape';

export const APPLY_IDS = {
  /** The Undo button in the "applied" thread message; its value is the suggestion id. */
  undo: 'oom_undo',
  /** callback_id of the confirmation modal. */
  confirm: 'oom_apply_confirm',
} as const;

/** What the confirmation modal's private_metadata carries: ids only, re-checked on submit. */
export interface ConfirmMetadata {
  s: string;
  op: ApplyOp;
}

/** Who asked for which change to which container: what each thread message about it starts from. */
export interface ApplyRequest {
  op: ApplyOp;
  userId: string;
  workload: WorkloadId;
  container: string;
}

function workloadPlain(workload: WorkloadId): string {
  return `${workload.kind} ${workload.namespace}/${workload.name}`;
}

/** The diff as one line per field: `limits.memory`: `512Mi` → `768Mi`. */
export function diffText(lines: DiffLine[], max = 2500): string {
  if (lines.length === 0) return '_No field changes: the workload already has these values._';
  const rendered = lines.map(
    (l) => `• ${code(l.field, 120)}: ${code(l.before, 300)} → ${code(l.after, 300)}`,
  );
  let text = '';
  for (let i = 0; i < rendered.length; i += 1) {
    const next = `${text}${text ? '\n' : ''}${rendered[i]}`;
    if (next.length > max - 30) return `${text}\n…and ${rendered.length - i} more`;
    text = next;
  }
  return text;
}

function modal(title: string, blocks: KnownBlock[], extra: Partial<ModalView> = {}): ModalView {
  return {
    type: 'modal',
    callback_id: APPLY_IDS.confirm,
    title: { type: 'plain_text', text: truncate(title, LIMITS.modalTitle) },
    close: { type: 'plain_text', text: 'Close' },
    blocks,
    ...extra,
  };
}

function opTitle(op: ApplyOp): string {
  return op === 'apply' ? 'Apply fix' : 'Undo fix';
}

// ---------------------------------------------------------------------------------------------
// The modal

/** Opened at once when the button is pressed (the trigger expires in 3 s), then updated. */
export function checkingView(op: ApplyOp, workload: WorkloadId, container: string): ModalView {
  return modal(opTitle(op), [
    section(
      `:hourglass_flowing_sand: Checking ${workloadWords(workload, container)}: reading it, comparing it with what the diagnosis saw, and sending the change as a server-side dry run…`,
    ),
  ]);
}

export interface ConfirmProps {
  op: ApplyOp;
  workload: WorkloadId;
  container: string;
  diff: DiffLine[];
  metadata: ConfirmMetadata;
  helmRelease: string | null;
  /** Heap settings read from a ConfigMap: not changed, the modal names the key. */
  configMapSettings: Array<{ value: string; source: string }>;
  /** The Kubernetes user the change is sent as, when impersonating. */
  identity: string | null;
}

/** The confirmation: exactly what will change, after the dry run passed. */
export function confirmView(props: ConfirmProps): ModalView {
  const { op, workload } = props;
  const verb = op === 'apply' ? 'This changes' : 'This restores the values from before the fix on';
  const blocks: KnownBlock[] = [
    section(`${verb} ${workloadWords(workload, props.container)}:`),
    section(diffText(props.diff)),
    context(
      `:white_check_mark: A server-side dry run (dryRun=All) of this very patch passed: the API server, its admission webhooks and its validation accept it.${props.identity ? ` Sent as ${code(props.identity, 200)}.` : ''}`,
    ),
  ];
  if (props.helmRelease) {
    blocks.push(
      section(
        `:warning: Helm release ${code(props.helmRelease, 200)} manages this ${escapeMrkdwn(workload.kind)}: the next ${code('helm upgrade')} puts the chart's values back. Change them in the chart's values too.`,
      ),
    );
  }
  for (const s of props.configMapSettings.slice(0, 5)) {
    blocks.push(
      section(
        `:information_source: ${code(s.value, 200)} comes from ${untrusted(s.source, 300)}: it is not changed here, since other workloads may share that ConfigMap. Edit that key yourself.`,
      ),
    );
  }
  const restart =
    workload.kind === 'CronJob'
      ? 'The next run of the CronJob takes the new values; a Job already running keeps the old ones.'
      : `The ${escapeMrkdwn(workload.kind)}'s pods are replaced with the new values, as its update strategy says.`;
  blocks.push(context(restart));
  return modal(opTitle(op), blocks, {
    submit: { type: 'plain_text', text: op === 'apply' ? 'Apply' : 'Undo' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: JSON.stringify(props.metadata),
  });
}

/** The modal when a check failed: why, and nothing to submit. */
export function refusedView(op: ApplyOp, headline: string, reason: string, extra: string[] = []): ModalView {
  return modal(opTitle(op), [
    section(`:no_entry: ${headline}`),
    section(untrusted(reason, 2500)),
    ...extra.map((e) => section(e)),
  ]);
}

/** After submit: the job runs, the thread tells the result. */
export function submittedView(op: ApplyOp, workload: WorkloadId, container: string): ModalView {
  return modal(opTitle(op), [
    section(
      `:hourglass_flowing_sand: ${op === 'apply' ? 'Applying the fix to' : 'Undoing the fix on'} ${workloadWords(workload, container)}… The diagnosis thread shows the result and follows the rollout.`,
    ),
  ]);
}

/** After the job: done, or why not. */
export function doneView(op: ApplyOp, ok: boolean, text: string): ModalView {
  return modal(opTitle(op), [section(`${ok ? ':white_check_mark:' : ':x:'} ${untrusted(text, 2500)}`)]);
}

// ---------------------------------------------------------------------------------------------
// Refusals (ephemeral) and the thread

export function refusalMessage(op: ApplyOp, reason: string): BlockKitMessage {
  const line = `${op === 'apply' ? 'You cannot apply this fix' : 'You cannot undo this fix'}: ${untrusted(reason, 1500)}.`;
  return { text: line, blocks: [section(`:no_entry: ${line}`)] };
}

/** Nothing was applied because the workload changed since the diagnosis: say what, offer a fresh diagnosis. */
export function raceMessage(
  props: ApplyRequest & { reasons: string[]; target: { namespace: string; pod: string; container: string } },
): BlockKitMessage {
  const what = props.op === 'apply' ? 'since this diagnosis' : 'since the fix was applied';
  const line = `${mention(props.userId)} asked to ${props.op === 'apply' ? 'apply the fix' : 'undo the fix'}, but ${workloadWords(props.workload, props.container)} changed ${what}: nothing was changed.`;
  const blocks: KnownBlock[] = [
    section(`:warning: ${line}`),
    section(props.reasons.map((r) => `• ${untrusted(r, 400)}`).join('\n') || ' '),
  ];
  if (props.op === 'apply') {
    blocks.push(
      context(
        'The suggestion was made for the workload as it was. Re-run the diagnosis for one that fits it now.',
      ),
    );
    blocks.push(actions([button('Re-run diagnosis', ACTION_IDS.rerun, rerunValue(props.target))]));
  }
  return {
    text: `Not ${props.op === 'apply' ? 'applied' : 'undone'}: ${workloadPlain(props.workload)} changed ${what}`,
    blocks,
  };
}

/** A GitOps-managed workload: why Apply is not offered, for the diagnosis message. */
export function gitOpsReason(tool: string, evidence: string, workload: WorkloadId): string {
  return `${workloadPlain(workload)} is managed by ${tool} (${evidence}): a change made in the cluster would be reverted at the next sync. Commit the YAML patch above to its Git repository instead.`;
}

export interface AppliedProps extends ApplyRequest {
  at: number;
  diff: DiffLine[];
  identity: string | null;
  rollout: {
    phase: 'progressing' | 'complete' | 'stuck' | 'timeout' | 'stopped';
    summary: string;
    trouble?: string | null;
  };
  /** The suggestion id, for Undo; null when Undo is not offered (after an undo, or once it was undone). */
  undoId: string | null;
  /** A later note, e.g. "Undone by @bob at …". */
  footnote?: string;
}

const ROLLOUT_ICON: Record<AppliedProps['rollout']['phase'], string> = {
  progressing: ':hourglass_flowing_sand:',
  complete: ':white_check_mark:',
  stuck: ':x:',
  timeout: ':alarm_clock:',
  stopped: ':pause_button:',
};

/** Who applied (or undid) what and when, then the rollout, updated in place; Undo while it may be undone. */
export function appliedMessage(props: AppliedProps): BlockKitMessage {
  const did = props.op === 'apply' ? 'applied the fix to' : 'undid the fix on';
  const head = `:wrench: ${mention(props.userId)} ${did} ${workloadWords(props.workload, props.container)} at ${dateToken(props.at)}${props.identity ? ` (as ${code(props.identity, 200)})` : ''}.`;
  const rolloutLine = `${ROLLOUT_ICON[props.rollout.phase]} Rollout: ${untrusted(props.rollout.summary, 800)}${props.rollout.trouble ? `\n:warning: ${untrusted(props.rollout.trouble, 800)}` : ''}`;
  const blocks: KnownBlock[] = [section(head), section(diffText(props.diff)), section(rolloutLine)];
  if (props.footnote) blocks.push(context(props.footnote));
  if (props.undoId) blocks.push(actions([button('Undo', APPLY_IDS.undo, props.undoId, 'danger')]));
  const text = `${props.op === 'apply' ? 'Fix applied to' : 'Fix undone on'} ${workloadPlain(props.workload)}: rollout ${props.rollout.phase}`;
  return { text: plainText(text), blocks };
}

/** The change was sent and refused (the API's permission or validation): nothing changed. */
export function failedMessage(props: ApplyRequest & { reason: string }): BlockKitMessage {
  const line = `${mention(props.userId)} asked to ${props.op === 'apply' ? 'apply the fix to' : 'undo the fix on'} ${workloadWords(props.workload, props.container)}, and the Kubernetes API refused: nothing was changed.`;
  return {
    text: `Not ${props.op === 'apply' ? 'applied' : 'undone'}: the Kubernetes API refused`,
    blocks: [section(`:x: ${line}`), section(codeBlock(truncate(props.reason, 2500)))],
  };
}

/** "Undone by @bob at …" for the applied message's footnote. */
export function undoneNote(userId: string, at: number): string {
  return `:leftwards_arrow_with_hook: Undone by ${mention(userId)} at ${dateToken(at)}: see below.`;
}
