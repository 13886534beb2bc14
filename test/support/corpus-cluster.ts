// A ClusterReader over a generated scenario's objects, in process, for the labelled corpus: diagnose()
// runs whole (target, owners, ConfigMaps, widened look-back) without an API server per case. It
// answers what the API would for these objects, and counts each read as the one request it would be.
// The fake API server (test/fakes/kube-api.ts) and the integration tests cover the HTTP side.
import type { ClusterReader } from '../../src/adapters/kubernetes';
import type { ApiObject } from '../../src/core/kubernetes-types';
import type { ControllerKind } from '../../src/core/types';
import { NotFoundError, SourceError } from '../../src/adapters/errors';

export function corpusCluster(objects: readonly ApiObject[]): ClusterReader & { requests: () => number } {
  let requests = 0;
  const count = () => {
    requests++;
  };
  const of = (kind: string, namespace?: string) =>
    objects.filter(
      (o) => o.kind === kind && (namespace === undefined || o.metadata?.namespace === namespace),
    );
  const notFound = (what: string) => new NotFoundError(`${what} not found`);
  const unsupported = async (): Promise<never> => {
    count();
    throw new SourceError('kubernetes', 'not served by the corpus cluster');
  };
  return {
    description: 'the corpus cluster (in process)',
    requests: () => requests,
    async readPod(namespace, name) {
      count();
      const pod = of('Pod', namespace).find((o) => o.metadata.name === name);
      if (!pod) throw notFound(`pod ${namespace}/${name}`);
      return pod;
    },
    listPods: unsupported,
    listPodsAllNamespaces: unsupported,
    async podEvents(namespace, podName) {
      count();
      return of('Event', namespace).filter(
        (e) => e.involvedObject?.kind === 'Pod' && e.involvedObject?.name === podName,
      );
    },
    async nodeEvents(nodeName) {
      count();
      return of('Event').filter(
        (e) => e.involvedObject?.kind === 'Node' && e.involvedObject?.name === nodeName,
      );
    },
    async readNode(name) {
      count();
      const node = of('Node').find((o) => o.metadata.name === name);
      if (!node) throw notFound(`node ${name}`);
      return node;
    },
    async readWorkload(kind: ControllerKind, namespace, name) {
      count();
      return of(kind, namespace).find((o) => o.metadata.name === name) ?? null;
    },
    async readConfigMap(namespace, name) {
      count();
      return of('ConfigMap', namespace).find((o) => o.metadata.name === name) ?? null;
    },
    async listLimitRanges(namespace) {
      count();
      return of('LimitRange', namespace);
    },
    async listResourceQuotas(namespace) {
      count();
      return of('ResourceQuota', namespace);
    },
    podMetrics: unsupported,
  };
}
