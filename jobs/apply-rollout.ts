// After a change: one thread message follows the rollout, edited in place, until it completes,
// sticks (with the reason: a progress deadline, a quota, a new pod in trouble), times out, the
// process stops, or someone undoes the fix (the undo then follows its own rollout).
import { podTrouble, rolloutStatus } from '../src/apply/rollout';
import type { ApplyOp, SuggestionRecord } from '../src/apply/types';
import { formatDuration } from '../src/core/duration';
import { labelSelector, type ApiObject } from '../src/core/kubernetes-types';
import { appliedMessage, type AppliedProps } from '../src/slack/apply-blocks';
import { nowOf } from './apply-checks';
import type { ApplyDeps } from './apply-job';

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

/** Updates the one message in place until the rollout completes, sticks, times out, or someone undoes it. */
export async function followRollout(
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
      const spec = obj.spec as { selector?: { matchLabels?: Record<string, unknown> } } | undefined;
      const labels = spec?.selector?.matchLabels;
      if (status.phase !== 'complete' && kind !== 'CronJob' && labels && Object.keys(labels).length > 0) {
        trouble = podTrouble(
          await deps.writer.listPods(namespace, labelSelector(labels)).catch(() => []),
          since,
        );
      }
      if (status.phase !== 'progressing') {
        await show({ ...status, trouble });
        return;
      }
      if (nowOf(deps) >= deadline) {
        await show({
          phase: 'timeout',
          summary: `still rolling out after ${formatDuration(deps.config.apply.rolloutTimeoutMs)} (${status.summary}): see kubectl -n ${namespace} rollout status ${kind.toLowerCase()}/${name}`,
          trouble,
        });
        return;
      }
      await show({ ...status, trouble });
    } else if (nowOf(deps) >= deadline) {
      await show({
        phase: 'timeout',
        summary: `the ${kind} could not be read for ${formatDuration(deps.config.apply.rolloutTimeoutMs)}`,
      });
      return;
    }
    await sleep(deps.pollMs, deps.stopping);
  }
}
