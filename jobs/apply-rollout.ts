// After a change: one thread message follows the rollout until it completes, sticks (with the
// reason: a progress deadline, a quota, a new pod in trouble), times out, or someone undoes the fix
// (the undo then follows its own rollout). Following is a chain of short jobs, not a held worker
// slot: each check reads the workload once, hands at most one edit to the outbox, and queues the
// next check with a delay. On Redis a check waiting when the bot stops runs after it starts again;
// the in-memory queue runs it at close, and it then says oomdoctor stopped following.
import { createHash } from 'node:crypto';
import {
  judgeRolloutCheck,
  podTrouble,
  rolloutStatus,
  unfollowedLine,
  type RolloutLine,
  type RolloutStatus,
} from '../src/apply/rollout';
import type { ApplyOp, SuggestionRecord } from '../src/apply/types';
import type { RolloutFollowJob } from '../src/bot/jobs';
import type { JobMeta } from '../src/bot/queue';
import { labelSelector, type ApiObject } from '../src/core/kubernetes-types';
import { appliedMessage, type AppliedProps } from '../src/slack/apply-blocks';
import type { ApplyDeps } from './apply-job';

export type RolloutFollowDeps = Pick<
  ApplyDeps,
  'config' | 'store' | 'slack' | 'writer' | 'logger' | 'pollMs' | 'stopping' | 'queue' | 'now'
>;

const nowOf = (deps: RolloutFollowDeps): number => deps.now?.() ?? Date.now();

/** Each check has its own id: bull keeps finished jobs, and a second add under an old id is ignored. */
export function rolloutCheckId(job: RolloutFollowJob): string {
  return `rollout-${job.suggestionId}-g${job.generation}-${job.check}`;
}

/** The first check of the rollout a change started, shown in the message posted at `ts`. */
export function firstRolloutCheck(
  record: SuggestionRecord,
  op: ApplyOp,
  props: AppliedProps,
  ts: string,
  generation: number,
): RolloutFollowJob {
  return {
    kind: 'rollout-follow',
    receivedAt: props.at,
    suggestionId: record.id,
    op,
    workload: { ...record.workload },
    container: props.container,
    generation,
    since: props.at,
    message: { channel: record.message.channel, ts },
    changedBy: props.userId,
    identity: props.identity,
    // Cut to what the message can show (values are shown up to 300 characters), so it fits the job's schema.
    diff: props.diff.slice(0, 500).map((l) => ({
      field: l.field.slice(0, 1000),
      before: l.before.slice(0, 1000),
      after: l.after.slice(0, 1000),
    })),
    check: 1,
    shown: '',
  };
}

/**
 * Queues the first check. The change itself is done and recorded, so a queue that refuses is not
 * the change's failure: the message says the rollout is not followed, and where to see it.
 */
export async function startFollowingRollout(job: RolloutFollowJob, deps: RolloutFollowDeps): Promise<void> {
  try {
    await deps.queue.add(job, rolloutCheckId(job));
  } catch (error) {
    deps.logger.error(
      { err: (error as Error).message, suggestionId: job.suggestionId },
      'could not queue the rollout checks',
    );
    await show(
      job,
      unfollowedLine(
        job.workload,
        `oomdoctor could not queue its checks of the rollout (${(error as Error).message})`,
      ),
      job.op === 'apply' ? job.suggestionId : null,
      deps,
    );
  }
}

/** One check: read, judge, show what changed, then the next check unless following is over. */
export async function checkRollout(
  job: RolloutFollowJob,
  meta: JobMeta,
  deps: RolloutFollowDeps,
): Promise<void> {
  const { kind, namespace, name } = job.workload;
  const state = await deps.store.getSuggestion(job.suggestionId).catch(() => null);
  // Once someone undoes the fix, the undo's job owns the messages and follows its own rollout.
  if (job.op === 'apply' && state && state.state !== 'applied') return;
  // Undo is offered while the fix stands.
  const undoId = job.op === 'apply' && state?.state === 'applied' ? job.suggestionId : null;

  let obj: ApiObject | null = null;
  try {
    obj = await deps.writer.read(kind, namespace, name);
  } catch (error) {
    deps.logger.warn({ err: (error as Error).message }, 'could not read the rollout');
  }
  let status: RolloutStatus | null = null;
  let trouble: string | null = null;
  if (obj) {
    status = rolloutStatus(kind, obj, job.generation);
    const spec = obj.spec as { selector?: { matchLabels?: Record<string, unknown> } } | undefined;
    const labels = spec?.selector?.matchLabels;
    if (status.phase !== 'complete' && kind !== 'CronJob' && labels && Object.keys(labels).length > 0) {
      trouble = podTrouble(
        await deps.writer.listPods(namespace, labelSelector(labels)).catch(() => []),
        job.since,
      );
    }
  }
  const { line, over } = judgeRolloutCheck({
    workload: job.workload,
    status,
    trouble,
    now: nowOf(deps),
    deadline: job.since + deps.config.apply.rolloutTimeoutMs,
    timeoutMs: deps.config.apply.rolloutTimeoutMs,
  });
  if (!over && deps.stopping.aborted && !deps.queue.durable) {
    // Nothing will run the next check: the message says so (awaited: the process is about to exit).
    await show(
      job,
      unfollowedLine(job.workload, 'oomdoctor stopped before the rollout finished'),
      undoId,
      deps,
    );
    return;
  }
  const digest = line ? digestOf(line) : job.shown;
  // Handed to the outbox, not waited for: edits of one message coalesce there, the newest wins.
  const sending = line && digest !== job.shown ? show(job, line, undoId, deps) : null;
  if (deps.stopping.aborted) await sending; // the process is about to exit: let the edit go out first
  if (over) return;

  const next: RolloutFollowJob = { ...job, receivedAt: nowOf(deps), check: job.check + 1, shown: digest };
  try {
    await deps.queue.add(next, rolloutCheckId(next), { delayMs: deps.pollMs });
  } catch (error) {
    if (meta.attempt < meta.maxAttempts) throw error; // the queue retries this check
    await show(
      job,
      unfollowedLine(
        job.workload,
        `oomdoctor could not queue its next check of the rollout (${(error as Error).message})`,
      ),
      undoId,
      deps,
    );
    throw error;
  }
}

function digestOf(line: RolloutLine): string {
  return createHash('sha256').update(JSON.stringify(line)).digest('base64url');
}

/** One edit of the rollout message; never rejects (a failed edit is logged: the message is cosmetic). */
function show(
  job: RolloutFollowJob,
  rollout: RolloutLine,
  undoId: string | null,
  deps: RolloutFollowDeps,
): Promise<void> {
  const message = appliedMessage({
    op: job.op,
    userId: job.changedBy,
    at: job.since,
    workload: job.workload,
    container: job.container,
    diff: job.diff,
    identity: job.identity,
    rollout,
    undoId,
  });
  return deps.slack
    .update(job.message.channel, job.message.ts, message, { priority: 'background' })
    .catch((error: Error) =>
      deps.logger.warn(
        { err: error.message, suggestionId: job.suggestionId },
        'could not update the rollout message',
      ),
    );
}
