// A per-job cache over the cluster reader: the job reads the pod and its owners to find the
// workload, then the engine reads them again; with the cache that costs one request each.
import type { ClusterReader } from '../src/adapters/kubernetes';

export function withCache(reader: ClusterReader): ClusterReader {
  const memo = new Map<string, Promise<unknown>>();
  const cached = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    let hit = memo.get(key) as Promise<T> | undefined;
    if (!hit) {
      hit = load();
      memo.set(key, hit);
      // A failure is not cached: the next caller tries again.
      hit.catch(() => memo.delete(key));
    }
    return hit;
  };
  return {
    description: reader.description,
    readPod: (ns, name) => cached(`pod/${ns}/${name}`, () => reader.readPod(ns, name)),
    readWorkload: (kind, ns, name) =>
      cached(`${kind}/${ns}/${name}`, () => reader.readWorkload(kind, ns, name)),
    readNode: (name) => cached(`node/${name}`, () => reader.readNode(name)),
    listPods: (ns, selector) => reader.listPods(ns, selector),
    listPodsAllNamespaces: (selector) => reader.listPodsAllNamespaces(selector),
    podEvents: (ns, pod) => reader.podEvents(ns, pod),
    nodeEvents: (node) => reader.nodeEvents(node),
    readConfigMap: (ns, name) => reader.readConfigMap(ns, name),
    listLimitRanges: (ns) => reader.listLimitRanges(ns),
    listResourceQuotas: (ns) => reader.listResourceQuotas(ns),
    podMetrics: (ns, name) => reader.podMetrics(ns, name),
  };
}
