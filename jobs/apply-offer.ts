// When a diagnosis is posted: whether it gets an "Apply fix" button, and if so the suggestion stored
// under the button's random id, with a snapshot of what the diagnosis saw of the workload.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClusterReader } from '../src/adapters/kubernetes';
import { namespaceRefusal } from '../src/apply/authorize';
import type { ApplyConfig } from '../src/apply/config';
import type { SuggestionRecord } from '../src/apply/types';
import {
  desiredChange,
  findContainer,
  gitOpsManager,
  helmRelease,
  isPatchableKind,
  snapshotOf,
  unpatchableReason,
} from '../src/apply/workload';
import type { StateStore } from '../src/bot/store';
import type { Diagnosis } from '../src/core/types';
import { gitOpsReason } from '../src/slack/apply-blocks';
import type { DiagnosisMessageOptions } from '../src/slack/blocks';

export const SUGGESTION_TTL_MS = 7 * 24 * 3_600_000;

export type ApplyOptions = Pick<
  DiagnosisMessageOptions,
  'applyEnabled' | 'suggestionId' | 'applyUnavailableReason'
>;

/** A random id for the button: 144 bits, URL-safe, nothing in it but chance. */
export function newSuggestionId(): string {
  return randomBytes(18).toString('base64url');
}

export const SUGGESTION_ID = /^[A-Za-z0-9_-]{16,64}$/;

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
  const unpatchable = unpatchableReason(kind, namespace, name);
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
  switch (s.state) {
    case 'open':
      return { applyEnabled: true, suggestionId: s.id };
    case 'applying':
    case 'applied':
      return {
        applyEnabled: false,
        applyUnavailableReason:
          'the fix has been applied: the thread below follows the rollout, and has Undo',
      };
    case 'undoing':
    case 'undone':
      return {
        applyEnabled: false,
        applyUnavailableReason:
          'the fix was applied and then undone: re-run the diagnosis for a new suggestion',
      };
    case 'stale':
      return {
        applyEnabled: false,
        applyUnavailableReason: `the workload changed since this diagnosis (${s.staleReason ?? 'its spec moved on'}): re-run the diagnosis for a suggestion that fits it`,
      };
  }
}
