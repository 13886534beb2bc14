// The fake Kubernetes API's request plumbing: reading and recording a request, mapping its URL path to
// a resource, and the continue tokens of paged lists. Split from kube-api.ts, which holds the server;
// nothing here keeps state, so it needs neither the store nor the RBAC rules.

import type * as http from 'node:http';
import { badRequest } from './kube-api-errors';
import { typeByPath, type ResourceType } from './kube-api-resources';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  /** The Impersonate-User and Impersonate-Group headers, each group line kept apart. */
  impersonation?: { user: string; groups: string[] };
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw; // recorded as text; handlers that need JSON answer 400
  }
}

/** The Impersonate-User and Impersonate-Group headers of a request, or undefined when it has none. */
export function impersonationOf(req: http.IncomingMessage): RecordedRequest['impersonation'] {
  const impersonateUser = req.headersDistinct['impersonate-user']?.[0];
  const impersonateGroups = req.headersDistinct['impersonate-group'] ?? [];
  if (impersonateUser === undefined && impersonateGroups.length === 0) return undefined;
  return { user: impersonateUser ?? '', groups: [...impersonateGroups] };
}

export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

export interface Route {
  type: ResourceType;
  /** Namespace from the URL; undefined for cluster-scoped or all-namespaces requests. */
  namespace?: string;
  name?: string;
}

/** Maps a URL path to a resource, or undefined when no resource lives there. */
export function resolveRoute(pathname: string): Route | undefined {
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

// ---------------------------------------------------------------------------
// Continue tokens
// ---------------------------------------------------------------------------

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

export function encodeContinue(rv: number, lastKey: string): string {
  // Same shape as the real token (base64 JSON); "\u0000" makes `start` sort just after lastKey.
  const token: ContinueToken = { v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

export function decodeContinue(token: string): string {
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
