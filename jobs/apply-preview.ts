// The apply-preview job, behind the modal: every check, then a server-side dry run of the very
// patch (so an admission webhook, validation or a quota that would refuse it is caught first), then
// the modal shows the diff, or why not. Nothing is changed and nothing is claimed.
import { auditBase } from '../src/apply/audit';
import { stateRefusal } from '../src/apply/suggestion';
import { containerState, diffStates, findContainer } from '../src/apply/workload';
import type { ApplyPreviewJob } from '../src/bot/jobs';
import type { JobMeta } from '../src/bot/queue';
import type { ApiObject } from '../src/core/kubernetes-types';
import { confirmView, refusedView } from '../src/slack/apply-blocks';
import { check, refusalOf, refuse, tellExpired, updateViewQuietly, type Checked } from './apply-checks';
import type { ApplyDeps } from './apply-job';

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
    await tellExpired(deps, op, job.viewId);
    return;
  }
  const base = auditBase(deps.config.clusterName, record, op, userId);
  const problem = stateRefusal(record, op);
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
    const refusal = refusalOf(error);
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
