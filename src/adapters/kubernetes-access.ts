// Is the Kubernetes API reachable, and may the bot's identity do exactly what diagnosing needs?
// One SelfSubjectAccessReview per grant, so each missing permission is named with the RBAC file that
// grants it. Loaded only where jobs run, like the reader.
import { AuthorizationV1Api } from './client-node';
import { asOomdoctorError } from '../core/errors';
import { loadKubeConfig, translate, type KubeConfigOptions } from './kubernetes';

export interface Grant {
  verb: 'get' | 'list';
  /** '' for the core group. */
  group: string;
  resource: string;
  /** Without it a diagnosis still runs, with this said under missing. */
  optional?: true;
}

/** What the reader does, as RBAC grants: deploy/kubernetes/rbac.yaml grants each (a unit test holds the two together). */
export const READER_GRANTS: readonly Grant[] = [
  { verb: 'get', group: '', resource: 'pods' },
  { verb: 'list', group: '', resource: 'pods' },
  { verb: 'list', group: '', resource: 'events' },
  { verb: 'get', group: '', resource: 'nodes' },
  { verb: 'get', group: '', resource: 'configmaps' },
  { verb: 'list', group: '', resource: 'limitranges' },
  { verb: 'list', group: '', resource: 'resourcequotas' },
  { verb: 'get', group: 'apps', resource: 'replicasets' },
  { verb: 'get', group: 'apps', resource: 'deployments' },
  { verb: 'get', group: 'apps', resource: 'statefulsets' },
  { verb: 'get', group: 'apps', resource: 'daemonsets' },
  { verb: 'get', group: 'batch', resource: 'jobs' },
  { verb: 'get', group: 'batch', resource: 'cronjobs' },
  { verb: 'get', group: 'metrics.k8s.io', resource: 'pods', optional: true },
];

export const READER_RBAC_FILE = 'deploy/kubernetes/rbac.yaml';

export function grantName(grant: Grant): string {
  return `${grant.verb} ${grant.group ? `${grant.resource}.${grant.group}` : grant.resource}`;
}

/**
 * Problems, one line each (none when all is well): the kubeconfig, the API's reachability, then each
 * grant the identity lacks, cluster-wide or in each of `namespaces`.
 */
export async function checkKubernetesAccess(
  options: KubeConfigOptions & { namespaces?: string[] | null; grants?: readonly Grant[] },
): Promise<string[]> {
  let api: AuthorizationV1Api;
  let server: string;
  try {
    const kc = loadKubeConfig(options);
    server = `${kc.getCurrentCluster()?.server ?? '?'} (${kc.source})`;
    api = kc.makeApiClient(AuthorizationV1Api);
  } catch (error) {
    return [asOomdoctorError(error).sentence];
  }
  const scopes: Array<string | undefined> = options.namespaces?.length
    ? options.namespaces.slice(0, 10)
    : [undefined];
  const grants = options.grants ?? READER_GRANTS;
  const problems: string[] = [];
  const checks = grants.flatMap((grant) => scopes.map((namespace) => ({ grant, namespace })));
  const results = await Promise.all(
    checks.map(async ({ grant, namespace }) => {
      const review = await api.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              verb: grant.verb,
              group: grant.group,
              resource: grant.resource,
              ...(namespace ? { namespace } : {}),
            },
          },
        },
      });
      return { grant, namespace, allowed: review.status?.allowed === true };
    }),
  ).catch((error: unknown) => {
    problems.push(asOomdoctorError(translate(error, 'a SelfSubjectAccessReview', server)).sentence);
    return null;
  });
  for (const result of results ?? []) {
    if (result.allowed) continue;
    const where = result.namespace ? `in namespace ${result.namespace}` : 'cluster-wide';
    problems.push(
      `the bot's identity may not ${grantName(result.grant)} ${where}${
        result.grant.optional ? ' (optional: used when PROMETHEUS_URL is not set)' : ''
      }; ${READER_RBAC_FILE} grants it`,
    );
  }
  return problems;
}
