// The worker's side of "Apply fix". Two jobs:
// - apply-preview: behind the modal. Every check (state, GitOps, the race guard, the Kubernetes
//   identity and its permission) and a server-side dry run of the very patch, then the modal shows
//   the diff, or why not.
// - apply: the change. A claim on the suggestion first (one change for a double click, a retried
//   interaction or two people at once), the checks again, the patch with a resourceVersion
//   precondition, the thread told who applied what, then the rollout followed in one message.
// Undo is the same two jobs with op "undo": it restores the values recorded before the fix.
import type { Logger } from 'pino';
import { ForbiddenError } from '../src/adapters/errors';
import {
  ConflictError,
  missingPermission,
  PatchRejectedError,
  resourceOf,
  type ClusterWriter,
} from '../src/adapters/cluster-writer';
import type { ApiObject } from '../src/adapters/kubernetes-objects';
import type { SlackInteractive } from '../src/adapters/slack-interactive';
import type { SlackPoster } from '../src/adapters/slack';
import type { AuditInput, AuditLog } from '../src/apply/audit';
import { identityFor } from '../src/apply/authorize';
import type { KubeIdentity } from '../src/apply/config';
import { podTrouble, rolloutStatus } from '../src/apply/rollout';
import type {
  ApplyOp,
  ContainerState,
  DiffLine,
  SuggestionRecord,
  WorkloadSnapshot,
} from '../src/apply/types';
import {
  changesSince,
  containerState,
  diffStates,
  findContainer,
  gitOpsManager,
  hasState,
  patchTo,
  snapshotOf,
  targetState,
} from '../src/apply/workload';
import type { BotConfig } from '../src/bot/config';
import type { ApplyJob, ApplyPreviewJob } from '../src/bot/jobs';
import type { JobMeta } from '../src/bot/queue';
import type { StateStore } from '../src/bot/store';
import { formatDuration } from '../src/core/duration';
import {
  appliedMessage,
  confirmView,
  doneView,
  failedMessage,
  raceMessage,
  refusalMessage,
  refusedView,
  undoneNote,
  type AppliedProps,
} from '../src/slack/apply-blocks';

export interface ApplyDeps {
  config: BotConfig;
  store: StateStore;
  slack: SlackPoster;
  writer: ClusterWriter;
  interactive: SlackInteractive;
  audit: AuditLog;
  logger: Logger;
  /** How often the rollout is read while it is followed. */
  pollMs: number;
  /** Aborted when the process stops: the rollout is no longer followed. */
  stopping: AbortSignal;
  /** Re-renders the diagnosis message, so its button matches the suggestion's state. */
  refreshDiagnosis: (channel: string, ts: string) => Promise<void>;
  now?: () => number;
}

/** Something a person can act on went wrong: said in the modal and the thread, audited, not retried. */
class Stop extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly headline: string,
  ) {
    super(message);
  }
}

const now = (deps: ApplyDeps) => deps.now?.() ?? Date.now();

function auditBase(
  record: SuggestionRecord,
  op: ApplyOp,
  userId: string,
  deps: ApplyDeps,
): Omit<AuditInput, 'event'> {
  return {
    op,
    user: userId,
    cluster: deps.config.clusterName,
    suggestionId: record.id,
    diagnosisId: record.diagnosisId,
    workload: record.workload,
    container: record.container,
  };
}

/** The change as the suggestion describes it, before the live object is read (for a refusal's audit line). */
function intendedDiff(record: SuggestionRecord, op: ApplyOp): DiffLine[] {
  if (op === 'undo' && record.applied) return diffStates(record.applied.after, record.applied.before);
  const memory = (section: 'requests' | 'limits'): string => {
    const value = (record.snapshot.resources[section] as Record<string, unknown> | undefined)?.memory;
    return typeof value === 'string' || typeof value === 'number' ? String(value) : '(none)';
  };
  const lines: DiffLine[] = [];
  const { change } = record;
  if (change.requestsMemory && change.requestsMemory !== memory('requests'))
    lines.push({ field: 'requests.memory', before: memory('requests'), after: change.requestsMemory });
  if (change.limitsMemory && change.limitsMemory !== memory('limits'))
    lines.push({ field: 'limits.memory', before: memory('limits'), after: change.limitsMemory });
  for (const e of change.env)
    lines.push({ field: `env ${e.name}`, before: '(as diagnosed)', after: e.value });
  if (change.args) lines.push({ field: 'args', before: '(as diagnosed)', after: '(heap flag rewritten)' });
  return lines;
}

async function updateViewQuietly(
  deps: ApplyDeps,
  viewId: string | null,
  view: Parameters<SlackInteractive['updateView']>[1],
): Promise<void> {
  if (!viewId) return;
  // The person may have closed the modal: not a failure of the job.
  await deps.interactive
    .updateView(viewId, view)
    .catch((error: Error) => deps.logger.debug({ err: error.message }, 'could not update the Apply modal'));
}

function stateProblem(record: SuggestionRecord, op: ApplyOp): string | null {
  if (op === 'apply') {
    switch (record.state) {
      case 'open':
        return null;
      case 'applying':
        return `the fix is being applied by ${record.claim?.userId ?? 'someone'} right now`;
      case 'applied':
        return `the fix was already applied by ${record.applied?.by ?? 'someone'}`;
      case 'undoing':
      case 'undone':
        return 'the fix was applied and then undone: re-run the diagnosis for a new suggestion';
      case 'stale':
        return `the workload changed since this diagnosis (${record.staleReason ?? 'its spec moved on'}): re-run the diagnosis`;
    }
  }
  switch (record.state) {
    case 'applied':
      return null;
    case 'undoing':
      return `the fix is being undone by ${record.claim?.userId ?? 'someone'} right now`;
    case 'undone':
      return `the fix was already undone by ${record.undone?.by ?? 'someone'}`;
    default:
      return 'the fix has not been applied, so there is nothing to undo';
  }
}

interface Checked {
  live: ApiObject;
  list: 'containers' | 'initContainers';
  before: ContainerState;
  target: ContainerState;
  patch: Record<string, unknown>;
  identity: KubeIdentity | null;
}

/**
 * The checks both jobs run against the live workload: it exists, no GitOps controller owns it, it
 * has not changed since the snapshot, and the identity may patch it. Throws Stop with the reason.
 */
async function check(
  record: SuggestionRecord,
  op: ApplyOp,
  userId: string,
  userGroups: string[],
  deps: ApplyDeps,
  expected: WorkloadSnapshot,
): Promise<Checked> {
  const { kind, namespace, name } = record.workload;
  const live = await deps.writer.read(kind, namespace, name);
  if (!live) throw new Stop('gone', `${kind} ${namespace}/${name} no longer exists`, 'The workload is gone.');
  const gitops = gitOpsManager(live, { argocdInstanceLabel: deps.config.apply.argocdInstanceLabel });
  if (gitops) {
    throw new Stop(
      'gitops',
      `${kind} ${namespace}/${name} is managed by ${gitops.tool} (${gitops.evidence}): a change made in the cluster would be reverted. Commit the change to its Git repository instead.`,
      `${gitops.tool} manages this workload.`,
    );
  }
  const reasons = changesSince(expected, kind, live, record.container);
  if (reasons.length > 0)
    throw Object.assign(
      new Stop(
        'race',
        reasons.join('; '),
        `The workload changed since ${op === 'apply' ? 'the diagnosis' : 'the fix was applied'}: nothing was changed.`,
      ),
      { reasons },
    );
  const found = findContainer(kind, live, record.container);
  if (!found)
    throw new Stop(
      'gone',
      `container ${record.container} is no longer in ${kind} ${namespace}/${name}`,
      'The container is gone.',
    );

  let identity: KubeIdentity | null = null;
  if (deps.config.apply.impersonate) {
    const mapped = identityFor(deps.config.apply, userId, userGroups);
    if (!mapped)
      throw new Stop(
        'no-identity',
        'APPLY_IMPERSONATE_MAP maps no Kubernetes identity to you or your user groups, and changes are only made as the person who asks',
        'No Kubernetes identity is mapped to you.',
      );
    identity = mapped.identity;
    const { group, resource } = resourceOf(kind);
    const review = await deps.writer.canI({ verb: 'patch', group, resource, namespace, name }, identity);
    if (!review.allowed) {
      throw new Stop(
        'forbidden',
        `Kubernetes RBAC does not allow ${identity.user} to patch ${resource}.${group} in namespace ${namespace}${review.reason ? ` (${review.reason})` : ''}`,
        `${identity.user} may not patch this ${kind}.`,
      );
    }
  }

  const before = containerState(found.container, record.change);
  const target =
    op === 'apply' ? targetState(before, record.change) : (record.applied?.before as ContainerState);
  return {
    live,
    list: found.list,
    before,
    target,
    patch: patchTo(kind, found.list, record.container, target),
    identity,
  };
}

function describeRefusal(error: unknown): { code: string; text: string } | null {
  if (error instanceof ForbiddenError)
    return { code: 'forbidden', text: `missing permission: ${missingPermission(error.message)}` };
  if (error instanceof PatchRejectedError) return { code: 'invalid', text: error.message };
  return null;
}

// ---------------------------------------------------------------------------------------------
// apply-preview

export async function handleApplyPreview(
  job: ApplyPreviewJob,
  meta: JobMeta,
  deps: ApplyDeps,
): Promise<void> {
  try {
    await preview(job, deps);
  } catch (error) {
    // Passing trouble is retried by the queue; when it gives up, the modal must not say "Checking…" for ever.
    if (meta.attempt >= meta.maxAttempts)
      await updateViewQuietly(
        deps,
        job.viewId,
        refusedView(job.op, 'The checks could not run: nothing was changed.', (error as Error).message),
      );
    throw error;
  }
}

async function preview(job: ApplyPreviewJob, deps: ApplyDeps): Promise<void> {
  const { op, userId } = job;
  const record = await deps.store.getSuggestion(job.suggestionId);
  if (!record) {
    await updateViewQuietly(
      deps,
      job.viewId,
      doneView(op, false, 'This suggestion has expired. Re-run the diagnosis for a new one.'),
    );
    return;
  }
  const base = auditBase(record, op, userId, deps);
  const problem = stateProblem(record, op);
  if (problem) {
    await deps.audit.write({ ...base, event: 'refused', reason: problem, code: 'state' });
    await updateViewQuietly(
      deps,
      job.viewId,
      refusedView(op, op === 'apply' ? 'This fix cannot be applied.' : 'This fix cannot be undone.', problem),
    );
    return;
  }
  const expected = op === 'apply' ? record.snapshot : record.applied?.snapshot;
  if (!expected) throw new Error(`suggestion ${record.id} is applied but has no snapshot`);
  let checked: Checked;
  try {
    checked = await check(record, op, userId, job.userGroups, deps, expected);
  } catch (error) {
    await refuse(error, record, op, userId, job.viewId, deps, { preview: true });
    return;
  }
  const { kind, namespace, name } = record.workload;
  let dry: ApiObject;
  try {
    dry = await deps.writer.patch(record.workload, checked.patch, { dryRun: true, as: checked.identity });
  } catch (error) {
    const refusal = describeRefusal(error);
    if (!refusal) throw error;
    await deps.audit.write({
      ...base,
      identity: checked.identity?.user ?? null,
      event: 'dry-run-failed',
      reason: refusal.text,
      code: refusal.code,
      diff: diffStates(checked.before, checked.target),
    });
    await updateViewQuietly(
      deps,
      job.viewId,
      refusedView(op, `The API server refused the change in a dry run: nothing was changed.`, refusal.text),
    );
    return;
  }
  const after = findContainer(kind, dry, record.container);
  const diff = diffStates(
    checked.before,
    after ? containerState(after.container, record.change) : checked.target,
  );
  deps.logger.info(
    { suggestionId: record.id, op, workload: `${kind} ${namespace}/${name}` },
    'dry run passed; asking for confirmation',
  );
  await updateViewQuietly(
    deps,
    job.viewId,
    confirmView({
      op,
      workload: record.workload,
      container: record.container,
      diff,
      metadata: { s: record.id, op },
      helmRelease: record.helmRelease,
      configMapSettings: op === 'apply' ? record.configMapSettings : [],
      identity: checked.identity?.user ?? null,
    }),
  );
}

/** Says why a check stopped the change: in the modal, the thread for a race, the audit log. */
async function refuse(
  error: unknown,
  record: SuggestionRecord,
  op: ApplyOp,
  userId: string,
  viewId: string | null,
  deps: ApplyDeps,
  options: { preview: boolean },
): Promise<void> {
  const base = auditBase(record, op, userId, deps);
  if (!(error instanceof Stop)) {
    const refusal = describeRefusal(error);
    if (!refusal) throw error;
    await deps.audit.write({
      ...base,
      event: options.preview ? 'dry-run-failed' : 'failed',
      reason: refusal.text,
      code: refusal.code,
      diff: intendedDiff(record, op),
    });
    await updateViewQuietly(
      deps,
      viewId,
      refusedView(op, 'The Kubernetes API refused: nothing was changed.', refusal.text),
    );
    return;
  }
  await deps.audit.write({
    ...base,
    event: 'refused',
    reason: error.message,
    code: error.code,
    diff: intendedDiff(record, op),
  });
  await updateViewQuietly(deps, viewId, refusedView(op, error.headline, error.message));
  if (error.code === 'race') {
    const reasons = (error as Stop & { reasons?: string[] }).reasons ?? [error.message];
    if (op === 'apply') {
      await deps.store.updateSuggestion(record.id, (s) =>
        s.state === 'open' || s.state === 'applying'
          ? { ...s, state: 'stale', claim: null, staleReason: reasons.join('; ') }
          : null,
      );
      await deps.refreshDiagnosis(record.message.channel, record.message.ts).catch(() => undefined);
    }
    await deps.slack.post(
      record.message.channel,
      raceMessage({
        op,
        userId,
        workload: record.workload,
        container: record.container,
        reasons,
        target: record.target,
      }),
      record.message.threadTs,
    );
  } else if (!options.preview) {
    await deps.slack
      .ephemeral(record.message.channel, userId, refusalMessage(op, error.message))
      .catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// apply

const ATTEMPTS_ON_CONFLICT = 3;

export async function handleApply(job: ApplyJob, meta: JobMeta, deps: ApplyDeps): Promise<void> {
  const { op, userId } = job;
  const from = op === 'apply' ? 'open' : 'applied';
  const claimed = await deps.store.updateSuggestion(job.suggestionId, (s) => {
    if (s.claim?.jobId === meta.id) return null; // our own claim: a retried job goes on
    if (s.state !== from) return null;
    return {
      ...s,
      state: op === 'apply' ? 'applying' : 'undoing',
      claim: { op, jobId: meta.id, userId, at: now(deps) },
    };
  });
  if (!claimed) {
    await updateViewQuietly(
      deps,
      job.viewId,
      doneView(op, false, 'This suggestion has expired. Re-run the diagnosis for a new one.'),
    );
    return;
  }
  let record = claimed.record;
  if (record.claim?.jobId !== meta.id) {
    // Someone else's change won (a double click, a retried interaction, two people at once).
    const problem = stateProblem(record, op) ?? 'another request is handling it';
    await deps.audit.write({
      ...auditBase(record, op, userId, deps),
      event: 'refused',
      reason: problem,
      code: 'duplicate',
    });
    await updateViewQuietly(deps, job.viewId, doneView(op, false, `Nothing was changed: ${problem}.`));
    if (record.claim?.userId !== userId && record.applied?.by !== userId)
      await deps.slack
        .ephemeral(record.message.channel, userId, refusalMessage(op, problem))
        .catch(() => undefined);
    return;
  }

  const release = async (state: SuggestionRecord['state']) => {
    await deps.store.updateSuggestion(record.id, (s) =>
      s.claim?.jobId === meta.id ? { ...s, state, claim: null } : null,
    );
  };
  const expected = op === 'apply' ? record.snapshot : record.applied?.snapshot;
  if (!expected) {
    await release(from);
    throw new Error(`suggestion ${record.id} has no snapshot to compare with`);
  }

  let result: ApiObject | null = null;
  let checked: Checked | null = null;
  try {
    for (let attempt = 1; attempt <= ATTEMPTS_ON_CONFLICT && !result; attempt += 1) {
      // A retried job whose patch went through before it died: the workload already has the values.
      const recorded = record.claim?.before;
      if (recorded) {
        const live = await deps.writer.read(
          record.workload.kind,
          record.workload.namespace,
          record.workload.name,
        );
        const container = live
          ? findContainer(record.workload.kind, live, record.container)?.container
          : undefined;
        const target =
          op === 'apply' ? targetState(recorded, record.change) : (record.applied?.before as ContainerState);
        if (live && container && hasState(container, target)) {
          result = live;
          checked = { live, list: record.list, before: recorded, target, patch: {}, identity: null };
          break;
        }
      }
      checked = await check(record, op, userId, job.userGroups, deps, expected);
      const before = checked.before;
      const stored = await deps.store.updateSuggestion(record.id, (s) =>
        s.claim?.jobId === meta.id ? { ...s, claim: { ...s.claim, before } } : null,
      );
      if (stored) record = stored.record;
      // The resourceVersion read makes the patch conditional: a change in between answers 409, and
      // the checks run again (a status update of a crash-looping workload moves it too).
      const patch = {
        ...checked.patch,
        metadata: { resourceVersion: String(checked.live.metadata?.resourceVersion ?? '') },
      };
      try {
        result = await deps.writer.patch(record.workload, patch, { dryRun: false, as: checked.identity });
      } catch (error) {
        if (error instanceof ConflictError && attempt < ATTEMPTS_ON_CONFLICT) continue;
        throw error;
      }
    }
  } catch (error) {
    const permanent =
      error instanceof Stop || describeRefusal(error) !== null || error instanceof ConflictError;
    if (!permanent && meta.attempt < meta.maxAttempts) throw error; // passing trouble: the queue retries, the claim stays ours
    // A race on apply: refuse() marks the suggestion stale, with what changed. Anything else gives it back.
    if (!(error instanceof Stop && error.code === 'race' && op === 'apply')) await release(from);
    if (error instanceof Stop) return refuse(error, record, op, userId, job.viewId, deps, { preview: false });
    const refusal = describeRefusal(error) ?? { code: 'error', text: (error as Error).message };
    await deps.audit.write({
      ...auditBase(record, op, userId, deps),
      identity: checked?.identity?.user ?? null,
      event: 'failed',
      reason: refusal.text,
      code: refusal.code,
      diff: checked ? diffStates(checked.before, checked.target) : null,
    });
    await deps.slack
      .post(
        record.message.channel,
        failedMessage({
          op,
          userId,
          workload: record.workload,
          container: record.container,
          reason: refusal.text,
        }),
        record.message.threadTs,
      )
      .catch(() => undefined);
    await updateViewQuietly(
      deps,
      job.viewId,
      doneView(op, false, `The Kubernetes API refused: ${refusal.text}. Nothing was changed.`),
    );
    return;
  }
  if (!result || !checked) throw new Error('the patch loop ended without a result');
  await recordSuccess(record, op, job, meta, deps, result, checked);
}

async function recordSuccess(
  record: SuggestionRecord,
  op: ApplyOp,
  job: ApplyJob,
  meta: JobMeta,
  deps: ApplyDeps,
  result: ApiObject,
  checked: Checked,
): Promise<void> {
  const { kind } = record.workload;
  const at = now(deps);
  const resultContainer = findContainer(kind, result, record.container)?.container ?? {};
  const after = containerState(resultContainer, record.change);
  const diff = diffStates(checked.before, after);
  const snapshot = snapshotOf(kind, result, record.container) ?? record.snapshot;
  const generation = Number(result.metadata?.generation ?? 0);
  const identity = checked.identity?.user ?? null;
  const props: AppliedProps = {
    op,
    userId: job.userId,
    at,
    workload: record.workload,
    container: record.container,
    diff,
    identity,
    rollout: { phase: 'progressing', summary: 'starting…' },
    undoId: op === 'apply' ? record.id : null,
  };
  // The message first, its ts stored with the new state: a retried job updates it, never posts twice.
  const existingTs =
    op === 'apply' ? (record.applied?.messageTs ?? null) : (record.undone?.messageTs ?? null);
  const posted = existingTs
    ? { ts: existingTs }
    : await deps.slack.post(record.message.channel, appliedMessage(props), record.message.threadTs);
  const stored = await deps.store.updateSuggestion(record.id, (s) => {
    if (s.claim?.jobId !== meta.id) return null;
    if (op === 'apply')
      return {
        ...s,
        state: 'applied',
        claim: null,
        applied: {
          by: job.userId,
          at,
          identity,
          before: checked.before,
          after,
          snapshot,
          messageTs: posted.ts,
        },
      };
    return {
      ...s,
      state: 'undone',
      claim: null,
      undone: { by: job.userId, at, identity, messageTs: posted.ts },
    };
  });
  const current = stored?.record ?? record;
  await deps.audit.write({
    ...auditBase(record, op, job.userId, deps),
    identity,
    event: op === 'apply' ? 'applied' : 'undone',
    diff,
  });
  await updateViewQuietly(
    deps,
    job.viewId,
    doneView(op, true, `${op === 'apply' ? 'Applied' : 'Undone'}. The diagnosis thread follows the rollout.`),
  );
  await deps
    .refreshDiagnosis(record.message.channel, record.message.ts)
    .catch((error: Error) =>
      deps.logger.warn({ err: error.message }, 'could not refresh the diagnosis message'),
    );
  if (op === 'undo' && current.applied?.messageTs) {
    // The applied message loses its Undo button and says who undid it.
    const a = current.applied;
    await deps.slack
      .update(
        record.message.channel,
        a.messageTs as string,
        appliedMessage({
          op: 'apply',
          userId: a.by,
          at: a.at,
          workload: record.workload,
          container: record.container,
          diff: diffStates(a.before, a.after),
          identity: a.identity,
          rollout: { phase: 'complete', summary: 'superseded by the undo below' },
          undoId: null,
          footnote: undoneNote(job.userId, at),
        }),
      )
      .catch(() => undefined);
  }
  deps.logger.info(
    { suggestionId: record.id, op, generation },
    `fix ${op === 'apply' ? 'applied' : 'undone'}; following the rollout`,
  );
  await followRollout(record, op, props, posted.ts, generation, at, deps);
}

// ---------------------------------------------------------------------------------------------
// The rollout

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function selectorText(labels: Record<string, unknown>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
}

/** Updates the one message in place until the rollout completes, sticks, times out, or someone undoes it. */
async function followRollout(
  record: SuggestionRecord,
  op: ApplyOp,
  props: AppliedProps,
  ts: string,
  generation: number,
  since: number,
  deps: ApplyDeps,
): Promise<void> {
  const { kind, namespace, name } = record.workload;
  const deadline = since + deps.config.apply.rolloutTimeoutMs;
  let shown = '';
  const show = async (rollout: AppliedProps['rollout']) => {
    const key = JSON.stringify(rollout);
    if (key === shown) return;
    shown = key;
    const state = await deps.store.getSuggestion(record.id).catch(() => null);
    // Undo is offered while the fix stands; once someone undoes it, that job owns the messages.
    const undoId = op === 'apply' && state?.state === 'applied' ? record.id : null;
    await deps.slack
      .update(record.message.channel, ts, appliedMessage({ ...props, rollout, undoId }))
      .catch((error: Error) =>
        deps.logger.warn({ err: error.message }, 'could not update the rollout message'),
      );
  };
  for (;;) {
    if (deps.stopping.aborted) {
      await show({
        phase: 'stopped',
        summary: `oomdoctor stopped before the rollout finished: see kubectl -n ${namespace} rollout status ${kind.toLowerCase()}/${name}`,
      });
      return;
    }
    if (op === 'apply') {
      const state = await deps.store.getSuggestion(record.id).catch(() => null);
      if (state && state.state !== 'applied') return; // undone meanwhile: the undo follows its own rollout
    }
    let obj: ApiObject | null = null;
    try {
      obj = await deps.writer.read(kind, namespace, name);
    } catch (error) {
      deps.logger.warn({ err: (error as Error).message }, 'could not read the rollout');
    }
    if (obj) {
      const status = rolloutStatus(kind, obj, generation);
      let trouble: string | null = null;
      const labels = obj.spec?.selector?.matchLabels;
      if (status.phase !== 'complete' && kind !== 'CronJob' && labels && Object.keys(labels).length > 0) {
        trouble = podTrouble(
          await deps.writer.listPods(namespace, selectorText(labels)).catch(() => []),
          since,
        );
      }
      if (status.phase !== 'progressing') {
        await show({ ...status, trouble });
        return;
      }
      if (now(deps) >= deadline) {
        await show({
          phase: 'timeout',
          summary: `still rolling out after ${formatDuration(deps.config.apply.rolloutTimeoutMs)} (${status.summary}): see kubectl -n ${namespace} rollout status ${kind.toLowerCase()}/${name}`,
          trouble,
        });
        return;
      }
      await show({ ...status, trouble });
    } else if (now(deps) >= deadline) {
      await show({
        phase: 'timeout',
        summary: `the ${kind} could not be read for ${formatDuration(deps.config.apply.rolloutTimeoutMs)}`,
      });
      return;
    }
    await sleep(deps.pollMs, deps.stopping);
  }
}
