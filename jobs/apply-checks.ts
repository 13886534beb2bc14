// What the Apply jobs check before touching a workload, and how a refusal is told: the live
// workload exists, no GitOps controller owns it, it has not changed since the snapshot, the
// identity may patch it. A refusal is said in the modal, audited, and, for a race, in the thread.
import type { ApiObject, KubeIdentity } from '../src/core/kubernetes-types';
import { missingPermission, resourceOf } from '../src/adapters/cluster-writer';
import type { SlackInteractive } from '../src/adapters/slack-interactive';
import { auditBase } from '../src/apply/audit';
import { identityFor } from '../src/apply/authorize';
import { markStale } from '../src/apply/suggestion';
import type {
  ApplyOp,
  ContainerList,
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
  patchTo,
  targetState,
} from '../src/apply/workload';
import { OomdoctorError } from '../src/core/errors';
import { doneView, raceMessage, refusalMessage, refusedView } from '../src/slack/apply-blocks';
import type { ApplyDeps } from './apply-job';

/**
 * A check stopped the change: something a person can act on, said in the modal and the thread,
 * audited, never retried. `reason` is the audit code ("gone", "gitops", "race", "no-identity",
 * "forbidden"); `headline` the modal's one line above the message.
 */
export class ApplyStop extends OomdoctorError {
  constructor(
    readonly reason: string,
    message: string,
    readonly headline: string,
    /** For a race: each thing that changed since the snapshot. */
    readonly changes: string[] = [],
  ) {
    super('job-permanent', message);
    this.name = 'ApplyStop';
  }
}

export interface Checked {
  live: ApiObject;
  list: ContainerList;
  before: ContainerState;
  target: ContainerState;
  patch: Record<string, unknown>;
  identity: KubeIdentity | null;
}

export const nowOf = (deps: ApplyDeps): number => deps.now?.() ?? Date.now();

/** The values the operation leads to: the recommendation for apply, the recorded ones for undo. */
export function targetOf(record: SuggestionRecord, op: ApplyOp, before: ContainerState): ContainerState {
  return op === 'apply' ? targetState(before, record.change) : (record.applied?.before as ContainerState);
}

/** Runs the checks against the live workload; throws ApplyStop with the reason. */
export async function check(
  record: SuggestionRecord,
  op: ApplyOp,
  userId: string,
  userGroups: string[],
  deps: ApplyDeps,
  expected: WorkloadSnapshot,
): Promise<Checked> {
  const { kind, namespace, name } = record.workload;
  const live = await deps.writer.read(kind, namespace, name);
  if (!live)
    throw new ApplyStop('gone', `${kind} ${namespace}/${name} no longer exists`, 'The workload is gone.');
  const gitops = gitOpsManager(live, { argocdInstanceLabel: deps.config.apply.argocdInstanceLabel });
  if (gitops) {
    throw new ApplyStop(
      'gitops',
      `${kind} ${namespace}/${name} is managed by ${gitops.tool} (${gitops.evidence}): a change made in the cluster would be reverted. Commit the change to its Git repository instead.`,
      `${gitops.tool} manages this workload.`,
    );
  }
  const changes = changesSince(expected, kind, live, record.container);
  if (changes.length > 0)
    throw new ApplyStop(
      'race',
      changes.join('; '),
      `The workload changed since ${op === 'apply' ? 'the diagnosis' : 'the fix was applied'}: nothing was changed.`,
      changes,
    );
  const found = findContainer(kind, live, record.container);
  if (!found)
    throw new ApplyStop(
      'gone',
      `container ${record.container} is no longer in ${kind} ${namespace}/${name}`,
      'The container is gone.',
    );

  let identity: KubeIdentity | null = null;
  if (deps.config.apply.impersonate) {
    const mapped = identityFor(deps.config.apply, userId, userGroups);
    if (!mapped)
      throw new ApplyStop(
        'no-identity',
        'APPLY_IMPERSONATE_MAP maps no Kubernetes identity to you or your user groups, and changes are only made as the person who asks',
        'No Kubernetes identity is mapped to you.',
      );
    identity = mapped.identity;
    const { group, resource } = resourceOf(kind);
    const review = await deps.writer.canI({ verb: 'patch', group, resource, namespace, name }, identity);
    if (!review.allowed) {
      throw new ApplyStop(
        'forbidden',
        `Kubernetes RBAC does not allow ${identity.user} to patch ${resource}.${group} in namespace ${namespace}${review.reason ? ` (${review.reason})` : ''}`,
        `${identity.user} may not patch this ${kind}.`,
      );
    }
  }

  const before = containerState(found.container, record.change);
  const target = targetOf(record, op, before);
  return {
    live,
    list: found.list,
    before,
    target,
    patch: patchTo(kind, found.list, record.container, target),
    identity,
  };
}

/** The API refused the patch itself (RBAC, validation, admission): the audit code and the words. */
export function refusalOf(error: unknown): { code: string; text: string } | null {
  if (!(error instanceof OomdoctorError)) return null;
  switch (error.code) {
    case 'kube-forbidden':
      return { code: 'forbidden', text: `missing permission: ${missingPermission(error.message)}` };
    case 'kube-rejected':
      return { code: 'invalid', text: error.message };
    default:
      return null;
  }
}

/** The change as the suggestion describes it, before the live object is read (for a refusal's audit line). */
export function intendedDiff(record: SuggestionRecord, op: ApplyOp): DiffLine[] {
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
  if (change.command)
    lines.push({ field: 'command', before: '(as diagnosed)', after: '(heap flag rewritten)' });
  return lines;
}

export async function updateViewQuietly(
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

/** The suggestion is gone (expired after 7 days, or never stored): the modal says so. */
export async function tellExpired(deps: ApplyDeps, op: ApplyOp, viewId: string | null): Promise<void> {
  await updateViewQuietly(
    deps,
    viewId,
    doneView(op, false, 'This suggestion has expired. Re-run the diagnosis for a new one.'),
  );
}

/** Says why a check stopped the change: in the modal, the thread for a race, the audit log. */
export async function refuse(
  error: unknown,
  record: SuggestionRecord,
  op: ApplyOp,
  userId: string,
  viewId: string | null,
  deps: ApplyDeps,
  options: { preview: boolean },
): Promise<void> {
  const base = auditBase(deps.config.clusterName, record, op, userId);
  if (!(error instanceof ApplyStop)) {
    const refusal = refusalOf(error);
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
    code: error.reason,
    diff: intendedDiff(record, op),
  });
  await updateViewQuietly(deps, viewId, refusedView(op, error.headline, error.message));
  if (error.reason === 'race') {
    const changes = error.changes.length > 0 ? error.changes : [error.message];
    if (op === 'apply') {
      await deps.store.updateSuggestion(record.id, markStale(changes.join('; ')));
      await deps.refreshDiagnosis(record.message.channel, record.message.ts).catch(() => undefined);
    }
    await deps.slack.post(
      record.message.channel,
      raceMessage({
        op,
        userId,
        workload: record.workload,
        container: record.container,
        reasons: changes,
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
