// How far a rollout has got, read from the workload's status the way `kubectl rollout status` reads
// it. Pure: the workload object in, one state and a line for people out.
import { formatDuration } from '../core/duration';
import type { ApiObject, PatchableKind, WorkloadId } from '../core/kubernetes-types';

export type RolloutPhase = 'progressing' | 'complete' | 'stuck';

export interface RolloutStatus {
  phase: RolloutPhase;
  /** "2 of 3 new pods available", "rolled out: 3 of 3 pods updated and available". */
  summary: string;
}

/** The rollout line of the thread message; "timeout" and "stopped" are the follower's own ends. */
export interface RolloutLine {
  phase: RolloutPhase | 'timeout' | 'stopped';
  summary: string;
  trouble?: string | null;
}

/** What one check of a followed rollout saw. */
export interface RolloutCheck {
  workload: WorkloadId;
  /** The workload's status this time; null when it could not be read. */
  status: RolloutStatus | null;
  /** Why new pods are not coming up (podTrouble), when that was looked at. */
  trouble: string | null;
  now: number;
  /** When following gives up: the change's time plus APPLY_ROLLOUT_TIMEOUT. */
  deadline: number;
  timeoutMs: number;
}

/** Where a person follows the rollout once oomdoctor no longer does. */
export function rolloutStatusCommand(workload: WorkloadId): string {
  return `kubectl -n ${workload.namespace} rollout status ${workload.kind.toLowerCase()}/${workload.name}`;
}

/**
 * What one check concludes: the line to show (null: nothing to say yet) and whether following is
 * over (the rollout completed or is stuck, or the deadline passed).
 */
export function judgeRolloutCheck(check: RolloutCheck): { line: RolloutLine | null; over: boolean } {
  const { workload, status, trouble, timeoutMs } = check;
  const late = check.now >= check.deadline;
  if (!status) {
    if (!late) return { line: null, over: false };
    return {
      line: {
        phase: 'timeout',
        summary: `the ${workload.kind} could not be read for ${formatDuration(timeoutMs)}`,
      },
      over: true,
    };
  }
  if (status.phase !== 'progressing') return { line: { ...status, trouble }, over: true };
  if (late)
    return {
      line: {
        phase: 'timeout',
        summary: `still rolling out after ${formatDuration(timeoutMs)} (${status.summary}): see ${rolloutStatusCommand(workload)}`,
        trouble,
      },
      over: true,
    };
  return { line: { ...status, trouble }, over: false };
}

/** The line left when oomdoctor stops following before the rollout ended (`why`: the process stopped, …). */
export function unfollowedLine(workload: WorkloadId, why: string): RolloutLine {
  return { phase: 'stopped', summary: `${why}: see ${rolloutStatusCommand(workload)}` };
}

function n(value: unknown): number {
  const x = Number(value ?? 0);
  return Number.isFinite(x) ? x : 0;
}

function condition(obj: ApiObject, type: string): ApiObject | undefined {
  return (obj.status?.conditions ?? []).find((c: ApiObject) => c?.type === type);
}

/**
 * The rollout of `generation` (the one the patch produced). Until the controller has observed it,
 * the status describes the previous spec, so it is "progressing" whatever it says.
 */
export function rolloutStatus(kind: PatchableKind, obj: ApiObject, generation: number): RolloutStatus {
  if (kind === 'CronJob') {
    const schedule = obj.spec?.schedule ? ` (schedule ${String(obj.spec.schedule)})` : '';
    const suspended =
      obj.spec?.suspend === true ? ' The CronJob is suspended, so no run is due until it is resumed.' : '';
    return {
      phase: 'complete',
      summary: `the next run${schedule} takes the new values; a Job already running keeps the old ones.${suspended}`,
    };
  }
  const observed = n(obj.status?.observedGeneration);
  if (observed < generation)
    return {
      phase: 'progressing',
      summary: `waiting for the ${kind} controller to pick up the change (generation ${generation})`,
    };

  if (kind === 'Deployment') {
    const progressing = condition(obj, 'Progressing');
    if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
      return {
        phase: 'stuck',
        summary: `stuck: ${String(progressing.message ?? 'the progress deadline was exceeded')}`,
      };
    }
    const failure = condition(obj, 'ReplicaFailure');
    if (failure?.status === 'True')
      return {
        phase: 'stuck',
        summary: `stuck: ${String(failure.message ?? failure.reason ?? 'replicas cannot be created')}`,
      };
    const want = n(obj.spec?.replicas ?? 1);
    const updated = n(obj.status?.updatedReplicas);
    const total = n(obj.status?.replicas);
    const available = n(obj.status?.availableReplicas);
    if (updated < want) return { phase: 'progressing', summary: `${updated} of ${want} pods updated` };
    if (total > updated)
      return {
        phase: 'progressing',
        summary: `${updated} of ${want} pods updated; ${total - updated} old pod${total - updated === 1 ? '' : 's'} still terminating`,
      };
    if (available < updated)
      return { phase: 'progressing', summary: `${available} of ${updated} updated pods available` };
    return {
      phase: 'complete',
      summary: `rolled out: ${updated} of ${want} pod${want === 1 ? '' : 's'} updated and available`,
    };
  }

  if (kind === 'StatefulSet') {
    if (obj.spec?.updateStrategy?.type === 'OnDelete') {
      return {
        phase: 'complete',
        summary:
          'the StatefulSet updates pods only when they are deleted (updateStrategy OnDelete): delete them one by one to take the new values',
      };
    }
    const want = n(obj.spec?.replicas ?? 1);
    const partition = n(obj.spec?.updateStrategy?.rollingUpdate?.partition);
    const updated = n(obj.status?.updatedReplicas);
    const ready = n(obj.status?.readyReplicas);
    if (partition > 0) {
      const target = Math.max(0, want - partition);
      if (updated < target)
        return {
          phase: 'progressing',
          summary: `${updated} of ${target} pods updated (partition ${partition})`,
        };
      return { phase: 'complete', summary: `rolled out to the ${target} pods above partition ${partition}` };
    }
    if (updated < want) return { phase: 'progressing', summary: `${updated} of ${want} pods updated` };
    if (ready < want) return { phase: 'progressing', summary: `${ready} of ${want} pods ready` };
    if (obj.status?.updateRevision && obj.status?.currentRevision !== obj.status?.updateRevision)
      return {
        phase: 'progressing',
        summary: `${updated} of ${want} pods updated; waiting for the revision to settle`,
      };
    return {
      phase: 'complete',
      summary: `rolled out: ${want} of ${want} pod${want === 1 ? '' : 's'} updated and ready`,
    };
  }

  // DaemonSet
  if (obj.spec?.updateStrategy?.type === 'OnDelete') {
    return {
      phase: 'complete',
      summary:
        'the DaemonSet updates pods only when they are deleted (updateStrategy OnDelete): delete them to take the new values',
    };
  }
  const desired = n(obj.status?.desiredNumberScheduled);
  const updated = n(obj.status?.updatedNumberScheduled);
  const available = n(obj.status?.numberAvailable);
  if (updated < desired) return { phase: 'progressing', summary: `${updated} of ${desired} pods updated` };
  if (available < desired)
    return { phase: 'progressing', summary: `${available} of ${desired} updated pods available` };
  return {
    phase: 'complete',
    summary: `rolled out: ${updated} of ${desired} pod${desired === 1 ? '' : 's'} updated and available`,
  };
}

/**
 * Why new pods are not coming up, from the pods of the workload: a container waiting in a crash
 * loop or on its image, killed again, or a pod that cannot be scheduled. Null when none is seen.
 */
export function podTrouble(pods: ApiObject[], since: number): string | null {
  for (const pod of pods) {
    const created = Date.parse(String(pod.metadata?.creationTimestamp ?? ''));
    if (Number.isFinite(created) && created < since - 1000) continue; // an old pod: not this rollout's
    const name = String(pod.metadata?.name ?? 'a pod');
    const unschedulable = (pod.status?.conditions ?? []).find(
      (c: ApiObject) => c?.type === 'PodScheduled' && c.status === 'False',
    );
    if (unschedulable)
      return `pod ${name} cannot be scheduled: ${String(unschedulable.message ?? unschedulable.reason ?? 'Unschedulable')}`;
    for (const s of [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ]) {
      const waiting = s?.state?.waiting?.reason;
      const last = s?.lastState?.terminated?.reason;
      if (waiting && waiting !== 'ContainerCreating' && waiting !== 'PodInitializing') {
        return `pod ${name}, container ${String(s.name)}: ${String(waiting)}${last ? ` (last exit: ${String(last)})` : ''}`;
      }
      if (last === 'OOMKilled')
        return `pod ${name}, container ${String(s.name)} was OOMKilled again with the new values`;
    }
  }
  return null;
}
