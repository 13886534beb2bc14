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
//
// This file is the server: its lifecycle, the API tests drive it with, and request dispatch. The parts
// it dispatches to are in kube-api-resources.ts (kinds, selectors, validation), kube-api-errors.ts
// (Status bodies), kube-api-requests.ts (bodies, routes, continue tokens), kube-api-auth.ts (who the
// user is, RBAC, admission), kube-api-store.ts (storage, GET and list) and kube-api-writes.ts (PATCH
// and POST).

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  ApiError,
  METHOD_NOT_ALLOWED,
  PATH_NOT_FOUND,
  badRequest,
  injectedFailure,
  makeStatus,
} from './kube-api-errors';
import type { KubeObject } from './kube-api-resources';
import {
  impersonationOf,
  parseBody,
  readBody,
  resolveRoute,
  type RecordedRequest,
} from './kube-api-requests';
import {
  admit,
  authorize,
  certificateUser,
  impersonate,
  selfSubjectAccessReview,
  verbFor,
  type AdmissionDenial,
  type ForbiddenRule,
} from './kube-api-auth';
import { ObjectStore } from './kube-api-store';
import { createObject, patchObject } from './kube-api-writes';

// The pieces live in kube-api-*.ts; tests import all of the fake's API from here.
export type { KubeObject } from './kube-api-resources';
export type { RecordedRequest } from './kube-api-requests';
export type { AdmissionDenial, ForbiddenRule } from './kube-api-auth';

const DEFAULT_USER = 'system:serviceaccount:oomdoctor:oomdoctor';
const TOKEN = 'fake-token';
/** Thrown inside request handling for a request that is to hang. */
const HANG = new Error('FakeKubeApi: this request hangs');

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  private readonly store = new ObjectStore();
  private readonly forbidden: ForbiddenRule[] = [];
  private readonly denials: AdmissionDenial[] = [];
  private readonly failures: number[] = []; // statuses of the next requests, in order
  private hangs = 0; // the next requests that never get an answer (until stop)
  private readonly hanging = new Set<http.ServerResponse>();
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
    this.store.put(kind, obj);
  }

  /** Removes an object; removing one that does not exist is a no-op. */
  remove(kind: string, namespace: string | undefined, name: string): void {
    this.store.remove(kind, namespace, name);
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
    this.store.setStatus(kind, namespace, name, status);
  }

  /** A stored object as GET returns it, or undefined. */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(kind, namespace, name);
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
    const impersonation = impersonationOf(req);
    if (impersonation) recorded.impersonation = impersonation;
    this.requests.push(recorded);
    if (this.hangs > 0) {
      this.hangs--;
      throw HANG;
    }

    const failure = this.failures.shift();
    if (failure !== undefined) throw injectedFailure(failure);

    const certUser = certificateUser(req);
    if (certUser === null && req.headers.authorization !== `Bearer ${this.token}`) {
      throw new ApiError(makeStatus(401, 'Unauthorized', 'Unauthorized'));
    }

    const user =
      certUser !== null && !recorded.impersonation
        ? certUser
        : impersonate(this.forbidden, this.user, recorded.impersonation);
    if (method === 'POST' && url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      return { code: 201, body: selfSubjectAccessReview(this.forbidden, body, user) };
    }

    const route = resolveRoute(url.pathname);
    if (!route) throw PATH_NOT_FOUND();
    const verb = verbFor(method, route);
    if (!verb) throw METHOD_NOT_ALLOWED();
    authorize(this.forbidden, verb, route, user);

    switch (verb) {
      case 'get':
        return { code: 200, body: this.store.getOne(route) };
      case 'list':
        if (query.watch === 'true' || query.watch === '1') {
          throw badRequest('FakeKubeApi does not implement watch');
        }
        return { code: 200, body: this.store.list(route, query) };
      case 'patch':
        admit(this.denials, route);
        return {
          code: 200,
          body: patchObject(
            this.store,
            route,
            query,
            req.headers['content-type'],
            raw,
            method,
            req.headers['user-agent'],
          ),
        };
      case 'create':
        return { code: 201, body: createObject(this.store, route, query, raw, req.headers['user-agent']) };
      default:
        throw METHOD_NOT_ALLOWED(); // 'impersonate' is a verb of RBAC rules, not of requests
    }
  }
}
