// The RBAC objects the product ships, read as Kubernetes would: the minimum the bot needs to
// diagnose, patch only the workload kinds a fix changes (and only where bound), impersonate only the
// mapped identities. Checked against what the code actually calls.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { resourceOf } from '../../../src/adapters/cluster-writer';
import type { PatchableKind } from '../../../src/apply/types';
import { SHIPPED_RBAC } from '../../support/rbac';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

function load(file: string): K8sObject[] {
  const text = readFileSync(join(__dirname, '..', '..', '..', file), 'utf8');
  return parseAllDocuments(text).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJSON() as K8sObject;
  });
}

/** Every (group, resource, verb) a role grants, as "verb resource.group" strings. */
function grants(role: K8sObject): string[] {
  const out: string[] = [];
  for (const rule of role.rules ?? [])
    for (const g of rule.apiGroups)
      for (const r of rule.resources) for (const v of rule.verbs) out.push(`${v} ${g ? `${r}.${g}` : r}`);
  return out.sort();
}

const SA = { kind: 'ServiceAccount', name: 'oomdoctor', namespace: 'oomdoctor' };

function roleNamed(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

describe(`${SHIPPED_RBAC.read}: reads only`, () => {
  const objects = load(SHIPPED_RBAC.read);
  const role = roleNamed(objects, 'ClusterRole', 'oomdoctor-read');

  it('grants exactly what the engine reads, and no write verb, no wildcard', () => {
    expect(grants(role)).toEqual(
      [
        'get pods',
        'list pods', // /oom <pod> across namespaces, and a workload's pods
        'list events',
        'get nodes',
        'get configmaps',
        'list limitranges',
        'list resourcequotas',
        'get replicasets.apps',
        'get deployments.apps',
        'get statefulsets.apps',
        'get daemonsets.apps',
        'get jobs.batch',
        'get cronjobs.batch',
        'get rollouts.argoproj.io',
        'get pods.metrics.k8s.io',
      ].sort(),
    );
    for (const rule of role.rules ?? []) {
      expect(rule.verbs.every((v) => v === 'get' || v === 'list')).toBe(true);
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
    }
  });

  it('binds it to the oomdoctor ServiceAccount', () => {
    expect(objects.find((o) => o.kind === 'ServiceAccount')?.metadata).toEqual({
      name: 'oomdoctor',
      namespace: 'oomdoctor',
    });
    const binding = roleNamed(objects, 'ClusterRoleBinding', 'oomdoctor-read');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'oomdoctor-read',
    });
    expect(binding.subjects).toEqual([SA]);
  });
});

describe(`${SHIPPED_RBAC.apply}: patch the four workload kinds, where bound`, () => {
  const objects = load(SHIPPED_RBAC.apply);
  const role = roleNamed(objects, 'ClusterRole', 'oomdoctor-apply');

  it('grants patch on Deployments, StatefulSets, DaemonSets and CronJobs, and nothing else', () => {
    const kinds: PatchableKind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'];
    expect(grants(role)).toEqual(
      kinds.map((k) => `patch ${resourceOf(k).resource}.${resourceOf(k).group}`).sort(),
    );
  });

  it('is granted per namespace with RoleBindings, never cluster-wide', () => {
    expect(objects.some((o) => o.kind === 'ClusterRoleBinding')).toBe(false);
    const bindings = objects.filter((o) => o.kind === 'RoleBinding');
    expect(bindings.length).toBeGreaterThan(0);
    for (const b of bindings) {
      expect(b.metadata.namespace).toBeTruthy();
      expect(b.roleRef?.name).toBe('oomdoctor-apply');
      expect(b.subjects).toEqual([SA]);
    }
  });
});

describe(`${SHIPPED_RBAC.impersonate}: impersonate the mapped identities, ask access reviews`, () => {
  const objects = load(SHIPPED_RBAC.impersonate);
  const role = roleNamed(objects, 'ClusterRole', 'oomdoctor-impersonate');

  it('grants impersonate on named users and groups only, and creating access reviews; no patch', () => {
    expect(grants(role)).toEqual([
      'create selfsubjectaccessreviews.authorization.k8s.io',
      'impersonate groups',
      'impersonate users',
    ]);
    for (const rule of role.rules ?? []) {
      if (rule.verbs.includes('impersonate')) expect(rule.resourceNames?.length).toBeGreaterThan(0);
    }
    // Never service accounts or user extras: only the users and groups of the map.
    expect(grants(role).some((g) => g.includes('serviceaccounts') || g.includes('userextras'))).toBe(false);
  });

  it('binds it to the oomdoctor ServiceAccount', () => {
    expect(roleNamed(objects, 'ClusterRoleBinding', 'oomdoctor-impersonate').subjects).toEqual([SA]);
  });
});
