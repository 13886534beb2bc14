// Block Kit messages for the Slack bot, besides the diagnosis itself (diagnosis-blocks.ts) and Apply
// fix (apply-blocks.ts): progress and failure, the alert group's parent, the slash command's answers.
// Pure: props in, `{ text, blocks }` out. Built from the primitives in block-kit.ts, which escape
// what comes from the cluster and keep every message inside Slack's limits.
import type { KnownBlock } from '@slack/types';
import { plural } from '../core/format';
import { ACTION_IDS } from './action-ids';
import {
  actions,
  blockTextSize,
  button,
  capBlocks,
  context,
  LIMITS,
  mention,
  messageText,
  packBullets,
  safeLink,
  section,
  untrusted,
  type BlockKitMessage,
} from './block-kit';
import { code, escapeMrkdwn, oneLine, truncate } from './escape';

// The names handlers, jobs and tests import from here (rerunValue: the one encoding of the Re-run value).
export { ACTION_IDS, rerunValue } from './action-ids';
export { blockTextSize, LIMITS, type BlockKitMessage } from './block-kit';
export {
  confidenceBar,
  diagnosisMessage,
  responseUrlText,
  type DiagnosisMessageOptions,
} from './diagnosis-blocks';

export type ProgressStage = 'queued' | 'resolving' | 'gathering' | 'querying-prometheus' | 'classifying';

export interface TargetRef {
  namespace: string;
  pod: string;
  container?: string;
}

export interface GroupParentProps {
  clusterName: string;
  alertName: string;
  status: 'firing' | 'resolved';
  workloads: Array<{ key: string; label: string; status: string; link?: string }>;
  undiagnosable: Array<{ label: string; why: string }>;
  notOomCount: number;
  commandBy?: { userId: string; text: string };
  /** An incident about one namespace, or a storm folding many (its title then summarises). */
  scope?: { kind: 'namespace'; namespace: string } | { kind: 'storm'; namespaces: number };
  /** Alerts Alertmanager left out of its deliveries (max_alerts). */
  truncatedAlerts?: number;
}

function targetCode(t: TargetRef): string {
  return code(`${t.namespace}/${t.pod}`, 320);
}

function targetWords(t: TargetRef): string {
  return `${targetCode(t)}${t.container ? ` (container ${code(t.container, 100)})` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Progress and failure

const STAGES: Record<ProgressStage, { words: string; step: number | null }> = {
  queued: { words: 'waiting in the queue…', step: null },
  resolving: { words: 'finding the pod…', step: 1 },
  gathering: { words: 'reading the pod, its events and its node…', step: 2 },
  'querying-prometheus': { words: 'querying Prometheus…', step: 3 },
  classifying: { words: 'working out the cause…', step: 4 },
};
const STEP_COUNT = 4;

/** The placeholder reply while the job runs; chat.update it with the next stage, then with the diagnosis. */
export function progressMessage(target: TargetRef, stage: ProgressStage, attempt?: number): BlockKitMessage {
  const s = STAGES[stage] ?? STAGES.queued;
  const step = s.step === null ? '' : ` (step ${s.step} of ${STEP_COUNT})`;
  const retry = attempt !== undefined && attempt > 1 ? ` (retry ${attempt - 1})` : '';
  const line = `Diagnosing ${targetWords(target)}: ${s.words}${step}${retry}`;
  return { text: messageText(line), blocks: [section(`:hourglass_flowing_sand: ${line}`)] };
}

/** The reply when a job gives up: the reason in words, and a Re-run button. */
export function failureMessage(
  target: TargetRef,
  reason: string,
  opts: { rerunValue: string },
): BlockKitMessage {
  const line = `Could not diagnose ${targetWords(target)}: ${escapeMrkdwn(truncate(oneLine(reason) || 'unknown error', 1500))}`;
  return {
    text: messageText(line),
    blocks: [
      section(`:x: ${line}`),
      actions([button('Re-run diagnosis', ACTION_IDS.rerun, opts.rerunValue)]),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// The alert group's parent message

/** The parent message of an alert group (or of a /oom request): one line per workload, linking its reply. */
export function groupParentMessage(props: GroupParentProps): BlockKitMessage {
  const cluster = code(props.clusterName, 100);
  let title: string;
  let text: string;
  if (props.commandBy) {
    const typed = oneLine(props.commandBy.text);
    const command = typed.startsWith('/') ? typed : `/oom ${typed}`;
    title = `:mag: ${code(command, 300)}, asked by ${mention(props.commandBy.userId)} in cluster ${cluster}`;
    text = `${escapeMrkdwn(truncate(command, 300))}, asked by ${mention(props.commandBy.userId)}`;
  } else {
    const scope = props.scope;
    const alert =
      scope?.kind === 'storm'
        ? `OOM storm: ${plural(props.workloads.length, 'workload')} in ${plural(scope.namespaces, 'namespace')}`
        : escapeMrkdwn(truncate(oneLine(props.alertName) || 'alert', 150));
    const where =
      scope?.kind === 'namespace'
        ? `in ${code(scope.namespace, 63)}, cluster ${cluster}`
        : `in cluster ${cluster}`;
    title =
      props.status === 'resolved'
        ? `:white_check_mark: Resolved: *${alert}* ${where}`
        : `:rotating_light: *${alert}* ${where}`;
    const whereText =
      scope?.kind === 'namespace'
        ? `in ${escapeMrkdwn(scope.namespace)}, cluster ${escapeMrkdwn(truncate(oneLine(props.clusterName), 100))}`
        : `in cluster ${escapeMrkdwn(truncate(oneLine(props.clusterName), 100))}`;
    text =
      scope?.kind === 'storm'
        ? `${props.status === 'resolved' ? 'Resolved: ' : ''}${alert}, ${whereText}`
        : `${props.status === 'resolved' ? 'Resolved: ' : ''}${alert} ${whereText}: ${plural(props.workloads.length, 'workload')}`;
  }

  const blocks: KnownBlock[] = [section(title)];
  const lines = props.workloads.map((w) => {
    const link = w.link ? safeLink(w.link, 'reply') : null;
    return `${code(w.label, 200)}: ${escapeMrkdwn(truncate(oneLine(w.status), 300))}${link ? ` · ${link}` : ''}`;
  });
  // Leave room for the undiagnosable list (at most 1500 characters) and the not-OOM note.
  const workloadChars = LIMITS.blockText - blockTextSize(blocks) - 1700;
  for (const t of packBullets(lines, {
    maxBlocks: LIMITS.blocks - 3,
    maxLines: lines.length,
    totalChars: workloadChars,
  }))
    blocks.push(section(t));
  if (props.undiagnosable.length > 0) {
    blocks.push(
      section(
        packBullets(
          props.undiagnosable.map(
            (u) => `${code(u.label, 200)}: ${escapeMrkdwn(truncate(oneLine(u.why), 300))}`,
          ),
          { title: ':grey_question: *Could not diagnose*', maxLines: 30, maxChars: 1500 },
        )[0] ?? ' ',
      ),
    );
  }
  if (props.truncatedAlerts && props.truncatedAlerts > 0) {
    blocks.push(
      context(
        `:scissors: Alertmanager left out ${plural(props.truncatedAlerts, 'alert')} of this group (its receiver's max_alerts); they are not listed here`,
      ),
    );
  }
  if (props.notOomCount > 0) {
    blocks.push(
      context(
        props.notOomCount === 1
          ? '1 crash loop was not an OOM kill'
          : `${props.notOomCount} crash loops were not OOM kills`,
      ),
    );
  }
  return { text: messageText(text), blocks: capBlocks(blocks, 0) };
}

// ---------------------------------------------------------------------------------------------
// The Alertmanager webhook's notice

/**
 * Said in the alert channel when the webhook refused a payload: Alertmanager does not resend it, so
 * the alerts in it would otherwise be lost unseen. `reason` may quote the payload; `fix` is ours.
 */
export function webhookRefusedMessage(reason: string, fix: string): BlockKitMessage {
  const line = `:warning: oomdoctor refused a webhook from Alertmanager (${untrusted(reason, 400)}). Alertmanager does not resend a refused payload, so the OOM alerts in it will not be diagnosed. ${escapeMrkdwn(oneLine(fix))}`;
  return { text: messageText(line), blocks: [section(line)] };
}

// ---------------------------------------------------------------------------------------------
// The slash command's ephemeral answers

/** "Which pod?" when a bare pod name matched several pods: one button per match. */
export function podPickerMessage(
  query: string,
  matches: Array<{ namespace: string; pod: string }>,
): BlockKitMessage {
  const q = code(query, 300);
  if (matches.length === 0) {
    const line = `No pod named ${q} in the namespaces this bot may read. Try ${code('/oom <namespace>/<pod>')}.`;
    return { text: messageText(line), blocks: [section(`:mag: ${line}`)] };
  }
  const shown = matches.slice(0, LIMITS.actionsElements);
  const line = `${plural(matches.length, 'pod')} ${matches.length === 1 ? 'matches' : 'match'} ${q}. Which one?`;
  const blocks: KnownBlock[] = [
    section(`:mag: ${line}`),
    actions(
      shown.map((m, i) =>
        button(`${m.namespace}/${m.pod}`, `${ACTION_IDS.pickPodPrefix}${i}`, `${m.namespace}/${m.pod}`),
      ),
    ),
  ];
  if (matches.length > shown.length) {
    blocks.push(
      context(
        `…and ${matches.length - shown.length} more matched: type ${code('/oom <namespace>/<pod>')} to name one exactly.`,
      ),
    );
  }
  return { text: messageText(line), blocks };
}

/**
 * A namespace the bot is not allowed to read (OOM_NAMESPACES), named by /oom or holding the pod it
 * found; `allowed`, when given, lists those it may read.
 */
export function namespaceRefusedMessage(namespace: string, allowed?: readonly string[]): BlockKitMessage {
  const may =
    allowed && allowed.length > 0
      ? ` It may read: ${truncate(allowed.map((n) => code(n, 63)).join(', '), 2000)}.`
      : '';
  const line = `Namespace ${code(namespace, 63)} is not one this bot may look into.${may}`;
  return { text: messageText(line), blocks: [section(`:no_entry: ${line}`)] };
}

/** /oom's text is not a target: the parser's reason (which quotes what was typed), and the forms. */
export function badTargetMessage(reason: string, commandName = '/oom'): BlockKitMessage {
  const c = oneLine(commandName).replace(/`/g, '') || '/oom';
  const forms = ['<namespace>/<pod>', '<pod>', '<namespace>/deploy/<name>'].map((f) => code(`${c} ${f}`));
  const line = `:warning: ${escapeMrkdwn(truncate(oneLine(reason) || 'that is not a target', 1000))}\nTry ${forms[0]}, ${forms[1]} or ${forms[2]}.`;
  return { text: messageText(line), blocks: [section(line)] };
}

/**
 * Something the person sent cannot be used (a slash command payload, a button's value, a picked
 * pod): `what` says which, in our words; the way out is to type the command.
 */
export function unusableRequestMessage(what: string, commandName = '/oom'): BlockKitMessage {
  const c = oneLine(commandName).replace(/`/g, '') || '/oom';
  const line = `:warning: ${escapeMrkdwn(oneLine(what))} Run ${code(`${c} <namespace>/<pod>`)} instead.`;
  return { text: messageText(line), blocks: [section(line)] };
}

/** /oom could not be queued (Redis down): nothing was started, so the person should ask again. */
export function queueUnavailableMessage(): BlockKitMessage {
  const line = ':x: The diagnosis queue is not available right now. Try again in a minute.';
  return { text: messageText(line), blocks: [section(line)] };
}

/**
 * A /oom that failed before its thread existed, said to the person who typed it. `typed` is their
 * text as typed: a backtick or a `<!channel>` in it neither breaks the message nor pings anyone.
 */
export function commandFailedMessage(typed: string, reason: string): BlockKitMessage {
  const line = `:x: Could not diagnose ${code(typed, 320)}: ${escapeMrkdwn(truncate(oneLine(reason) || 'unknown error', 1500))}`;
  return { text: messageText(line), blocks: [section(line)] };
}

/** Usage of the slash command. */
export function helpMessage(commandName = '/oom'): BlockKitMessage {
  const c = oneLine(commandName).replace(/`/g, '') || '/oom';
  const cmd = (rest: string) => code(`${c} ${rest}`.trim(), 200);
  const lines = [
    `${cmd('<namespace>/<pod>')}: diagnose one pod`,
    `${cmd('<pod>')}: find the pod by name in any namespace`,
    `${cmd('<namespace>/deploy/<name>')}: the workload's most recently killed pod; also ${code('sts/', 10)}, ${code('ds/', 10)} and ${code('cronjob/', 10)}`,
    `${cmd('help')}: this message`,
  ];
  const intro = `:stethoscope: ${code(c, 60)} tells you why a container was killed with exit 137 (OOMKilled or not) and what to change, in a thread in this channel.`;
  return {
    text: messageText(`${escapeMrkdwn(c)}: why a container was OOMKilled, and what to change`),
    blocks: [section(intro), section(packBullets(lines, { title: '*Usage*' })[0] ?? '*Usage*')],
  };
}

/** The ephemeral acknowledgement of a /oom request. `target` is what the user typed. */
export function commandAck(target: string): BlockKitMessage {
  const line = `Diagnosing ${code(target, 320)}… the answer will appear in this channel.`;
  return { text: messageText(line), blocks: [section(`:hourglass_flowing_sand: ${line}`)] };
}
