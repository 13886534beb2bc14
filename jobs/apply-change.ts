// The apply job: the change itself (Undo is the same job with op "undo"). A claim on the suggestion
// first (one change for a double click, a retried interaction or two people at once), the checks
// again, the patch with a resourceVersion precondition, the thread told who changed what, then the
// rollout followed in one message (by delayed jobs: this job ends once the first check is queued).
import { auditBase } from '../src/apply/audit';
import { claim, claimStates, release, rememberBefore, stateRefusal } from '../src/apply/suggestion';
import type { ApplyOp, SuggestionRecord } from '../src/apply/types';
import { containerState, diffStates, findContainer, hasState, snapshotOf } from '../src/apply/workload';
import type { ApplyJob } from '../src/bot/jobs';
import type { JobMeta } from '../src/bot/queue';
import { errorCodeOf, isPermanent } from '../src/core/errors';
import type { ApiObject } from '../src/core/kubernetes-types';
import {
  appliedMessage,
  doneView,
  failedMessage,
  refusalMessage,
  undoneNote,
  type AppliedProps,
} from '../src/slack/apply-blocks';
import {
  ApplyStop,
  check,
  nowOf,
  refusalOf,
  refuse,
  targetOf,
  tellExpired,
  updateViewQuietly,
  type Checked,
} from './apply-checks';
import type { ApplyDeps } from './apply-job';
import { firstRolloutCheck, startFollowingRollout } from './apply-rollout';

const ATTEMPTS_ON_CONFLICT = 3;

export async function handleApply(job: ApplyJob, meta: JobMeta, deps: ApplyDeps): Promise<void> {
  const { op, userId } = job;
  const { from } = claimStates(op);
  const claimed = await deps.store.updateSuggestion(
    job.suggestionId,
    claim(op, meta.id, userId, nowOf(deps)),
  );
  if (!claimed) {
    await tellExpired(deps, op, job.viewId);
    return;
  }
  let record = claimed.record;
  if (record.claim?.jobId !== meta.id) {
    // Someone else's change won (a double click, a retried interaction, two people at once).
    const problem = stateRefusal(record, op) ?? 'another request is handling it';
    await deps.audit.write({
      ...auditBase(deps.config.clusterName, record, op, userId),
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

  const giveBack = () => deps.store.updateSuggestion(record.id, release(meta.id, from));
  const expected = op === 'apply' ? record.snapshot : record.applied?.snapshot;
  if (!expected) {
    await giveBack();
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
        const target = targetOf(record, op, recorded);
        if (live && container && hasState(container, target)) {
          result = live;
          checked = { live, list: record.list, before: recorded, target, patch: {}, identity: null };
          break;
        }
      }
      checked = await check(record, op, userId, job.userGroups, deps, expected);
      const stored = await deps.store.updateSuggestion(record.id, rememberBefore(meta.id, checked.before));
      if (stored) record = stored.record;
      // The resourceVersion read makes the patch conditional: a change in between answers 409, and
      // the checks run again (a status update of a crash-looping workload moves it too).
      const read = checked.live.metadata as { resourceVersion?: string | number } | undefined;
      const patch = { ...checked.patch, metadata: { resourceVersion: String(read?.resourceVersion ?? '') } };
      try {
        result = await deps.writer.patch(record.workload, patch, { dryRun: false, as: checked.identity });
      } catch (error) {
        if (errorCodeOf(error) === 'kube-conflict' && attempt < ATTEMPTS_ON_CONFLICT) continue;
        throw error;
      }
    }
  } catch (error) {
    // A conflict that outlived its attempts is final too: the workload keeps moving under us.
    const final = isPermanent(error) || errorCodeOf(error) === 'kube-conflict';
    if (!final && meta.attempt < meta.maxAttempts) throw error; // passing trouble: the queue retries, the claim stays ours
    // A race on apply: refuse() marks the suggestion stale, with what changed. Anything else gives it back.
    if (!(error instanceof ApplyStop && error.reason === 'race' && op === 'apply')) await giveBack();
    if (error instanceof ApplyStop)
      return refuse(error, record, op, userId, job.viewId, deps, { preview: false });
    const refusal = refusalOf(error) ?? { code: 'error', text: (error as Error).message };
    await deps.audit.write({
      ...auditBase(deps.config.clusterName, record, op, userId),
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

/** The change went through: the thread, the suggestion's new state, the audit line, then the rollout. */
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
  const at = nowOf(deps);
  const resultContainer = findContainer(kind, result, record.container)?.container ?? {};
  const after = containerState(resultContainer, record.change);
  const diff = diffStates(checked.before, after);
  const snapshot = snapshotOf(kind, result, record.container) ?? record.snapshot;
  const generation = Number((result.metadata as { generation?: unknown } | undefined)?.generation ?? 0);
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
    ...auditBase(deps.config.clusterName, record, op, job.userId),
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
  if (op === 'undo') await markAppliedMessageUndone(current, job.userId, at, deps);
  deps.logger.info(
    { suggestionId: record.id, op, generation },
    `fix ${op === 'apply' ? 'applied' : 'undone'}; following the rollout`,
  );
  await startFollowingRollout(firstRolloutCheck(record, op, props, posted.ts, generation), deps);
}

/** After an undo, the applied message loses its Undo button and says who undid it. */
async function markAppliedMessageUndone(
  record: SuggestionRecord,
  undoneBy: string,
  at: number,
  deps: ApplyDeps,
): Promise<void> {
  const applied = record.applied;
  if (!applied?.messageTs) return;
  await deps.slack
    .update(
      record.message.channel,
      applied.messageTs,
      appliedMessage({
        op: 'apply',
        userId: applied.by,
        at: applied.at,
        workload: record.workload,
        container: record.container,
        diff: diffStates(applied.before, applied.after),
        identity: applied.identity,
        rollout: { phase: 'complete', summary: 'superseded by the undo below' },
        undoId: null,
        footnote: undoneNote(undoneBy, at),
      }),
    )
    .catch(() => undefined);
}
