// Which container of a pod to diagnose when the alert or the user names none: the one the kill
// points at (an eviction's largest user, the newest OOM kill, an OOM counter or the node's kernel
// log), never an injected sidecar by default.
import { parseEvictionMessage } from '../core/classify';
import { parseQuantity } from '../core/quantity';
import { toDate, type ApiObject } from './kubernetes-objects';

/** Proxies and agents that meshes and mutating webhooks inject, and the usual log shippers. */
const WELL_KNOWN_SIDECARS = new Set([
  'istio-proxy',
  'istio-init',
  'linkerd-proxy',
  'linkerd-init',
  'envoy',
  'envoy-sidecar',
  'vault-agent',
  'vault-agent-init',
  'cloud-sql-proxy',
  'cloudsql-proxy',
  'fluent-bit',
  'fluentbit',
  'fluentd',
  'filebeat',
  'promtail',
  'vector',
  'logshipper',
  'log-shipper',
]);

/**
 * Whether a container was injected beside the application: named by a mesh's status annotation
 * (Istio's `sidecar.istio.io/status` lists its containers; Linkerd's `linkerd.io/proxy-version`
 * means linkerd-proxy), one of the well-known proxies, agents and log shippers, or a native sidecar
 * (an init container that keeps running).
 */
export function isInjectedSidecar(pod: ApiObject, name: string): boolean {
  if (WELL_KNOWN_SIDECARS.has(name)) return true;
  const annotations: Record<string, unknown> = pod.metadata?.annotations ?? {};
  const istio = annotations['sidecar.istio.io/status'];
  if (typeof istio === 'string') {
    try {
      const parsed: unknown = JSON.parse(istio);
      const listed = (parsed as { containers?: unknown }).containers;
      if (Array.isArray(listed) && listed.includes(name)) return true;
    } catch {
      /* not JSON: only the well-known names count */
    }
  }
  if (annotations['linkerd.io/proxy-version'] !== undefined && name.startsWith('linkerd-')) return true;
  return (pod.spec?.initContainers ?? []).some(
    (c: ApiObject) => c?.name === name && c?.restartPolicy === 'Always',
  );
}

/** What else points at a container, read before choosing: OOM counters and the node's kernel log. */
export interface ContainerHints {
  /** container_oom_events_total increase per container over the window (cAdvisor). */
  oomEventsByContainer?: ReadonlyMap<string, number>;
  /** The node's OOM events (node-problem-detector's OOMKilling, kubelet's SystemOOM), as API objects. */
  nodeEvents?: ApiObject[];
}

/** A container's runtime id ("containerd://abc…" → "abc…"), which the kernel's OOM lines name in their cgroup path. */
function runtimeId(status: ApiObject): string | null {
  const id = typeof status.containerID === 'string' ? status.containerID : '';
  const bare = id.includes('://') ? id.slice(id.indexOf('://') + 3) : id;
  return bare.length >= 12 ? bare : null;
}

/** Containers of this pod that a node OOM event names (by runtime id in the memcg path). */
function namedByNodeOom(statuses: ApiObject[], events: ApiObject[]): string[] {
  const texts = events
    .filter((e) => /oom/i.test(String(e?.reason ?? '')))
    .map((e) => String(e?.message ?? e?.note ?? ''));
  return statuses
    .filter((s) => {
      const id = runtimeId(s);
      return id !== null && texts.some((t) => t.includes(id));
    })
    .map((s) => String(s.name));
}

/**
 * The container to diagnose when none is named:
 * 1. an evicted pod: an eviction is a pod-level event, so the app container (the largest user of
 *    memory in the kubelet's message, else the default container, else the first app container),
 *    never the newest-terminated one (a sidecar stops last);
 * 2. the newest OOM kill;
 * 3. a container whose OOM counter rose, or that the node's kernel OOM log names (a child process
 *    killed in a container that did not restart);
 * 4. the newest failed termination;
 * 5. the default-container annotation, else the first container that is not an injected sidecar.
 */
export function pickContainer(pod: ApiObject, hints: ContainerHints = {}): string | null {
  const statuses: ApiObject[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  const finished = (s: ApiObject): ApiObject | undefined => s.state?.terminated ?? s.lastState?.terminated;
  // A clean exit (an init container that Completed, exit 0) is not a death worth diagnosing.
  const succeeded = (t: ApiObject): boolean => Number(t.exitCode) === 0 || t.reason === 'Completed';
  const failed = (s: ApiObject): ApiObject | undefined =>
    [s.state?.terminated, s.lastState?.terminated].find((t: ApiObject | undefined) => t && !succeeded(t));
  const newest = (candidates: ApiObject[], termination: (s: ApiObject) => ApiObject | undefined) =>
    candidates.sort(
      (a, b) =>
        (toDate(termination(b)?.finishedAt)?.getTime() ?? 0) -
        (toDate(termination(a)?.finishedAt)?.getTime() ?? 0),
    )[0];
  const appNames: string[] = (pod.spec?.containers ?? []).map((c: ApiObject) => String(c.name));
  const preferred = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  const fallback = (): string | null => {
    if (typeof preferred === 'string' && appNames.includes(preferred)) return preferred;
    return appNames.find((n) => !isInjectedSidecar(pod, n)) ?? appNames[0] ?? null;
  };

  if (pod.status?.reason === 'Evicted') {
    const byUse = parseEvictionMessage(String(pod.status?.message ?? ''))
      .containers.filter((c) => appNames.includes(c.name) && !isInjectedSidecar(pod, c.name))
      .map((c) => ({ name: c.name, bytes: quantityOrZero(c.using) }))
      .sort((a, b) => b.bytes - a.bytes)[0];
    return byUse?.name ?? fallback();
  }
  const oom = newest(
    statuses.filter((s) => finished(s)?.reason === 'OOMKilled'),
    finished,
  );
  if (oom) return String(oom.name);
  const rose = statuses
    .filter((s) => (hints.oomEventsByContainer?.get(String(s.name)) ?? 0) > 0)
    .map((s) => String(s.name));
  const named = namedByNodeOom(statuses, hints.nodeEvents ?? []);
  const pointed = [...rose, ...named];
  if (pointed.length > 0) {
    // Several at once: the one both sources name, else an app container over a sidecar.
    return (
      pointed.find((n) => rose.includes(n) && named.includes(n)) ??
      pointed.find((n) => !isInjectedSidecar(pod, n)) ??
      pointed[0] ??
      null
    );
  }
  const terminated = newest(
    statuses.filter((s) => failed(s) !== undefined),
    failed,
  );
  if (terminated) return String(terminated.name);
  return fallback();
}

/**
 * Whether the pod itself cannot say which container to diagnose: not evicted, no container killed
 * or failed, and more than one to choose from. Only then are the OOM counters worth a query.
 */
export function containerChoiceIsOpen(pod: ApiObject): boolean {
  if (pod.status?.reason === 'Evicted') return false;
  const statuses: ApiObject[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  const killedOrFailed = statuses.some((s) =>
    [s.state?.terminated, s.lastState?.terminated].some(
      (t: ApiObject | undefined) => t && (t.reason === 'OOMKilled' || Number(t.exitCode) !== 0),
    ),
  );
  return !killedOrFailed && (pod.spec?.containers ?? []).length > 1;
}

function quantityOrZero(text: string): number {
  try {
    return parseQuantity(text);
  } catch {
    return 0;
  }
}
