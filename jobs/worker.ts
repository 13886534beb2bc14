// The worker's side: one handler for every job kind, dispatching to the module of that kind. A job
// ends when its answer is on Slack; cosmetic writes (progress, parent counts) never hold it.
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ClusterReader } from '../src/adapters/kubernetes';
import { botJobSchema, type BotJob } from '../src/bot/jobs';
import {
  PermanentJobError,
  type FailedOutsideHandler,
  type JobHandler,
  type JobMeta,
} from '../src/bot/queue';
import { unfollowedLine } from '../src/apply/rollout';
import { claimStates, release } from '../src/apply/suggestion';
import type { ApplyOp, SuggestionRecord } from '../src/apply/types';
import { errorCodeOf, isPermanent } from '../src/core/errors';
import type { DiagnoseDeps } from '../src/diagnose';
import { rerunValue } from '../src/slack/action-ids';
import { appliedMessage, doneView } from '../src/slack/apply-blocks';
import { mention, section, untrusted, workloadWords } from '../src/slack/block-kit';
import { commandFailedMessage, failureMessage } from '../src/slack/blocks';
import {
  alertReplyKey,
  handleDiagnoseAlert,
  setLine,
  tellThread,
  type AlertDiagnosisDeps,
} from './alert-diagnosis';
import { handleApply } from './apply-change';
import type { ApplyDeps } from './apply-job';
import { handleApplyPreview } from './apply-preview';
import { checkRollout } from './apply-rollout';
import { handleCommand, handleRerun, tellUser } from './command-job';
import { failureInWords, stalledJobInWords, unreadableJobInWords } from './failure';
import { handleAlertGroup, podLineKey } from './incidents';
import { renderStored } from './publish';

export interface WorkerDeps extends AlertDiagnosisDeps {
  cluster: ClusterReader;
  engine: (cluster: ClusterReader) => DiagnoseDeps;
  /** What "Apply fix" jobs need (the cluster writer, modals, the audit log); absent when applying is off. */
  apply?: Omit<ApplyDeps, 'config' | 'store' | 'slack' | 'queue' | 'logger' | 'refreshDiagnosis'>;
}

export function createJobHandler(deps: WorkerDeps): JobHandler {
  return async (raw: BotJob, meta: JobMeta) => {
    const parsed = botJobSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const problem = `${issue?.path.join('.') || 'data'}: ${issue?.message ?? 'invalid'}`;
      // Told from whatever can still be read of it: where it came from, and where to answer.
      await tellFailedJob(raw, meta.id, unreadableJobInWords(problem), deps);
      throw new PermanentJobError(`job ${meta.id} has data this version cannot read: ${problem}`);
    }
    const job = parsed.data;
    const log = deps.logger.child({ jobId: meta.id, kind: job.kind, attempt: meta.attempt });
    try {
      switch (job.kind) {
        case 'alert-group':
          return await handleAlertGroup(job, deps);
        case 'diagnose-alert':
          return await handleDiagnoseAlert(job, meta, deps, log);
        case 'command':
          return await handleCommand(job, meta, deps, log);
        case 'rerun':
          return await handleRerun(job, meta, deps, log);
        case 'apply-preview':
          return await handleApplyPreview(job, meta, applyDeps(deps, log));
        case 'apply':
          return await handleApply(job, meta, applyDeps(deps, log));
        case 'rollout-follow':
          return await checkRollout(job, meta, applyDeps(deps, log));
      }
    } catch (error) {
      const permanent = isPermanent(error);
      const last = permanent || meta.attempt >= meta.maxAttempts;
      log[last ? 'error' : 'warn']({ err: (error as Error).message, permanent }, 'job failed');
      if (last && job.kind === 'alert-group') await tellGroupFailed(raw, meta.id, error, deps, log);
      throw permanent && !(error instanceof PermanentJobError)
        ? new PermanentJobError((error as Error).message, { cause: error })
        : error;
    }
  };
}

function applyDeps(deps: WorkerDeps, log: Logger): ApplyDeps {
  if (!deps.apply)
    throw new PermanentJobError(
      'an Apply job reached a worker where applying is not configured (APPLY_ENABLED)',
    );
  return {
    ...deps.apply,
    config: deps.config,
    store: deps.store,
    slack: deps.slack,
    queue: deps.queue,
    logger: log,
    refreshDiagnosis: (channel, ts) => renderStored(deps, channel, ts),
  };
}

/**
 * A group's job has no thread of its own to say its failure in: it goes to the alert channel, unless
 * Slack itself refused (the channel, the token): saying it there again would fail the same way.
 */
async function tellGroupFailed(
  raw: unknown,
  jobId: string,
  error: unknown,
  deps: WorkerDeps,
  log: Logger,
): Promise<void> {
  if (errorCodeOf(error) !== 'slack-refused') return tellFailedJob(raw, jobId, failureInWords(error), deps);
  deps.onUntold?.('channel', error);
  log.error({ err: (error as Error).message }, 'could not tell the alert channel that an alert group failed');
}

/** The queue's listener for jobs it failed itself (stalled too often): the user is told, as a handler would. */
export function tellFailedOutsideHandler(deps: WorkerDeps): FailedOutsideHandler {
  return async (raw, meta, reason) => {
    deps.logger.error({ jobId: meta.id, reason }, 'job failed outside its handler');
    await tellFailedJob(raw, meta.id, stalledJobInWords(reason), deps);
  };
}

// Only what telling needs, read leniently: the job may come from another version of oomdoctor.
const tellable = z.union([
  z.object({
    kind: z.literal('diagnose-alert'),
    groupId: z.string(),
    target: z.object({
      id: z.string(),
      namespace: z.string(),
      pod: z.string(),
      container: z.string().nullable().optional(),
    }),
  }),
  z.object({
    kind: z.literal('command'),
    channel: z.string(),
    userId: z.string(),
    text: z.string().default(''),
    responseUrl: z.string().nullable().default(null),
  }),
  z.object({
    kind: z.literal('rerun'),
    channel: z.string(),
    threadTs: z.string(),
    namespace: z.string(),
    pod: z.string(),
    container: z.string().nullable().optional(),
  }),
  z.object({
    kind: z.literal('alert-group'),
    alertName: z.string().default('an alert'),
    plan: z.object({ channel: z.string().nullable().optional() }).optional(),
  }),
  // Apply's jobs are said where the suggestion's diagnosis is (the store knows where).
  z.object({
    kind: z.enum(['apply', 'apply-preview']),
    suggestionId: z.string(),
    op: z.enum(['apply', 'undo']).catch('apply'),
    userId: z.string(),
    viewId: z.string().nullable().optional(),
  }),
  z.object({
    kind: z.literal('rollout-follow'),
    suggestionId: z.string(),
    op: z.enum(['apply', 'undo']).catch('apply'),
    message: z.object({ channel: z.string(), ts: z.string() }),
  }),
]);

/**
 * Says a job failed, where its own handler would have said it: the alert's thread (and its line in
 * the parent), the /oom thread or caller, the Re-run thread, or the alert channel for a group.
 * A failure to say it, or a job with nowhere to say it, is logged at error level and counted.
 */
export async function tellFailedJob(
  raw: unknown,
  jobId: string,
  words: string,
  deps: AlertDiagnosisDeps & Pick<WorkerDeps, 'apply'>,
): Promise<void> {
  const log = deps.logger.child({ jobId });
  const parsed = tellable.safeParse(raw);
  if (!parsed.success) {
    deps.onUntold?.('nowhere', new Error('the job names no thread, channel or caller'));
    log.error({ failure: words }, 'a job failed and names nowhere to say so');
    return;
  }
  const job = parsed.data;
  let via: 'thread' | 'channel' | 'response_url' | 'ephemeral' = 'thread';
  try {
    switch (job.kind) {
      case 'diagnose-alert': {
        const { namespace, pod } = job.target;
        const target = { namespace, pod, container: job.target.container ?? '' };
        const group = await deps.store.getGroup(job.groupId);
        if (!group?.ts) throw new Error(`the incident ${job.groupId} has no thread (expired?)`);
        await setLine(deps, job.groupId, podLineKey(namespace, pod), {
          namespace,
          label: `${namespace}/${pod}`,
          status: `could not diagnose: ${words}`,
        });
        // Counts and logs its own failure to tell.
        const where = { key: alertReplyKey(job.target.id), channel: group.channel, threadTs: group.ts };
        return await tellThread(deps, where, target, words, log);
      }
      case 'command': {
        const parent = await deps.slack.postedUnder(`cmd-parent-${jobId}`);
        if (parent) {
          const target = commandTarget(job.text);
          await deps.slack.show(`cmd-${jobId}`, parent.channel, parent.ts, failureFor(target, words), {
            priority: 'interactive',
          });
          return;
        }
        via = job.responseUrl ? 'response_url' : 'ephemeral';
        await tellUser({ ...job, receivedAt: 0 }, commandFailedMessage(job.text.trim(), words), deps);
        return;
      }
      case 'rerun': {
        const target = { namespace: job.namespace, pod: job.pod, container: job.container ?? '' };
        await deps.slack.show(`rerun-${jobId}`, job.channel, job.threadTs, failureFor(target, words), {
          priority: 'interactive',
        });
        return;
      }
      case 'alert-group': {
        via = 'channel';
        const channel = job.plan?.channel ?? deps.config.slack.alertChannel;
        await deps.slack.post(
          channel,
          { text: `:x: oomdoctor could not open the thread for ${job.alertName}: ${words}` },
          undefined,
          { key: `group-failed-${jobId}` },
        );
        return;
      }
      case 'apply':
      case 'apply-preview': {
        const record = await deps.store.getSuggestion(job.suggestionId);
        if (!record) throw new Error(`the suggestion ${job.suggestionId} is gone (expired?)`);
        if (job.kind === 'apply-preview') {
          // Only the person who pressed was waiting: the modal, and a line only they see.
          via = 'ephemeral';
          await updateModal(deps, job.viewId ?? null, doneView(job.op, false, previewFailedText(words)));
          await deps.slack.ephemeral(record.message.channel, job.userId, {
            text: `:x: ${previewFailedText(words)}`,
          });
          return;
        }
        await tellApplyFailed(record, job, jobId, words, deps);
        return;
      }
      case 'rollout-follow': {
        await tellRolloutUnfollowed(raw, job, jobId, words, deps);
        return;
      }
    }
  } catch (error) {
    deps.onUntold?.(via, error);
    log.error({ err: (error as Error).message, failure: words }, 'could not tell the user that a job failed');
  }
}

function previewFailedText(words: string): string {
  return `oomdoctor could not check this change: ${words}. Nothing was changed.`;
}

async function updateModal(
  deps: Pick<WorkerDeps, 'apply' | 'logger'>,
  viewId: string | null,
  view: ReturnType<typeof doneView>,
): Promise<void> {
  if (!viewId || !deps.apply) return;
  // The person may have closed the modal (or Slack expired it): the ephemeral line still says it.
  await deps.apply.interactive
    .updateView(viewId, view)
    .catch((error: Error) => deps.logger.debug({ err: error.message }, 'could not update the Apply modal'));
}

/**
 * An Apply or Undo that bull gave up on: said in the diagnosis' thread. Its claim is given back, so
 * the button can be pressed again; the patch may have gone through before the worker stopped, and
 * the next press then finds the workload changed and says so instead of patching it twice.
 */
async function tellApplyFailed(
  record: SuggestionRecord,
  job: { op: ApplyOp; userId: string; viewId?: string | null | undefined },
  jobId: string,
  words: string,
  deps: AlertDiagnosisDeps & Pick<WorkerDeps, 'apply'>,
): Promise<void> {
  const gaveBack = await deps.store.updateSuggestion(record.id, release(jobId, claimStates(job.op).from));
  const asked = `${mention(job.userId)} asked to ${job.op === 'apply' ? 'apply the fix to' : 'undo the fix on'} ${workloadWords(record.workload, record.container)}`;
  const line = `:x: ${asked}, and it did not finish: ${untrusted(words, 1500)}. The workload may have been changed before it stopped: check it before pressing ${job.op === 'apply' ? 'Apply' : 'Undo'} again.`;
  await deps.slack.post(
    record.message.channel,
    { text: line, blocks: [section(line)] },
    record.message.threadTs,
    { key: `apply-failed-${jobId}` },
  );
  await updateModal(
    deps,
    job.viewId ?? null,
    doneView(job.op, false, `It did not finish: ${words}. The diagnosis thread says what to check.`),
  );
  if (gaveBack?.changed)
    await renderStored(deps, record.message.channel, record.message.ts).catch((error: Error) =>
      deps.logger.warn({ err: error.message }, 'could not refresh the diagnosis message'),
    );
}

/**
 * A rollout check that bull gave up on: its message says oomdoctor stopped following the rollout,
 * and how to follow it by hand. From the job's own data when this version can read all of it;
 * otherwise as a reply in the diagnosis' thread, which the store knows.
 */
async function tellRolloutUnfollowed(
  raw: unknown,
  job: { suggestionId: string; op: ApplyOp },
  jobId: string,
  words: string,
  deps: AlertDiagnosisDeps,
): Promise<void> {
  const full = botJobSchema.safeParse(raw);
  const record = await deps.store.getSuggestion(job.suggestionId);
  if (full.success && full.data.kind === 'rollout-follow') {
    const check = full.data;
    const undoId = check.op === 'apply' && record?.state === 'applied' ? check.suggestionId : null;
    await deps.slack.update(
      check.message.channel,
      check.message.ts,
      appliedMessage({
        op: check.op,
        userId: check.changedBy,
        at: check.since,
        workload: check.workload,
        container: check.container,
        diff: check.diff,
        identity: check.identity,
        rollout: unfollowedLine(check.workload, `oomdoctor stopped following the rollout (${words})`),
        undoId,
      }),
      { priority: 'reply' },
    );
    return;
  }
  if (!record) throw new Error(`the suggestion ${job.suggestionId} is gone (expired?)`);
  const rollout = unfollowedLine(record.workload, `oomdoctor stopped following the rollout (${words})`);
  const line = `:warning: ${workloadWords(record.workload, record.container)}: ${untrusted(rollout.summary, 2000)}`;
  await deps.slack.post(
    record.message.channel,
    { text: line, blocks: [section(line)] },
    record.message.threadTs,
    { key: `rollout-failed-${jobId}` },
  );
}

/** What /oom named, as a target to word (a bare pod name was looked for in every namespace). */
function commandTarget(text: string): { namespace: string; pod: string; container: string } {
  const [first = '', ...rest] = text.trim().split('/');
  return rest.length > 0
    ? { namespace: first, pod: rest.join('/'), container: '' }
    : { namespace: '*', pod: first, container: '' };
}

function failureFor(target: { namespace: string; pod: string; container: string }, words: string) {
  return failureMessage(target, words, {
    rerunValue: rerunValue(target),
  });
}
