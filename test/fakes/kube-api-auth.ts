// The fake Kubernetes API's access control: who a request acts as (client certificate, impersonation),
// RBAC denials from forbid() rules, SelfSubjectAccessReview answered from the same rules, and
// validating admission webhooks' refusals. Split from kube-api.ts; the functions take the rules they
// check, so the server keeps the only copy of them.

import type * as http from 'node:http';
import type { TLSSocket } from 'node:tls';
import { cloneJson, isPlainObject } from './strategic-merge';
import {
  ApiError,
  badRequest,
  invalid,
  makeStatus,
  qualifiedResource,
  resourceDetails,
} from './kube-api-errors';
import { RESOURCE_TYPES, ruleNamesType, type KubeObject } from './kube-api-resources';
import type { RecordedRequest, Route } from './kube-api-requests';

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

export type Verb = ForbiddenRule['verb'];

/** The RBAC verb a request needs, or undefined when the method is not allowed on that route. */
export function verbFor(method: string, route: Route): Verb | undefined {
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

// ---------------------------------------------------------------------------
// Authentication and impersonation
// ---------------------------------------------------------------------------

/** The CN of a client certificate the client CA signed, as the real server's x509 authenticator. */
export function certificateUser(req: http.IncomingMessage): string | null {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return null;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : null;
}

/**
 * The user a request acts as: the impersonated one, once the real user (`realUser`) may impersonate
 * it (users and groups).
 */
export function impersonate(
  rules: readonly ForbiddenRule[],
  realUser: string,
  impersonation: RecordedRequest['impersonation'],
): string {
  if (!impersonation) return realUser;
  const check = (resource: 'users' | 'groups', name: string) => {
    const denied = rules.some(
      (r) =>
        r.verb === 'impersonate' && r.resource === resource && (r.user === undefined || r.user === realUser),
    );
    if (denied) {
      throw new ApiError(
        makeStatus(
          403,
          'Forbidden',
          `${resource} "${name}" is forbidden: User "${realUser}" cannot impersonate resource "${resource}" in API group "" at the cluster scope`,
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

// ---------------------------------------------------------------------------
// Authorization
// ---------------------------------------------------------------------------

function denies(
  rules: readonly ForbiddenRule[],
  verb: string,
  resourceMatches: (rule: ForbiddenRule) => boolean,
  namespace: string | undefined,
  user: string,
): boolean {
  return rules.some(
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
export function authorize(rules: readonly ForbiddenRule[], verb: Verb, route: Route, user: string): void {
  const { type } = route;
  // GET /api/v1/namespaces/{name} is authorised as a request inside that namespace.
  const namespace = type.kind === 'Namespace' && route.name !== undefined ? route.name : route.namespace;
  if (!denies(rules, verb, (rule) => ruleNamesType(rule.resource, type), namespace, user)) return;

  const subject =
    route.name !== undefined ? `${qualifiedResource(type)} "${route.name}"` : qualifiedResource(type);
  const scope = namespace !== undefined ? `in the namespace "${namespace}"` : 'at the cluster scope';
  const message =
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${type.plural}" ` +
    `in API group "${type.group}" ${scope}`;
  throw new ApiError(makeStatus(403, 'Forbidden', message, resourceDetails(type, route.name)));
}

/** POST selfsubjectaccessreviews: may the requesting (or impersonated) user do this? Per the forbid() rules. */
export function selfSubjectAccessReview(
  rules: readonly ForbiddenRule[],
  body: unknown,
  user: string,
): KubeObject {
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
  const denied = denies(
    rules,
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

// ---------------------------------------------------------------------------
// Admission
// ---------------------------------------------------------------------------

/** Validating admission webhooks: they see dry runs too, so a dry run catches their refusal. */
export function admit(denials: readonly AdmissionDenial[], route: Route): void {
  const denial = denials.find(
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
