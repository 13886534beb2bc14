// The Kubernetes API through @kubernetes/client-node: only reads here. Every failure becomes one of
// the adapter errors, so the engine never sees an SDK type.
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
} from './client-node';
import type { ApiObject } from './kubernetes-objects';
import { isPermanent, OomdoctorError } from '../core/errors';
import type { ControllerKind } from '../core/types';
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
  readWorkload(kind: ControllerKind, namespace: string, name: string): Promise<ApiObject | null>;
  readConfigMap(namespace: string, name: string): Promise<ApiObject | null>;
  listLimitRanges(namespace: string): Promise<ApiObject[]>;
  listResourceQuotas(namespace: string): Promise<ApiObject[]>;
  podMetrics(namespace: string, name: string): Promise<ApiObject>;
}

import { CheckedKubeConfig } from './kubeconfig';

export { CheckedKubeConfig, KubeconfigError, loadKubeConfig, type KubeConfigOptions } from './kubeconfig';

/** The message of the Status object an API error carries, or its HTTP status. */
export function statusMessage(error: ApiException<unknown>): string {
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
  'ENETUNREACH',
  'EPIPE',
]);

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/** How many seconds a 429 or 503 asks us to wait (Retry-After, or the Status' retryAfterSeconds). */
export function retryAfterSeconds(error: ApiException<unknown>): number | null {
  const header = Object.entries(error.headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
  const seconds = Number(header);
  if (header !== undefined && Number.isFinite(seconds) && seconds >= 0) return seconds;
  try {
    const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
    const fromBody = Number(body?.details?.retryAfterSeconds);
    if (Number.isFinite(fromBody) && fromBody >= 0) return fromBody;
  } catch {
    /* not JSON */
  }
  return null;
}

/** Maps an SDK failure onto the error vocabulary; `what` names the object for the message. */
export function translate(error: unknown, what: string, server: string): Error {
  if (error instanceof OomdoctorError) return error;
  if (error instanceof ApiException) {
    const said = statusMessage(error);
    switch (error.code) {
      case 404:
        return new NotFoundError(`${what} not found`);
      case 403:
        return new ForbiddenError(said, {
          fix: "grant it to the identity in the kubeconfig (the bot's grants are in deploy/kubernetes/rbac.yaml)",
        });
      case 401:
        return new OomdoctorError(
          'kube-unauthorized',
          `the Kubernetes API at ${server} refused the credentials (401 Unauthorized)`,
          { fix: "check the kubeconfig's user: an expired token or certificate, or a cloud login to renew" },
        );
      case 409:
        return new OomdoctorError(
          'kube-conflict',
          `the Kubernetes API answered 409 Conflict for ${what}: ${said}`,
          {
            fix: 'try again',
          },
        );
      case 429: {
        const wait = retryAfterSeconds(error);
        return new OomdoctorError(
          'kube-throttled',
          `the Kubernetes API at ${server} is throttling requests (429${wait !== null ? `, retry after ${wait} s` : ''}) for ${what}`,
          {
            fix: "try again later; if it persists, the API server's priority and fairness settings limit this client",
          },
        );
      }
      default:
        if (error.code >= 500)
          return new OomdoctorError(
            'kube-server-error',
            `the Kubernetes API at ${server} failed (${error.code}) for ${what}: ${said}`,
            { fix: 'try again; if it persists, check the API server (or the load balancer in front of it)' },
          );
        return new OomdoctorError(
          'kube-rejected',
          `the Kubernetes API answered ${error.code} for ${what}: ${said}`,
          {
            permanent: true,
          },
        );
    }
  }
  const cause = error as { code?: string; cause?: { code?: string; message?: string }; message?: string };
  const code = cause.code ?? cause.cause?.code;
  if (code && TLS_CODES.has(code)) {
    return new OomdoctorError(
      'kube-unreachable',
      `cannot verify the Kubernetes API at ${server} (${code}: ${cause.cause?.message ?? cause.message ?? ''})`,
      {
        permanent: true,
        fix: "set the cluster's certificate-authority in the kubeconfig to the CA that signed the server's certificate",
      },
    );
  }
  if (
    (code && UNREACHABLE.has(code)) ||
    /ECONNREFUSED|ENOTFOUND|socket hang up|fetch failed|network timeout/.test(cause.message ?? '')
  ) {
    return new ClusterUnreachableError(
      `cannot reach the Kubernetes API at ${server} (${code ?? cause.message})`,
      {
        fix: 'check that the server in the kubeconfig (KUBECONFIG) is up and reachable from here',
      },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Retry tuning of the reader; tests shorten it. */
export interface ReaderOptions {
  /** One request is given up after this long (default 10 s). */
  requestTimeoutMs?: number;
  /** Tries per request when a retry can help (429, 5xx, a timeout or a dropped connection); default 3. */
  maxTries?: number;
  /** First backoff, doubled each time (default 500 ms); a Retry-After is honoured up to maxWaitMs. */
  backoffMs?: number;
  /** The longest single wait between tries (default 5 s): longer Retry-Afters give up instead. */
  maxWaitMs?: number;
}

const RETRYABLE = new Set(['kube-throttled', 'kube-server-error', 'kube-unreachable']);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class KubernetesReader implements ClusterReader {
  readonly description: string;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly batch: BatchV1Api;
  private readonly custom: CustomObjectsApi;

  private readonly options: Required<ReaderOptions>;

  constructor(kc: KubeConfig, options: ReaderOptions = {}) {
    // The server and where it came from, so every message names the kubeconfig and context to fix.
    const server = kc.getCurrentCluster()?.server ?? '(unknown server)';
    this.description = kc instanceof CheckedKubeConfig ? `${server} (${kc.source})` : server;
    this.options = {
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      maxTries: options.maxTries ?? 3,
      backoffMs: options.backoffMs ?? 500,
      maxWaitMs: options.maxWaitMs ?? 5_000,
    };
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /**
   * One read, retried only where a retry can help: 429 (after its Retry-After), 5xx, a timeout or
   * a dropped connection. Refused connections, TLS failures and 4xx are not retried.
   */
  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    const { maxTries, backoffMs, maxWaitMs } = this.options;
    for (let attempt = 1; ; attempt++) {
      let failure: Error;
      let raw: unknown;
      try {
        return await this.withTimeout(what, request);
      } catch (error) {
        raw = error;
        failure = translate(error, what, this.description);
      }
      const code = failure instanceof OomdoctorError ? failure.code : null;
      // A refused connection or our own timeout would only repeat: say so now, within the deadline.
      const refused = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(failure.message);
      const ours = raw instanceof OomdoctorError;
      if (attempt >= maxTries || !code || !RETRYABLE.has(code) || refused || ours || isPermanent(failure))
        throw failure;
      const asked = raw instanceof ApiException ? retryAfterSeconds(raw) : null;
      const wait = asked !== null ? asked * 1000 : backoffMs * 2 ** (attempt - 1);
      if (wait > maxWaitMs) throw failure;
      await sleep(wait);
    }
  }

  private async withTimeout<T>(what: string, request: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const seconds = this.options.requestTimeoutMs / 1000;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ClusterUnreachableError(
              `the Kubernetes API at ${this.description} did not answer within ${seconds} s for ${what}`,
              {
                fix: 'check that the API server is healthy and reachable from here (a proxy or VPN that hangs)',
              },
            ),
          ),
        this.options.requestTimeoutMs,
      );
    });
    try {
      return await Promise.race([request(), late]);
    } finally {
      clearTimeout(timer);
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

  readWorkload(kind: ControllerKind, namespace: string, name: string): Promise<ApiObject | null> {
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
      case 'Rollout':
        // Argo Rollouts' custom resource: one GET through the custom objects API.
        return this.optional(
          what,
          () =>
            this.custom.getNamespacedCustomObject({
              group: 'argoproj.io',
              version: 'v1alpha1',
              namespace,
              plural: 'rollouts',
              name,
            }) as Promise<ApiObject>,
        );
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
