// The fake Kubernetes API's Status objects and errors, worded as the real server words them, and the
// failures a test can inject (429 with Retry-After, 5xx from the API or its load balancer).

import * as http from 'node:http';

/**
 * The parts of a resource type (kube-api-resources.ts) a Status names. Declared here, not imported:
 * that module builds its errors with this one, and the two should not import each other.
 */
export interface NamedResource {
  kind: string;
  plural: string;
  /** API group, '' for the core group. */
  group: string;
  /** The resource a 404 names when it differs from the plural. */
  notFoundResource?: string;
}

// ---------------------------------------------------------------------------
// Status objects and errors
// ---------------------------------------------------------------------------

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: Array<{ reason?: string; message: string; field?: string }>;
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

export function makeStatus(code: number, reason: string, message: string, details?: StatusDetails): Status {
  // Key order as the real server writes it (details, when present, before code), so raw bodies read alike.
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details !== undefined ? { details } : {}),
    code,
  };
}

/** Thrown inside request handling; turned into a Status response. */
export class ApiError extends Error {
  constructor(
    readonly status: Status,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message);
  }
}

export function resourceDetails(type: NamedResource, name?: string): StatusDetails {
  const details: StatusDetails = {};
  if (name !== undefined) details.name = name;
  if (type.group) details.group = type.group;
  details.kind = type.plural;
  return details;
}

export function badRequest(message: string): ApiError {
  return new ApiError(makeStatus(400, 'BadRequest', message));
}

/** 409 AlreadyExists: a POST of a name that is taken. */
export function alreadyExists(type: NamedResource, name: string): ApiError {
  return new ApiError(
    makeStatus(
      409,
      'AlreadyExists',
      `${qualifiedResource(type)} "${name}" already exists`,
      resourceDetails(type, name),
    ),
  );
}

export function notFound(type: NamedResource, name: string): ApiError {
  return new ApiError(
    makeStatus(
      404,
      'NotFound',
      `${qualifiedResource(type)} "${name}" not found`,
      resourceDetails(type, name),
    ),
  );
}

/** metrics-server's NotFound: `podmetrics.metrics.k8s.io "shop/api-1" not found`, or `pods "shop/api-1"` without the pod. */
export function metricsNotFound(
  type: NamedResource,
  name: string,
  namespace: string | undefined,
  subjectExists: boolean,
): ApiError {
  const id = namespace === undefined ? name : `${namespace}/${name}`;
  if (!subjectExists) {
    const subject = type.kind === 'PodMetrics' ? 'pods' : 'nodes';
    return new ApiError(
      makeStatus(404, 'NotFound', `${subject} "${id}" not found`, { name: id, kind: subject }),
    );
  }
  const resource = type.notFoundResource ?? type.plural;
  return new ApiError(
    makeStatus(404, 'NotFound', `${resource}.${type.group} "${id}" not found`, {
      name: id,
      group: type.group,
      kind: resource,
    }),
  );
}

export const PATH_NOT_FOUND = (): ApiError =>
  new ApiError(makeStatus(404, 'NotFound', 'the server could not find the requested resource', {}));

export const METHOD_NOT_ALLOWED = (): ApiError =>
  new ApiError(
    makeStatus(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
      {},
    ),
  );

export interface FieldError {
  field: string;
  type: 'Invalid' | 'Required' | 'Forbidden' | 'NotSupported';
  value?: string;
  detail?: string;
}

export const FIELD_ERROR_REASON: Record<FieldError['type'], string> = {
  Invalid: 'FieldValueInvalid',
  Required: 'FieldValueRequired',
  Forbidden: 'FieldValueForbidden',
  NotSupported: 'FieldValueNotSupported',
};

export function fieldErrorMessage(e: FieldError): string {
  switch (e.type) {
    case 'Invalid':
      return `Invalid value: ${JSON.stringify(e.value ?? '')}: ${e.detail ?? ''}`;
    case 'Required':
      return 'Required value';
    case 'Forbidden':
      return `Forbidden: ${e.detail ?? ''}`;
    case 'NotSupported':
      return `Unsupported value: ${JSON.stringify(e.value ?? '')}: ${e.detail ?? ''}`;
  }
}

/** 422 Invalid, worded like apimachinery's errors.NewInvalid. */
export function invalid(
  kindLabel: string,
  group: string | undefined,
  kind: string,
  name: string,
  errors: FieldError[],
): ApiError {
  const rendered = errors.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
  const summary = rendered.length === 1 ? rendered[0] : `[${rendered.join(', ')}]`;
  // Empty fields are omitted, as Go's omitempty does.
  const details: StatusDetails = {};
  if (name) details.name = name;
  if (group) details.group = group;
  if (kind) details.kind = kind;
  details.causes = errors.map((e) => ({
    reason: FIELD_ERROR_REASON[e.type],
    message: fieldErrorMessage(e),
    field: e.field,
  }));
  return new ApiError(makeStatus(422, 'Invalid', `${kindLabel} "${name}" is invalid: ${summary}`, details));
}

/** The Status the API (or the load balancer in front of it) answers for an injected failure. */
export function injectedFailure(code: number): ApiError {
  switch (code) {
    case 429:
      return new ApiError(
        makeStatus(429, 'TooManyRequests', 'Too many requests, please try again later.', {
          retryAfterSeconds: 1,
        }),
        { 'Retry-After': '1' },
      );
    case 500:
      return new ApiError(
        makeStatus(500, 'InternalError', 'Internal error occurred: injected failure', {
          causes: [{ message: 'injected failure' }],
        }),
      );
    case 503:
      return new ApiError(
        makeStatus(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', {}),
      );
    case 504:
      return new ApiError(
        makeStatus(
          504,
          'Timeout',
          'Timeout: request did not complete within requested timeout - context deadline exceeded',
          {},
        ),
      );
    default: {
      const reasons: Record<number, string> = {
        400: 'BadRequest',
        401: 'Unauthorized',
        403: 'Forbidden',
        404: 'NotFound',
        405: 'MethodNotAllowed',
        409: 'Conflict',
        410: 'Expired',
        415: 'UnsupportedMediaType',
        422: 'Invalid',
      };
      return new ApiError(
        makeStatus(code, reasons[code] ?? 'Unknown', http.STATUS_CODES[code] ?? `HTTP ${code}`, {}),
      );
    }
  }
}

/** "deployments.apps", "pods" — how the API names a resource in messages. */
export function qualifiedResource(type: NamedResource): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}
