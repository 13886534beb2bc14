// The worker's side: one handler for every job kind, dispatching to the module of that kind. A job
// ends when its answer is on Slack; cosmetic writes (progress, parent counts) never hold it.
import type { Logger } from 'pino';
import type { ClusterReader } from '../src/adapters/kubernetes';
import { botJobSchema, type BotJob } from '../src/bot/jobs';
import { PermanentJobError, type JobHandler, type JobMeta } from '../src/bot/queue';
import { isPermanent } from '../src/core/errors';
import type { DiagnoseDeps } from '../src/diagnose';
import { handleDiagnoseAlert, type AlertDiagnosisDeps } from './alert-diagnosis';
import { handleApply, handleApplyPreview, type ApplyDeps } from './apply-job';
import { checkRollout } from './apply-rollout';
import { handleCommand, handleRerun } from './command-job';
import { handleAlertGroup } from './incidents';
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
    if (!parsed.success)
      throw new PermanentJobError(
        `job ${meta.id} has data this version cannot read: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      );
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
      log[permanent || meta.attempt >= meta.maxAttempts ? 'error' : 'warn'](
        { err: (error as Error).message, permanent },
        'job failed',
      );
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
