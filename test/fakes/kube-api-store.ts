// The fake Kubernetes API's storage: objects by kind and namespace/name, the cluster-wide
// resourceVersion, the defaults the server fills in on a write, and reads as GET and list return
// them. Split from kube-api.ts so that the HTTP server and the write paths (kube-api-writes.ts) share
// one store without either reaching into the other.

import { randomUUID } from 'node:crypto';
import { cloneJson, isPlainObject, jsonEqual } from './strategic-merge';
import { badRequest, metricsNotFound, notFound } from './kube-api-errors';
import {
  apiVersionOf,
  nowTimestamp,
  objectKey,
  parseFieldSelector,
  parseLabelSelector,
  typeByKind,
  type KubeObject,
  type Matcher,
  type ResourceType,
} from './kube-api-resources';
import { decodeContinue, encodeContinue, type Route } from './kube-api-requests';

export class ObjectStore {
  private readonly objects = new Map<string, Map<string, KubeObject>>(); // kind -> key -> stored object
  private resourceVersion = 0;

  /** FakeKubeApi.put: adds or replaces an object, creating its namespace when missing. */
  put(kind: string, obj: KubeObject): void {
    const type = typeByKind(kind);
    if (obj.kind !== undefined && obj.kind !== kind) {
      throw new Error(`FakeKubeApi.put: object kind "${String(obj.kind)}" does not match "${kind}"`);
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(type)) {
      throw new Error(
        `FakeKubeApi.put: ${kind} must be apiVersion "${apiVersionOf(type)}", got "${String(obj.apiVersion)}"`,
      );
    }
    const name: unknown = obj.metadata?.name;
    const namespace: unknown = obj.metadata?.namespace;
    if (typeof name !== 'string' || name === '')
      throw new Error(`FakeKubeApi.put: ${kind} without metadata.name`);
    if (type.namespaced && (typeof namespace !== 'string' || namespace === '')) {
      throw new Error(`FakeKubeApi.put: ${kind} "${name}" without metadata.namespace`);
    }

    const { kind: _kind, apiVersion: _apiVersion, ...rest } = cloneJson(obj);
    const stored: KubeObject = rest;
    if (!type.namespaced) delete stored.metadata.namespace;
    const ns = type.namespaced ? (namespace as string) : undefined;
    const previous = this.bucket(type).get(objectKey(ns, name));
    this.applyDefaults(type, stored, previous);
    this.bucket(type).set(objectKey(ns, name), stored);
    if (ns !== undefined) this.ensureNamespace(ns);
  }

  /** FakeKubeApi.remove: removing an object that does not exist is a no-op. */
  remove(kind: string, namespace: string | undefined, name: string): void {
    const type = typeByKind(kind);
    if (
      this.bucket(type).delete(objectKey(type.namespaced ? namespace : undefined, name)) &&
      !type.synthetic
    ) {
      this.resourceVersion++; // a delete is a write in etcd too
    }
  }

  /** FakeKubeApi.setStatus: a write to the status subresource; resourceVersion moves, generation does not. */
  setStatus(
    kind: string,
    namespace: string | undefined,
    name: string,
    status: Record<string, unknown>,
  ): void {
    const type = typeByKind(kind);
    const stored = this.bucket(type).get(objectKey(type.namespaced ? namespace : undefined, name));
    if (!stored) throw new Error(`FakeKubeApi.setStatus: no ${kind} ${namespace ?? ''}/${name}`);
    stored.status = { ...(isPlainObject(stored.status) ? stored.status : {}), ...cloneJson(status) };
    stored.metadata.resourceVersion = this.nextResourceVersion();
  }

  /** A stored object as GET returns it, or undefined. */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const type = typeByKind(kind);
    const stored = this.bucket(type).get(objectKey(type.namespaced ? namespace : undefined, name));
    return stored ? this.present(type, stored) : undefined;
  }

  /** The objects of one kind, by namespace/name key; the write paths read and replace entries here. */
  bucket(type: ResourceType): Map<string, KubeObject> {
    let bucket = this.objects.get(type.kind);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(type.kind, bucket);
    }
    return bucket;
  }

  nextResourceVersion(): string {
    this.resourceVersion++;
    return String(this.resourceVersion);
  }

  private applyDefaults(type: ResourceType, stored: KubeObject, previous: KubeObject | undefined): void {
    const meta = stored.metadata as KubeObject;
    meta.creationTimestamp ??= previous?.metadata?.creationTimestamp ?? nowTimestamp();
    if (type.synthetic) return;
    meta.uid ??= previous?.metadata?.uid ?? randomUUID();
    meta.resourceVersion = this.nextResourceVersion();
    if (type.hasGeneration && meta.generation === undefined) {
      const prev = previous?.metadata?.generation;
      meta.generation =
        typeof prev === 'number' ? (jsonEqual(previous?.spec, stored.spec) ? prev : prev + 1) : 1;
    }
  }

  private ensureNamespace(name: string): void {
    const type = typeByKind('Namespace');
    if (this.bucket(type).has(name)) return;
    this.put('Namespace', {
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }

  // -- reads, as the API serves them -----------------------------------------

  /** An object as GET returns it: kind and apiVersion first, then the stored fields. */
  present(type: ResourceType, stored: KubeObject): KubeObject {
    return { kind: type.kind, apiVersion: apiVersionOf(type), ...cloneJson(stored) };
  }

  /** The stored object a route names (not a copy), or the NotFound the real server answers. */
  lookup(route: Route & { name: string }): KubeObject {
    const stored = this.bucket(route.type).get(objectKey(route.namespace, route.name));
    if (stored) return stored;
    if (route.type.synthetic) {
      const subject = typeByKind(route.type.kind === 'PodMetrics' ? 'Pod' : 'Node');
      const subjectExists = this.bucket(subject).has(objectKey(route.namespace, route.name));
      throw metricsNotFound(route.type, route.name, route.namespace, subjectExists);
    }
    throw notFound(route.type, route.name);
  }

  getOne(route: Route): KubeObject {
    return this.present(route.type, this.lookup(route as Route & { name: string }));
  }

  list(route: Route, query: Record<string, string>): KubeObject {
    const { type } = route;
    const matchers: Matcher[] = [];
    if (query.labelSelector) matchers.push(parseLabelSelector(query.labelSelector));
    if (query.fieldSelector) matchers.push(parseFieldSelector(query.fieldSelector, type));

    const prefix = route.namespace !== undefined ? `${route.namespace}/` : '';
    let entries = [...this.bucket(type).entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) // etcd key order: namespace, then name
      .filter(([, obj]) => matchers.every((m) => m(obj)));

    if (query.continue) {
      const start = decodeContinue(query.continue);
      entries = entries.filter(([key]) => key >= start);
    }

    const metadata: KubeObject = {};
    if (!type.synthetic) metadata.resourceVersion = String(this.resourceVersion);
    if (query.limit !== undefined && query.limit !== '') {
      const limit = Number(query.limit);
      if (!Number.isInteger(limit) || limit < 0)
        throw badRequest(`limit: Invalid value: "${query.limit}": must be a non-negative integer`);
      if (limit > 0 && entries.length > limit) {
        const remaining = entries.length - limit;
        entries = entries.slice(0, limit);
        metadata.continue = encodeContinue(this.resourceVersion, entries[entries.length - 1]![0]);
        // The real server only knows how many remain when it did not have to filter.
        if (matchers.length === 0) metadata.remainingItemCount = remaining;
      }
    }
    return {
      kind: `${type.kind}List`,
      apiVersion: apiVersionOf(type),
      metadata,
      items: entries.map(([, obj]) => cloneJson(obj)),
    };
  }
}
