// The Kubernetes API through @kubernetes/client-node: only reads here. Every failure becomes one of
// the adapter errors, so the engine never sees an SDK type.
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';
import type { ApiObject } from './kubernetes-objects';
import { ClusterUnreachableError, ForbiddenError, NotFoundError } from './errors';

/** What the engine reads from a cluster. Objects come back as plain API JSON. */
export interface ClusterReader {
  readonly description: string;
  readPod(namespace: string, name: string): Promise<ApiObject>;
  listPods(namespace: string, labelSelector: string): Promise<ApiObject[]>;
  listPodsAllNamespaces(fieldSelector: string): Promise<ApiObject[]>;
  podEvents(namespace: string, podName: string): Promise<ApiObject[]>;
  nodeEvents(nodeName: string): Promise<ApiObject[]>;
  readNode(name: string): Promise<ApiObject>;
  readWorkload(
    kind: 'ReplicaSet' | 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob',
    namespace: string,
    name: string,
  ): Promise<ApiObject | null>;
  readConfigMap(namespace: string, name: string): Promise<ApiObject | null>;
  listLimitRanges(namespace: string): Promise<ApiObject[]>;
  listResourceQuotas(namespace: string): Promise<ApiObject[]>;
  podMetrics(namespace: string, name: string): Promise<ApiObject>;
}

export interface KubeConfigOptions {
  kubeconfig?: string;
  context?: string;
}

/** The current kubeconfig (KUBECONFIG or ~/.kube/config), or the in-cluster service account. */
export function loadKubeConfig(options: KubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (error) {
    // A file that is not YAML, or not there: the parser's first line says where (its excerpt follows on the next lines).
    const path = options.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config';
    const firstLine = (error instanceof Error ? error.message : String(error)).split('\n')[0]?.trim() ?? '';
    throw new ClusterUnreachableError(`cannot read the kubeconfig ${path}: ${firstLine}`);
  }
  if (options.context) {
    if (!kc.getContexts().some((c) => c.name === options.context)) {
      throw new ClusterUnreachableError(
        `no context "${options.context}" in the kubeconfig (it has: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    }
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new ClusterUnreachableError(
      'no Kubernetes cluster configured: set KUBECONFIG or pass --kubeconfig, or run inside a cluster',
    );
  }
  return kc;
}

function statusMessage(error: ApiException<unknown>): string {
  try {
    const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
    if (body && typeof body.message === 'string') return body.message;
  } catch {
    /* not JSON: fall through */
  }
  return `HTTP ${error.code}`;
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/** Maps an SDK failure onto the adapter's errors; `what` names the object for the message. */
export function translate(error: unknown, what: string, server: string): Error {
  if (error instanceof ApiException) {
    if (error.code === 404) return new NotFoundError(`${what} not found`);
    if (error.code === 403) return new ForbiddenError(statusMessage(error));
    if (error.code === 401)
      return new ClusterUnreachableError(
        `the Kubernetes API at ${server} refused the credentials (401 Unauthorized): check the kubeconfig's user or token`,
      );
    return new Error(`Kubernetes API answered ${error.code} for ${what}: ${statusMessage(error)}`);
  }
  const cause = error as { code?: string; cause?: { code?: string }; message?: string };
  const code = cause.code ?? cause.cause?.code;
  if (
    (code && UNREACHABLE.has(code)) ||
    /ECONNREFUSED|ENOTFOUND|socket hang up|fetch failed/.test(cause.message ?? '')
  ) {
    return new ClusterUnreachableError(
      `cannot reach the Kubernetes API at ${server} (${code ?? cause.message})`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

export class KubernetesReader implements ClusterReader {
  readonly description: string;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly batch: BatchV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.description = kc.getCurrentCluster()?.server ?? '(unknown server)';
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw translate(error, what, this.description);
    }
  }

  private async optional<T>(what: string, request: () => Promise<T>): Promise<T | null> {
    try {
      return await this.call(what, request);
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  readPod(namespace: string, name: string): Promise<ApiObject> {
    return this.call(
      `pod ${namespace}/${name}`,
      () => this.core.readNamespacedPod({ namespace, name }) as Promise<ApiObject>,
    );
  }

  async listPods(namespace: string, labelSelector: string): Promise<ApiObject[]> {
    const list = await this.call(`pods in ${namespace}`, () =>
      this.core.listNamespacedPod({ namespace, labelSelector }),
    );
    return list.items;
  }

  async listPodsAllNamespaces(fieldSelector: string): Promise<ApiObject[]> {
    const list = await this.call('pods in all namespaces', () =>
      this.core.listPodForAllNamespaces({ fieldSelector }),
    );
    return list.items;
  }

  async podEvents(namespace: string, podName: string): Promise<ApiObject[]> {
    const fieldSelector = `involvedObject.kind=Pod,involvedObject.name=${podName}`;
    const list = await this.call(`events of pod ${namespace}/${podName}`, () =>
      this.core.listNamespacedEvent({ namespace, fieldSelector }),
    );
    return list.items;
  }

  async nodeEvents(nodeName: string): Promise<ApiObject[]> {
    // Node events (kubelet's SystemOOM, node-problem-detector's OOMKilling) live in "default", but not always.
    const fieldSelector = `involvedObject.kind=Node,involvedObject.name=${nodeName}`;
    const list = await this.call(`events of node ${nodeName}`, () =>
      this.core.listEventForAllNamespaces({ fieldSelector }),
    );
    return list.items;
  }

  readNode(name: string): Promise<ApiObject> {
    return this.call(`node ${name}`, () => this.core.readNode({ name }) as Promise<ApiObject>);
  }

  readWorkload(
    kind: 'ReplicaSet' | 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob',
    namespace: string,
    name: string,
  ): Promise<ApiObject | null> {
    const what = `${kind} ${namespace}/${name}`;
    const args = { namespace, name };
    switch (kind) {
      case 'ReplicaSet':
        return this.optional(what, () => this.apps.readNamespacedReplicaSet(args) as Promise<ApiObject>);
      case 'Deployment':
        return this.optional(what, () => this.apps.readNamespacedDeployment(args) as Promise<ApiObject>);
      case 'StatefulSet':
        return this.optional(what, () => this.apps.readNamespacedStatefulSet(args) as Promise<ApiObject>);
      case 'DaemonSet':
        return this.optional(what, () => this.apps.readNamespacedDaemonSet(args) as Promise<ApiObject>);
      case 'Job':
        return this.optional(what, () => this.batch.readNamespacedJob(args) as Promise<ApiObject>);
      case 'CronJob':
        return this.optional(what, () => this.batch.readNamespacedCronJob(args) as Promise<ApiObject>);
    }
  }

  readConfigMap(namespace: string, name: string): Promise<ApiObject | null> {
    return this.optional(
      `ConfigMap ${namespace}/${name}`,
      () => this.core.readNamespacedConfigMap({ namespace, name }) as Promise<ApiObject>,
    );
  }

  async listLimitRanges(namespace: string): Promise<ApiObject[]> {
    const list = await this.call(`LimitRanges in ${namespace}`, () =>
      this.core.listNamespacedLimitRange({ namespace }),
    );
    return list.items;
  }

  async listResourceQuotas(namespace: string): Promise<ApiObject[]> {
    const list = await this.call(`ResourceQuotas in ${namespace}`, () =>
      this.core.listNamespacedResourceQuota({ namespace }),
    );
    return list.items;
  }

  podMetrics(namespace: string, name: string): Promise<ApiObject> {
    return this.call(
      `metrics of pod ${namespace}/${name}`,
      () =>
        this.custom.getNamespacedCustomObject({
          group: 'metrics.k8s.io',
          version: 'v1beta1',
          namespace,
          plural: 'pods',
          name,
        }) as Promise<ApiObject>,
    );
  }
}
