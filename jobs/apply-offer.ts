// When a diagnosis is posted: whether it gets an "Apply fix" button, and if so the suggestion stored
// under the button's random id, with a snapshot of what the diagnosis saw of the workload.
import type { Logger } from 'pino';
import type { ClusterReader } from '../src/adapters/kubernetes';
import { namespaceRefusal } from '../src/apply/authorize';
import type { ApplyConfig } from '../src/config/apply';
import { buttonState, newSuggestionId, SUGGESTION_TTL_MS } from '../src/apply/suggestion';
import type { SuggestionRecord } from '../src/apply/types';
import {
  desiredChange,
  findContainer,
  gitOpsManager,
  helmRelease,
  snapshotOf,
  unpatchableReason,
} from '../src/apply/workload';
import type { StateStore } from '../src/bot/store';
import { isPatchableKind } from '../src/core/kubernetes-types';
import type { Diagnosis } from '../src/core/types';
import { gitOpsReason } from '../src/slack/apply-blocks';
import type { DiagnosisMessageOptions } from '../src/slack/blocks';

export type ApplyOptions = Pick<
  DiagnosisMessageOptions,
  'applyEnabled' | 'suggestionId' | 'applyUnavailableReason'
>;

/** The runtime settings of a diagnosis that live in a ConfigMap (the modal names their key). */
function configMapSettings(diagnosis: Diagnosis): Array<{ value: string; source: string }> {
  return diagnosis.current.runtime
    .filter((r) => /configmap/i.test(r.source))
    .map((r) => ({ value: r.value, source: r.source }));
}

/**
 * Decides the Apply button of a diagnosis about to be posted in `message`, and stores the suggestion
 * when there is one. `cluster` is the job's cached reader, so the workload read here is the very
 * object the diagnosis saw. Never fails the diagnosis: a problem here means no button, logged.
 */
export async function offerApply(
  diagnosis: Diagnosis,
  message: { channel: string; ts: string; threadTs: string },
  deps: { config: { apply: ApplyConfig }; store: StateStore; logger: Logger; now?: () => number },
  cluster: ClusterReader,
): Promise<ApplyOptions> {
  const config = deps.config.apply;
  const r = diagnosis.recommendation;
  if (!config.enabled || !r) return { applyEnabled: false };
  const { kind, namespace, name } = r.workload;
  const ns = namespaceRefusal(config, namespace);
  if (ns) return { applyEnabled: false, applyUnavailableReason: ns };
  const unpatchable = unpatchableReason(kind, namespace, name, r.workload.owner);
  if (unpatchable || !isPatchableKind(kind))
    return { applyEnabled: false, applyUnavailableReason: unpatchable ?? `${kind} cannot be patched` };
  try {
    const workload = await cluster.readWorkload(kind, namespace, name);
    if (!workload)
      return {
        applyEnabled: false,
        applyUnavailableReason: `${kind} ${namespace}/${name} could not be read, so there is nothing to compare a change with`,
      };
    const gitops = gitOpsManager(workload, { argocdInstanceLabel: config.argocdInstanceLabel });
    if (gitops)
      return {
        applyEnabled: false,
        applyUnavailableReason: gitOpsReason(gitops.tool, gitops.evidence, { kind, namespace, name }),
      };
    const snapshot = snapshotOf(kind, workload, r.container);
    const found = findContainer(kind, workload, r.container);
    if (!snapshot || !found)
      return {
        applyEnabled: false,
        applyUnavailableReason: `container ${r.container} is not in the pod template of ${kind} ${namespace}/${name}`,
      };
    const id = newSuggestionId();
    const record: SuggestionRecord = {
      id,
      createdAt: deps.now?.() ?? Date.now(),
      diagnosisId: `${message.channel}:${message.ts}`,
      message,
      target: { ...diagnosis.target },
      workload: { kind, namespace, name },
      container: r.container,
      list: found.list,
      recommendation: r,
      change: desiredChange(r),
      snapshot,
      helmRelease: helmRelease(workload),
      configMapSettings: configMapSettings(diagnosis),
      state: 'open',
      claim: null,
      applied: null,
      undone: null,
      staleReason: null,
    };
    await deps.store.setSuggestion(id, record, SUGGESTION_TTL_MS);
    return { applyEnabled: true, suggestionId: id };
  } catch (error) {
    deps.logger.warn(
      { err: (error as Error).message, workload: `${kind} ${namespace}/${name}` },
      'no Apply button: the suggestion could not be prepared',
    );
    return { applyEnabled: false };
  }
}

/** The button state of a message re-rendered later (a kill count, after Apply or Undo). */
export async function storedApplyOptions(
  store: StateStore,
  channel: string,
  ts: string,
): Promise<ApplyOptions> {
  const s = await store.getSuggestionForMessage(channel, ts).catch(() => null);
  if (!s) return { applyEnabled: false };
  const button = buttonState(s);
  return button.offered
    ? { applyEnabled: true, suggestionId: s.id }
    : { applyEnabled: false, applyUnavailableReason: button.reason };
}
