// The vocabulary of "Apply fix": what a diagnosis offers, what is stored under the button's id, and
// what a change did. Plain JSON throughout: records cross Redis.
import type { WorkloadId } from '../core/kubernetes-types';
import type { Recommendation } from '../core/types';

export type { PatchableKind, WorkloadId } from '../core/kubernetes-types';

export type ContainerList = 'containers' | 'initContainers';

/**
 * What the diagnosis saw of the workload, compared with the live object before anything is patched.
 * Env and args are kept as digests: their values may carry secrets and are never stored or shown.
 */
export interface WorkloadSnapshot {
  generation: number;
  /** The container's `resources` as written in the template (JSON), `{}` when absent. */
  resources: Record<string, unknown>;
  /** sha256 of the container's `env` and `envFrom` (JSON). */
  envDigest: string;
  /** sha256 of the container's `args` (JSON; "null" when absent). */
  argsDigest: string;
  /** sha256 of the container's `command` (JSON; "null" when absent). Absent in records stored before it was kept. */
  commandDigest?: string;
}

/** The recommended values: what Apply sets. `null` leaves a field alone. */
export interface DesiredChange {
  requestsMemory: string | null;
  limitsMemory: string | null;
  /** Variables set to a literal value (memory flags only, as the recommender writes them). */
  env: Array<{ name: string; value: string }>;
  /** The whole args list with the heap flag rewritten, when the flag lives in args. */
  args: string[] | null;
  /** The whole command with the heap flag rewritten, when the flag that wins lives there (absent: untouched). */
  command?: string[] | null;
}

/** An env entry as the pod template has it (a literal value or a reference). */
export interface EnvEntry {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

/**
 * The fields of one container a change touches, as they were or became: for the diff, the audit
 * record and Undo. Only the touched env variables are kept; `args` is undefined when untouched and
 * null when the container has none.
 */
export interface ContainerState {
  requestsMemory: string | null;
  limitsMemory: string | null;
  env: Array<{ name: string; entry: EnvEntry | null }>;
  args?: string[] | null;
  /** Like `args`: undefined when untouched, null when the container has none. */
  command?: string[] | null;
}

/** One line of the diff the modal and the thread show. */
export interface DiffLine {
  field: string;
  before: string;
  after: string;
}

export type SuggestionState = 'open' | 'applying' | 'applied' | 'undoing' | 'undone' | 'stale';
export type ApplyOp = 'apply' | 'undo';

export interface SuggestionRecord {
  /** Random, and the only thing the button carries. */
  id: string;
  createdAt: number;
  /** `<channel>:<ts>` of the diagnosis reply. */
  diagnosisId: string;
  message: { channel: string; ts: string; threadTs: string };
  /** The pod and container the diagnosis was about (for Re-run). */
  target: { namespace: string; pod: string; container: string };
  workload: WorkloadId;
  container: string;
  list: ContainerList;
  recommendation: Recommendation;
  change: DesiredChange;
  snapshot: WorkloadSnapshot;
  /** The Helm release that manages the workload, when one does: a warning in the modal. */
  helmRelease: string | null;
  /** Heap settings that come from a ConfigMap: not changed, the modal names the key to edit. */
  configMapSettings: Array<{ value: string; source: string }>;
  state: SuggestionState;
  /** Who holds the change now: the job that took it, so a retried job may go on. */
  claim: { op: ApplyOp; jobId: string; userId: string; at: number; before?: ContainerState } | null;
  applied: AppliedChange | null;
  undone: { by: string; at: number; identity: string | null; messageTs: string | null } | null;
  /** Why the suggestion can no longer be applied (the workload changed since the diagnosis). */
  staleReason: string | null;
}

export interface AppliedChange {
  by: string;
  at: number;
  /** The Kubernetes user the patch was sent as, when impersonating. */
  identity: string | null;
  before: ContainerState;
  after: ContainerState;
  /** The workload as the patch left it: Undo is refused when it has moved on since. */
  snapshot: WorkloadSnapshot;
  /** The thread message that follows the rollout (and carries Undo). */
  messageTs: string | null;
}
