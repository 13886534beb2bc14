// The Kubernetes vocabulary every layer shares: objects as they come off the wire, the workload
// kinds a fix can patch, the identity a change is sent as, label selectors. Types and pure helpers
// only, so that src/apply and src/adapters can both name them without importing each other.

/**
 * A Kubernetes object as the API returns it. Readers walk it defensively (any field may be
 * missing); new code should parse what it needs with zod instead.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read defensively
export type ApiObject = Record<string, any>;

/** The workload kinds whose pod template can be patched so that the change sticks. */
export const PATCHABLE_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'] as const;
export type PatchableKind = (typeof PATCHABLE_KINDS)[number];

export function isPatchableKind(kind: string): kind is PatchableKind {
  return (PATCHABLE_KINDS as readonly string[]).includes(kind);
}

export interface WorkloadId {
  kind: PatchableKind;
  namespace: string;
  name: string;
}

/** A Kubernetes identity a request is sent as (the API's impersonation headers). */
export interface KubeIdentity {
  user: string;
  groups: string[];
}

/** `matchLabels` as a label selector for a list call: `app=checkout,tier=web`. */
export function labelSelector(labels: Record<string, unknown>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
}
