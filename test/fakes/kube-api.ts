// A fake Kubernetes API server for tests. It speaks the real wire format (paths, list envelopes,
// Status error bodies, bearer-token auth, patch content types) so the product can be driven through
// the real @kubernetes/client-node client, with no cluster.
//
// What it models, beyond plain storage, because the product's behaviour depends on it:
// - GET returns objects with kind/apiVersion; list items carry neither (like the real API).
// - Lists honour fieldSelector (only the field labels the real server supports for that resource,
//   400 otherwise), labelSelector, limit/continue, and come back sorted by namespace/name.
// - RBAC denials (forbid), outages (failNext), requests that hang (hangNext), 401 for a wrong token,
//   404/405/415 as the real API words them.
// - Authentication as the real server does it: a bearer token (setToken replaces it, as a rotation
//   does), or over TLS (start({ tls })) a client certificate signed by the client CA, whose CN is the
//   user; without either, 401.
// - PATCH (strategic merge and JSON merge): status is ignored (it is a subresource), generation bumps
//   only on spec changes, a no-op patch writes nothing, a metadata.resourceVersion in the patch is an
//   optimistic-lock precondition (409), dryRun=All changes nothing. Container resources are validated
//   like the real server (malformed quantity, request above limit), and a Pod's spec is immutable
//   apart from images, activeDeadlineSeconds and tolerations.
// - POST on a collection creates (201, 409 AlreadyExists), so 'create' rules in forbid() mean something.
// - Impersonation (Impersonate-User, each Impersonate-Group on its own header line): recorded on the
//   request, checked against 'impersonate' rules for the real user, and the impersonated user is the one
//   forbid() rules with `user` apply to. POST selfsubjectaccessreviews answers for that user.
// - Admission refusals of patches (admissionDeny), dry runs included, worded like a validating webhook's.
// - setStatus(): what controllers write to a workload's status subresource (a rollout finishing).
//
// Not modelled: watch, DELETE/PUT, subresources (status, log, scale...), JSON patch, server-side apply.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  applyMergePatch,
  applyStrategicMergePatch,
  cloneJson,
  isPlainObject,
  jsonEqual,
  MERGE_KEYS,
  PatchError,
} from './strategic-merge';
import {
  ApiError,
  METHOD_NOT_ALLOWED,
  PATH_NOT_FOUND,
  badRequest,
  injectedFailure,
  invalid,
  makeStatus,
  metricsNotFound,
  notFound,
  qualifiedResource,
  resourceDetails,
} from './kube-api-errors';
import {
  POD_UPDATE_FORBIDDEN,
  QUANTITY_REGEXP_TEXT,
  RESOURCE_TYPES,
  apiVersionOf,
  hasMalformedQuantity,
  nowTimestamp,
  objectKey,
  parseFieldSelector,
  parseLabelSelector,
  podSpecMutableStripped,
  qualifiedKind,
  ruleNamesType,
  typeByKind,
  typeByPath,
  validateContainers,
  type KubeObject,
  type Matcher,
  type ResourceType,
} from './kube-api-resources';

export type { KubeObject } from './kube-api-resources';

export interface ForbiddenRule {
  verb: 'get' | 'list' | 'patch' | 'create' | 'impersonate';
  /** Plural, e.g. 'pods', 'events', 'nodes', 'deployments', 'pods.metrics.k8s.io'; 'users' or 'groups' for impersonate. */
  resource: string;
  /** Only deny in this namespace (and cluster-wide lists of the resource). Absent: deny everywhere. */
  namespace?: string;
  /** Only deny this user (the impersonated one, when a request impersonates). Absent: deny every user. */
  user?: string;
}

/** A validating admission webhook's refusal of matching patches (dry runs too, as the real server calls webhooks for them). */
export interface AdmissionDenial {
  kind: string;
  namespace?: string;
  name?: string;
  /** The HTTP status the webhook's refusal carries: 400, 403 or 422. */
  code: 400 | 403 | 422;
  message: string;
  webhook?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  /** The Impersonate-User and Impersonate-Group headers, each group line kept apart. */
  impersonation?: { user: string; groups: string[] };
}

const DEFAULT_USER = 'system:serviceaccount:oomdoctor:oomdoctor';
const TOKEN = 'fake-token';
/** Thrown inside request handling for a request that is to hang. */
const HANG = new Error('FakeKubeApi: this request hangs');

// ---------------------------------------------------------------------------
// Request plumbing
// ---------------------------------------------------------------------------

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw; // recorded as text; handlers that need JSON answer 400
  }
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

type Verb = ForbiddenRule['verb'];

interface Route {
  type: ResourceType;
  /** Namespace from the URL; undefined for cluster-scoped or all-namespaces requests. */
  namespace?: string;
  name?: string;
}

/** Maps a URL path to a resource, or undefined when no resource lives there. */
function resolveRoute(pathname: string): Route | undefined {
  let segments: string[];
  try {
    segments = pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
  } catch {
    return undefined;
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 2) {
    [group, version, rest] = ['', segments[1]!, segments.slice(2)];
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    [group, version, rest] = [segments[1]!, segments[2]!, segments.slice(3)];
  } else {
    return undefined;
  }

  if (rest[0] === 'namespaces' && rest.length >= 3) {
    if (rest.length > 4) return undefined; // subresources (status, log, scale...) are not served
    const type = typeByPath(group, version, rest[2]!);
    if (!type || !type.namespaced) return undefined;
    return { type, namespace: rest[1]!, ...(rest[3] !== undefined ? { name: rest[3] } : {}) };
  }
  if (rest.length === 0 || rest.length > 2) return undefined;
  const type = typeByPath(group, version, rest[0]!);
  if (!type) return undefined;
  if (rest.length === 2) {
    if (type.namespaced) return undefined; // e.g. /api/v1/pods/foo
    return { type, name: rest[1]! };
  }
  return { type }; // cluster-scoped list, or a list across all namespaces
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

function encodeContinue(rv: number, lastKey: string): string {
  // Same shape as the real token (base64 JSON); "\u0000" makes `start` sort just after lastKey.
  const token: ContinueToken = { v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeContinue(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<ContinueToken>;
    if (parsed.v === 'meta.k8s.io/v1' && typeof parsed.start === 'string') return parsed.start;
  } catch {
    // fall through
  }
  throw badRequest(
    'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
  );
}

/** `fieldsV1` for a managedFields entry: the fields a patch sets, in the server's f:/k: notation. */
function fieldsOf(value: unknown): Record<string, unknown> {
  if (!isPlainObject(value)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('$') || child === null || child === undefined) continue;
    const mergeKey = MERGE_KEYS[key];
    if (Array.isArray(child) && mergeKey !== undefined) {
      const items: Record<string, unknown> = {};
      for (const item of child) {
        if (isPlainObject(item) && item[mergeKey] !== undefined) {
          items[`k:${JSON.stringify({ [mergeKey]: item[mergeKey] })}`] = { '.': {}, ...fieldsOf(item) };
        }
      }
      out[`f:${key}`] = items;
    } else {
      out[`f:${key}`] = isPlainObject(child) ? fieldsOf(child) : {};
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  private readonly objects = new Map<string, Map<string, KubeObject>>(); // kind -> key -> stored object
  private readonly forbidden: ForbiddenRule[] = [];
  private readonly denials: AdmissionDenial[] = [];
  private readonly failures: number[] = []; // statuses of the next requests, in order
  private hangs = 0; // the next requests that never get an answer (until stop)
  private readonly hanging = new Set<http.ServerResponse>();
  private resourceVersion = 0;
  private token = TOKEN;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly user: string,
  ) {}

  /**
   * `tls`: serve HTTPS with this key and certificate; with `clientCa`, a client certificate it signed
   * authenticates as its CN (requests without one still need the bearer token).
   */
  static async start(
    options: {
      objects?: KubeObject[];
      user?: string;
      tls?: { key: string | Buffer; cert: string | Buffer; clientCa?: string | Buffer };
    } = {},
  ): Promise<FakeKubeApi> {
    const { tls } = options;
    const server: http.Server = tls
      ? https.createServer({
          key: tls.key,
          cert: tls.cert,
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
        })
      : http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const scheme = tls ? 'https' : 'http';
    const fake = new FakeKubeApi(server, `${scheme}://127.0.0.1:${port}`, options.user ?? DEFAULT_USER);
    server.on(
      'request',
      (req: http.IncomingMessage, res: http.ServerResponse) => void fake.onRequest(req, res),
    );
    try {
      for (const obj of options.objects ?? []) {
        if (typeof obj.kind !== 'string') {
          throw new Error(`FakeKubeApi.start: object ${JSON.stringify(obj.metadata?.name)} has no kind`);
        }
        fake.put(obj.kind, obj);
      }
    } catch (err) {
      await fake.stop(); // do not leak a listening server when the fixture is wrong
      throw err;
    }
    return fake;
  }

  /** Adds or replaces an object. Namespaces of namespaced objects are created when missing, as a cluster has them. */
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

  /** Removes an object; removing one that does not exist is a no-op. */
  remove(kind: string, namespace: string | undefined, name: string): void {
    const type = typeByKind(kind);
    if (
      this.bucket(type).delete(objectKey(type.namespaced ? namespace : undefined, name)) &&
      !type.synthetic
    ) {
      this.resourceVersion++; // a delete is a write in etcd too
    }
  }

  forbid(rule: ForbiddenRule): void {
    this.forbidden.push({ ...rule });
  }

  /** Removes every forbid() rule and admission denial. */
  allowAll(): void {
    this.forbidden.splice(0);
    this.denials.splice(0);
  }

  /** Makes patches of matching objects fail as a validating admission webhook would refuse them. */
  admissionDeny(denial: AdmissionDenial): void {
    this.denials.push({ ...denial });
  }

  /**
   * Replaces fields of an object's status, as its controller would through the status subresource:
   * resourceVersion moves, generation does not.
   */
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

  failNext(status: number, count = 1): void {
    if (!Number.isInteger(status) || status < 400 || status > 599)
      throw new Error(`FakeKubeApi.failNext: ${status} is not an error status`);
    for (let i = 0; i < count; i++) this.failures.push(status);
  }

  /** The next `count` requests are recorded and never answered (a hung API server or proxy), until stop(). */
  hangNext(count = 1): void {
    this.hangs += count;
  }

  /** Requests from now on are answered again (those already hanging stay so). */
  stopHanging(): void {
    this.hangs = 0;
  }

  /** The bearer token the server accepts from now on (the old one gets 401, as after a rotation). */
  setToken(token: string): void {
    this.token = token;
  }

  get acceptedToken(): string {
    return this.token;
  }

  kubeconfigYaml(contextName = 'fake'): string {
    // JSON strings are valid YAML scalars, so quoting with JSON.stringify is safe for any name.
    const ctx = JSON.stringify(contextName);
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake-cluster',
      '  cluster:',
      `    server: ${JSON.stringify(this.url)}`,
      // client-node refuses http:// servers unless TLS verification is (nominally) off.
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: fake-user',
      '  user:',
      `    token: ${this.token}`,
      'contexts:',
      `- name: ${ctx}`,
      '  context:',
      '    cluster: fake-cluster',
      '    user: fake-user',
      '    namespace: default',
      `current-context: ${ctx}`,
      '',
    ].join('\n');
  }

  writeKubeconfig(path: string, contextName?: string): void {
    fs.writeFileSync(path, this.kubeconfigYaml(contextName), { mode: 0o600 });
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve, reject) =>
      this.server.close((err) => (err ? reject(err) : resolve())),
    );
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    // Keep-alive sockets from the client would otherwise hold close() open (and jest with it).
    this.server.closeAllConnections();
    await closed;
  }

  // -- storage ---------------------------------------------------------------

  private bucket(type: ResourceType): Map<string, KubeObject> {
    let bucket = this.objects.get(type.kind);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(type.kind, bucket);
    }
    return bucket;
  }

  private nextResourceVersion(): string {
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

  /** An object as GET returns it: kind and apiVersion first, then the stored fields. */
  private present(type: ResourceType, stored: KubeObject): KubeObject {
    return { kind: type.kind, apiVersion: apiVersionOf(type), ...cloneJson(stored) };
  }

  // -- request handling ------------------------------------------------------

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let reply: { code: number; body: unknown; headers?: Record<string, string> };
    try {
      reply = await this.handle(req);
    } catch (err) {
      if (err === HANG) {
        this.hanging.add(res);
        return;
      }
      if (err instanceof ApiError) {
        reply = { code: err.status.code, body: err.status, headers: err.headers };
      } else {
        // A bug in the fake or its fixtures: answer like the API would, but say what broke.
        const message = `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`;
        reply = { code: 500, body: makeStatus(500, 'InternalError', message, { causes: [{ message }] }) };
      }
    }
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.code, {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(text)),
      'Cache-Control': 'no-cache, private',
      'Audit-Id': randomUUID(),
      ...reply.headers,
    });
    res.end(text);
  }

  private async handle(
    req: http.IncomingMessage,
  ): Promise<{ code: number; body: unknown; headers?: Record<string, string> }> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const query = Object.fromEntries(url.searchParams.entries());
    const body = parseBody(raw);
    const recorded: RecordedRequest = { method, path: url.pathname, query, headers: { ...req.headers } };
    if (body !== undefined) recorded.body = body;
    const impersonateUser = req.headersDistinct['impersonate-user']?.[0];
    const impersonateGroups = req.headersDistinct['impersonate-group'] ?? [];
    if (impersonateUser !== undefined || impersonateGroups.length > 0)
      recorded.impersonation = { user: impersonateUser ?? '', groups: [...impersonateGroups] };
    this.requests.push(recorded);
    if (this.hangs > 0) {
      this.hangs--;
      throw HANG;
    }

    const failure = this.failures.shift();
    if (failure !== undefined) throw injectedFailure(failure);

    const certificateUser = this.certificateUser(req);
    if (certificateUser === null && req.headers.authorization !== `Bearer ${this.token}`) {
      throw new ApiError(makeStatus(401, 'Unauthorized', 'Unauthorized'));
    }

    const user =
      certificateUser !== null && !recorded.impersonation
        ? certificateUser
        : this.impersonate(recorded.impersonation);
    if (method === 'POST' && url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      return { code: 201, body: this.selfSubjectAccessReview(body, user) };
    }

    const route = resolveRoute(url.pathname);
    if (!route) throw PATH_NOT_FOUND();
    const verb = this.verbFor(method, route);
    if (!verb) throw METHOD_NOT_ALLOWED();
    this.authorize(verb, route, user);

    switch (verb) {
      case 'get':
        return { code: 200, body: this.getOne(route) };
      case 'list':
        if (query.watch === 'true' || query.watch === '1') {
          throw badRequest('FakeKubeApi does not implement watch');
        }
        return { code: 200, body: this.list(route, query) };
      case 'patch':
        this.admit(route, query);
        return {
          code: 200,
          body: this.patch(route, query, req.headers['content-type'], raw, method, req.headers['user-agent']),
        };
      case 'create':
        return { code: 201, body: this.create(route, query, raw, req.headers['user-agent']) };
      default:
        throw METHOD_NOT_ALLOWED(); // 'impersonate' is a verb of RBAC rules, not of requests
    }
  }

  private verbFor(method: string, route: Route): Verb | undefined {
    if (route.name !== undefined) {
      if (method === 'GET') return 'get';
      if (method === 'PATCH' && route.type.patchable) return 'patch';
      return undefined;
    }
    if (method === 'GET') return 'list';
    const collectionOfOneNamespace = route.type.namespaced ? route.namespace !== undefined : true;
    if (method === 'POST' && !route.type.synthetic && collectionOfOneNamespace) return 'create';
    return undefined;
  }

  /** The CN of a client certificate the client CA signed, as the real server's x509 authenticator. */
  private certificateUser(req: http.IncomingMessage): string | null {
    const socket = req.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return null;
    const cn = socket.getPeerCertificate().subject?.CN;
    return typeof cn === 'string' && cn !== '' ? cn : null;
  }

  /** The user a request acts as: the impersonated one, once the real user may impersonate it (users and groups). */
  private impersonate(impersonation: RecordedRequest['impersonation']): string {
    if (!impersonation) return this.user;
    const check = (resource: 'users' | 'groups', name: string) => {
      const denied = this.forbidden.some(
        (r) =>
          r.verb === 'impersonate' &&
          r.resource === resource &&
          (r.user === undefined || r.user === this.user),
      );
      if (denied) {
        throw new ApiError(
          makeStatus(
            403,
            'Forbidden',
            `${resource} "${name}" is forbidden: User "${this.user}" cannot impersonate resource "${resource}" in API group "" at the cluster scope`,
            { name, kind: resource },
          ),
        );
      }
    };
    if (impersonation.user === '') throw badRequest('requested impersonation of groups without a user'); // the real server refuses too
    check('users', impersonation.user);
    for (const group of impersonation.groups) check('groups', group);
    return impersonation.user;
  }

  private denies(
    verb: string,
    resourceMatches: (rule: ForbiddenRule) => boolean,
    namespace: string | undefined,
    user: string,
  ): boolean {
    return this.forbidden.some(
      (rule) =>
        rule.verb === verb &&
        resourceMatches(rule) &&
        (rule.user === undefined || rule.user === user) &&
        // A namespace-scoped denial also denies the cluster-wide request (RBAC is additive:
        // whoever may list pods everywhere may list them in that namespace).
        (rule.namespace === undefined || namespace === undefined || rule.namespace === namespace),
    );
  }

  /** RBAC, as far as the fake models it: explicit denials, checked before the object is looked up. */
  private authorize(verb: Verb, route: Route, user: string = this.user): void {
    const { type } = route;
    // GET /api/v1/namespaces/{name} is authorised as a request inside that namespace.
    const namespace = type.kind === 'Namespace' && route.name !== undefined ? route.name : route.namespace;
    if (!this.denies(verb, (rule) => ruleNamesType(rule.resource, type), namespace, user)) return;

    const subject =
      route.name !== undefined ? `${qualifiedResource(type)} "${route.name}"` : qualifiedResource(type);
    const scope = namespace !== undefined ? `in the namespace "${namespace}"` : 'at the cluster scope';
    const message =
      `${subject} is forbidden: User "${user}" cannot ${verb} resource "${type.plural}" ` +
      `in API group "${type.group}" ${scope}`;
    throw new ApiError(makeStatus(403, 'Forbidden', message, resourceDetails(type, route.name)));
  }

  /** POST selfsubjectaccessreviews: may the requesting (or impersonated) user do this? Per the forbid() rules. */
  private selfSubjectAccessReview(body: unknown, user: string): KubeObject {
    if (!isPlainObject(body) || !isPlainObject(body.spec))
      throw badRequest('the body of the request must be a SelfSubjectAccessReview');
    const attributes = body.spec.resourceAttributes;
    if (!isPlainObject(attributes)) {
      throw invalid(
        'SelfSubjectAccessReview.authorization.k8s.io',
        'authorization.k8s.io',
        'SelfSubjectAccessReview',
        '',
        [
          {
            field: 'spec.resourceAttributes',
            type: 'Invalid',
            value: '',
            detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified',
          },
        ],
      );
    }
    const verb = String(attributes.verb ?? '');
    const group = String(attributes.group ?? '');
    const resource = String(attributes.resource ?? '');
    const namespace =
      attributes.namespace === undefined || attributes.namespace === ''
        ? undefined
        : String(attributes.namespace);
    const qualified = group ? `${resource}.${group}` : resource;
    const type = RESOURCE_TYPES.find((t) => t.group === group && t.plural === resource);
    const denied = this.denies(
      verb,
      (rule) =>
        type ? ruleNamesType(rule.resource, type) : rule.resource === qualified || rule.resource === resource,
      namespace,
      user,
    );
    return {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: cloneJson(body.spec),
      status: denied
        ? { allowed: false }
        : { allowed: true, reason: `RBAC: allowed by the fake for User "${user}"` },
    };
  }

  /** Validating admission webhooks: they see dry runs too, so a dry run catches their refusal. */
  private admit(route: Route, _query: Record<string, string>): void {
    const denial = this.denials.find(
      (d) =>
        d.kind === route.type.kind &&
        (d.namespace === undefined || d.namespace === route.namespace) &&
        (d.name === undefined || d.name === route.name),
    );
    if (!denial) return;
    const webhook = denial.webhook ?? 'validate.policy.example.com';
    const reasons: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 422: 'Invalid' };
    throw new ApiError(
      makeStatus(
        denial.code,
        reasons[denial.code] ?? 'BadRequest',
        `admission webhook "${webhook}" denied the request: ${denial.message}`,
      ),
    );
  }

  private lookup(route: Route & { name: string }): KubeObject {
    const stored = this.bucket(route.type).get(objectKey(route.namespace, route.name));
    if (stored) return stored;
    if (route.type.synthetic) {
      const subject = typeByKind(route.type.kind === 'PodMetrics' ? 'Pod' : 'Node');
      const subjectExists = this.bucket(subject).has(objectKey(route.namespace, route.name));
      throw metricsNotFound(route.type, route.name, route.namespace, subjectExists);
    }
    throw notFound(route.type, route.name);
  }

  private getOne(route: Route): KubeObject {
    return this.present(route.type, this.lookup(route as Route & { name: string }));
  }

  private list(route: Route, query: Record<string, string>): KubeObject {
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

  private dryRun(query: Record<string, string>, optionsKind: string): boolean {
    if (query.dryRun === undefined) return false;
    if (query.dryRun === 'All') return true;
    throw new ApiError(
      makeStatus(
        422,
        'Invalid',
        `${optionsKind}.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"${query.dryRun}"}: supported values: "All"`,
        {
          group: 'meta.k8s.io',
          kind: optionsKind,
          causes: [
            {
              reason: 'FieldValueNotSupported',
              message: `Unsupported value: []string{"${query.dryRun}"}: supported values: "All"`,
              field: 'dryRun',
            },
          ],
        },
      ),
    );
  }

  private patch(
    route: Route,
    query: Record<string, string>,
    contentType: string | undefined,
    raw: string,
    method: string,
    userAgent: string | undefined,
  ): KubeObject {
    const type = route.type;
    const name = route.name!;
    const patchType = mediaType(contentType);
    if (
      patchType !== 'application/strategic-merge-patch+json' &&
      patchType !== 'application/merge-patch+json'
    ) {
      throw new ApiError(
        makeStatus(
          415,
          'UnsupportedMediaType',
          'the body of the request was in an unknown format - accepted media types include: ' +
            'application/merge-patch+json, application/strategic-merge-patch+json',
        ),
      );
    }
    const dryRun = this.dryRun(query, 'PatchOptions');
    const original = this.lookup({ ...route, name });

    let patch: unknown;
    try {
      patch = JSON.parse(raw) as unknown;
    } catch (err) {
      throw badRequest(`error decoding patch: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!isPlainObject(patch)) throw badRequest(`error decoding patch: ${method} body must be a JSON object`);

    let patched: KubeObject;
    try {
      const base = this.present(type, original);
      patched = (
        patchType === 'application/merge-patch+json'
          ? applyMergePatch(base, patch)
          : applyStrategicMergePatch(base, patch)
      ) as KubeObject;
    } catch (err) {
      if (err instanceof PatchError) throw badRequest(err.message);
      throw err;
    }
    if (!isPlainObject(patched.metadata)) patched.metadata = {};
    const meta = patched.metadata as KubeObject;
    const origMeta = original.metadata as KubeObject;

    // Preconditions carried in the patch (optimistic locking).
    if (meta.uid !== undefined && meta.uid !== origMeta.uid) {
      throw new ApiError(
        makeStatus(
          409,
          'Conflict',
          `Precondition failed: UID in precondition: ${String(meta.uid)}, UID in object meta: ${String(origMeta.uid)}`,
          resourceDetails(type, name),
        ),
      );
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== origMeta.resourceVersion) {
      throw new ApiError(
        makeStatus(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          resourceDetails(type, name),
        ),
      );
    }
    if (meta.name !== name || (type.namespaced && meta.namespace !== route.namespace)) {
      throw badRequest(
        `the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`,
      );
    }

    // Fields the client cannot change through this endpoint are reset, as the real strategies do.
    delete patched.kind;
    delete patched.apiVersion;
    for (const key of [
      'uid',
      'creationTimestamp',
      'resourceVersion',
      'generation',
      'managedFields',
    ] as const) {
      if (origMeta[key] === undefined) delete meta[key];
      else meta[key] = cloneJson(origMeta[key]);
    }
    if (type.statusSubresource) {
      if (original.status === undefined) delete patched.status;
      else patched.status = cloneJson(original.status);
    }

    if (hasMalformedQuantity(type, patched)) {
      // Decoding the patched object fails before validation; the two patch paths word it differently.
      if (patchType === 'application/merge-patch+json') {
        throw badRequest(
          `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: quantities must match the regular expression ${QUANTITY_REGEXP_TEXT}`,
        );
      }
      throw invalid('', undefined, '', '', [
        {
          field: 'patch',
          type: 'Invalid',
          value: JSON.stringify(patch),
          detail: `quantities must match the regular expression ${QUANTITY_REGEXP_TEXT}`,
        },
      ]);
    }
    const errors = validateContainers(type, patched);
    if (
      type.kind === 'Pod' &&
      !jsonEqual(podSpecMutableStripped(original.spec), podSpecMutableStripped(patched.spec))
    ) {
      errors.push({ field: 'spec', type: 'Forbidden', detail: POD_UPDATE_FORBIDDEN });
    }
    if (errors.length > 0)
      throw invalid(qualifiedKind(type), type.group || undefined, type.kind, name, errors);

    if (jsonEqual(original, patched)) {
      return this.present(type, original); // a no-op patch writes nothing, so resourceVersion stays
    }
    if (type.hasGeneration && !jsonEqual(original.spec, patched.spec)) {
      meta.generation = (typeof origMeta.generation === 'number' ? origMeta.generation : 0) + 1;
    }
    this.recordManager(type, meta, query.fieldManager, userAgent, patch);
    if (dryRun) return this.present(type, patched); // the would-be object; storage and resourceVersion untouched

    meta.resourceVersion = this.nextResourceVersion();
    this.bucket(type).set(objectKey(route.namespace, name), patched);
    return this.present(type, patched);
  }

  private create(
    route: Route,
    query: Record<string, string>,
    raw: string,
    userAgent: string | undefined,
  ): KubeObject {
    const type = route.type;
    const dryRun = this.dryRun(query, 'CreateOptions');
    let obj: unknown;
    try {
      obj = JSON.parse(raw) as unknown;
    } catch (err) {
      throw badRequest(`error decoding body: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!isPlainObject(obj)) throw badRequest('the body of the request must be a JSON object');
    if (obj.kind !== undefined && obj.kind !== type.kind) {
      throw badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(type)})`,
      );
    }
    const stored: KubeObject = cloneJson(obj);
    delete stored.kind;
    delete stored.apiVersion;
    if (!isPlainObject(stored.metadata)) stored.metadata = {};
    const meta = stored.metadata as KubeObject;
    if (type.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== route.namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = route.namespace;
    }
    if (typeof meta.name !== 'string' || meta.name === '') {
      if (typeof meta.generateName !== 'string' || meta.generateName === '') {
        throw invalid(qualifiedKind(type), type.group || undefined, type.kind, '', [
          { field: 'metadata.name', type: 'Required', detail: 'name or generateName is required' },
        ]);
      }
      meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    }
    const name = meta.name as string;
    if (route.namespace !== undefined && !this.bucket(typeByKind('Namespace')).has(route.namespace)) {
      throw notFound(typeByKind('Namespace'), route.namespace);
    }
    if (this.bucket(type).has(objectKey(route.namespace, name))) {
      throw new ApiError(
        makeStatus(
          409,
          'AlreadyExists',
          `${qualifiedResource(type)} "${name}" already exists`,
          resourceDetails(type, name),
        ),
      );
    }
    if (hasMalformedQuantity(type, stored)) {
      throw badRequest(
        `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: quantities must match the regular expression ${QUANTITY_REGEXP_TEXT}`,
      );
    }
    const errors = validateContainers(type, stored);
    if (errors.length > 0)
      throw invalid(qualifiedKind(type), type.group || undefined, type.kind, name, errors);

    for (const key of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields'] as const)
      delete meta[key];
    if (type.statusSubresource) delete stored.status;
    this.recordManager(type, meta, query.fieldManager, userAgent, obj);
    if (dryRun) {
      meta.uid = randomUUID();
      meta.creationTimestamp = nowTimestamp();
      if (type.hasGeneration) meta.generation = 1;
      return this.present(type, stored);
    }
    this.put(type.kind, stored);
    return this.present(type, this.lookup({ ...route, name }));
  }

  /** Adds/updates the managedFields entry of the writer, like the server's field manager. */
  private recordManager(
    type: ResourceType,
    meta: KubeObject,
    fieldManager: string | undefined,
    userAgent: string | undefined,
    applied: unknown,
  ): void {
    // Without ?fieldManager= the server names the manager after the User-Agent, up to its first '/'.
    const manager = fieldManager || (userAgent ? userAgent.split('/')[0]! : 'unknown');
    const entries: KubeObject[] = Array.isArray(meta.managedFields) ? meta.managedFields : [];
    const existing = entries.find(
      (e) => e.manager === manager && e.operation === 'Update' && e.subresource === undefined,
    );
    const fields = fieldsOf(
      isPlainObject(applied) ? { ...applied, kind: undefined, apiVersion: undefined } : {},
    );
    const entry: KubeObject = {
      manager,
      operation: 'Update',
      apiVersion: apiVersionOf(type),
      time: nowTimestamp(),
      fieldsType: 'FieldsV1',
      fieldsV1: existing ? applyMergePatch(existing.fieldsV1, fields) : fields,
    };
    meta.managedFields = [...entries.filter((e) => e !== existing), entry];
  }
}
