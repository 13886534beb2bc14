// What Apply does to a cluster, as an interface, and the errors it raises: no client-node here, so
// that the web role and the job handlers can name them without loading the Kubernetes client.
import { OomdoctorError } from '../core/errors';
import type { ApiObject, KubeIdentity, PatchableKind, WorkloadId } from '../core/kubernetes-types';

export interface AccessCheck {
  verb: string;
  group: string;
  resource: string;
  namespace: string;
  name?: string;
}

/** What Apply does to a cluster. */
export interface ClusterWriter {
  readonly description: string;
  /** The workload as the API has it now (as the bot: reads are never impersonated), or null when gone. */
  read(kind: PatchableKind, namespace: string, name: string): Promise<ApiObject | null>;
  /** A strategic-merge patch; `dryRun` sends dryRun=All, so admission and validation run and nothing is stored. */
  patch(
    workload: WorkloadId,
    patch: Record<string, unknown>,
    options: { dryRun: boolean; as: KubeIdentity | null },
  ): Promise<ApiObject>;
  /** A SelfSubjectAccessReview, as `as` when given: may that identity do this? */
  canI(check: AccessCheck, as: KubeIdentity | null): Promise<{ allowed: boolean; reason: string | null }>;
  /** Pods of a workload, for why a rollout is not progressing. */
  listPods(namespace: string, labelSelector: string): Promise<ApiObject[]>;
}

/** The API refused the change as invalid: validation, an admission webhook, a quota (400, 409 AlreadyExists, 422). */
export class PatchRejectedError extends OomdoctorError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('kube-rejected', message);
    this.name = 'PatchRejectedError';
  }
}

/** The object changed between the read and the patch (409 on the resourceVersion precondition). */
export class ConflictError extends OomdoctorError {
  constructor(message: string) {
    super('kube-conflict', message);
    this.name = 'ConflictError';
  }
}

const RESOURCE: Record<PatchableKind, { group: string; resource: string }> = {
  Deployment: { group: 'apps', resource: 'deployments' },
  StatefulSet: { group: 'apps', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', resource: 'daemonsets' },
  CronJob: { group: 'batch', resource: 'cronjobs' },
};

export function resourceOf(kind: PatchableKind): { group: string; resource: string } {
  return RESOURCE[kind];
}

/**
 * The permission a 403 says is missing: `patch deployments.apps in namespace shop (as alice)`, from
 * the API's own wording; the message itself when it does not follow it (a webhook's 403).
 */
export function missingPermission(message: string): string {
  const m =
    /User "([^"]*)" cannot (\S+) resource "([^"]+)" in API group "([^"]*)" (?:in the namespace "([^"]+)"|at the cluster scope)/.exec(
      message,
    );
  if (!m) return message;
  const [, user, verb, resource, group, namespace] = m;
  return `${verb} ${resource}${group ? `.${group}` : ''} ${namespace ? `in namespace ${namespace}` : 'at the cluster scope'} (for ${user})`;
}
