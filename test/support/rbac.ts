// The shipped RBAC (under deploy/kubernetes/) as a set of "verb resource.group" grants, and the grant
// a recorded request to the fake Kubernetes API needed, so a test can check the one covers the other.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { RecordedRequest } from '../fakes/kube-api';

/** The shipped RBAC files, relative to the repository: kustomize wants them under its root. */
export const SHIPPED_RBAC = {
  read: 'deploy/kubernetes/rbac.yaml',
  apply: 'deploy/kubernetes/components/apply-fix/rbac-apply.yaml',
  impersonate: 'deploy/kubernetes/components/impersonation/rbac-impersonate.yaml',
} as const;

export function shippedGrants(files: string[]): Set<string> {
  const grants = new Set<string>();
  for (const file of files) {
    const text = readFileSync(join(__dirname, '..', '..', file), 'utf8');
    for (const doc of parseAllDocuments(text)) {
      const obj = doc.toJSON() as {
        kind: string;
        rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
      };
      if (obj.kind !== 'ClusterRole' && obj.kind !== 'Role') continue;
      for (const rule of obj.rules ?? [])
        for (const g of rule.apiGroups)
          for (const r of rule.resources)
            for (const v of rule.verbs) grants.add(`${v} ${g ? `${r}.${g}` : r}`);
    }
  }
  return grants;
}

/** What RBAC must allow for a request: its verb on its resource, and impersonation when it impersonates. */
export function neededGrants(request: RecordedRequest): string[] {
  const segments = request.path.split('/').filter(Boolean);
  const [group, rest] =
    segments[0] === 'api' ? ['', segments.slice(2)] : [segments[1] ?? '', segments.slice(3)];
  const namespaced = rest[0] === 'namespaces' && rest.length >= 3;
  const resource = namespaced ? rest[2] : rest[0];
  const name = namespaced ? rest[3] : rest[1];
  const verb =
    request.method === 'GET'
      ? name
        ? 'get'
        : 'list'
      : request.method === 'PATCH'
        ? 'patch'
        : request.method === 'POST'
          ? 'create'
          : request.method.toLowerCase();
  const needed = [`${verb} ${group ? `${resource}.${group}` : resource}`];
  if (request.impersonation) {
    needed.push('impersonate users');
    if (request.impersonation.groups.length > 0) needed.push('impersonate groups');
  }
  return needed;
}
