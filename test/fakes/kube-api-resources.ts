// The fake Kubernetes API's resource catalogue, selectors and validation: what kinds it serves, at
// which paths, which field and label selectors they accept, and how the real server checks
// container resources. Split from kube-api.ts; the server itself lives there.

import { cloneJson, isPlainObject } from './strategic-merge';
import { badRequest, qualifiedResource, type FieldError } from './kube-api-errors';

export type KubeObject = Record<string, any>; // a real API object; must have metadata.name, and metadata.namespace when namespaced

// ---------------------------------------------------------------------------
// Resource catalogue
// ---------------------------------------------------------------------------

export interface ResourceType {
  kind: string;
  plural: string;
  /** API group, '' for the core group. */
  group: string;
  version: string;
  namespaced: boolean;
  /** fieldSelector labels the real server accepts for this resource, besides metadata.name/namespace. */
  fieldLabels: readonly string[];
  patchable: boolean;
  /** Carries metadata.generation, bumped when spec changes. */
  hasGeneration: boolean;
  /** `status` is a subresource: PATCH/POST on the main resource cannot change it. */
  statusSubresource: boolean;
  /** Path to the pod spec, for container validation. */
  podSpecPath?: readonly string[];
  /** metrics.k8s.io objects are computed per request by metrics-server: no uid, no resourceVersion, read-only. */
  synthetic?: boolean;
  /** metrics-server names its resources differently in NotFound errors ("podmetrics", with "ns/name"). */
  notFoundResource?: string;
}

export const POD_FIELDS = [
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.schedulerName',
  'spec.serviceAccountName',
  'spec.hostNetwork',
  'status.phase',
  'status.podIP',
  'status.nominatedNodeName',
] as const;
export const EVENT_FIELDS = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
] as const;
export const TEMPLATE_POD_SPEC = ['spec', 'template', 'spec'] as const;

export function workload(
  kind: string,
  plural: string,
  group: string,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return {
    kind,
    plural,
    group,
    version: 'v1',
    namespaced: true,
    fieldLabels: [],
    patchable: false,
    hasGeneration: true,
    statusSubresource: true,
    podSpecPath: TEMPLATE_POD_SPEC,
    ...extra,
  };
}

export function core(kind: string, plural: string, extra: Partial<ResourceType> = {}): ResourceType {
  return {
    kind,
    plural,
    group: '',
    version: 'v1',
    namespaced: true,
    fieldLabels: [],
    patchable: false,
    hasGeneration: false,
    statusSubresource: false,
    ...extra,
  };
}

export function metrics(kind: string, plural: string, namespaced: boolean): ResourceType {
  return {
    notFoundResource: kind.toLowerCase(),
    kind,
    plural,
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    namespaced,
    fieldLabels: [],
    patchable: false,
    hasGeneration: false,
    statusSubresource: false,
    synthetic: true,
  };
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  core('Pod', 'pods', {
    fieldLabels: POD_FIELDS,
    patchable: true,
    statusSubresource: true,
    podSpecPath: ['spec'],
  }),
  core('Event', 'events', { fieldLabels: EVENT_FIELDS }),
  core('Node', 'nodes', { namespaced: false, fieldLabels: ['spec.unschedulable'], statusSubresource: true }),
  core('Namespace', 'namespaces', {
    namespaced: false,
    fieldLabels: ['status.phase'],
    statusSubresource: true,
  }),
  core('ConfigMap', 'configmaps'),
  core('LimitRange', 'limitranges'),
  core('ResourceQuota', 'resourcequotas', { statusSubresource: true }),
  workload('ReplicaSet', 'replicasets', 'apps', { fieldLabels: ['status.replicas'] }),
  workload('Deployment', 'deployments', 'apps', { patchable: true }),
  workload('StatefulSet', 'statefulsets', 'apps', { patchable: true }),
  workload('DaemonSet', 'daemonsets', 'apps', { patchable: true }),
  workload('Job', 'jobs', 'batch', { fieldLabels: ['status.successful'] }),
  // Argo Rollouts' custom resource: read only (a custom resource takes no strategic merge patch).
  workload('Rollout', 'rollouts', 'argoproj.io', { version: 'v1alpha1' }),
  workload('CronJob', 'cronjobs', 'batch', {
    patchable: true,
    podSpecPath: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  }),
  metrics('PodMetrics', 'pods', true),
  metrics('NodeMetrics', 'nodes', false),
];

/** Value a field selector sees when the field is absent (the real server formats Go zero values). */
export const FIELD_DEFAULTS: Readonly<Record<string, string>> = {
  'spec.hostNetwork': 'false',
  'spec.unschedulable': 'false',
  'status.replicas': '0',
  'status.successful': '0',
};
/** Field labels that do not name the object path they read. */
export const FIELD_PATHS: Readonly<Record<string, string>> = { source: 'source.component' };

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** "Deployment.apps", "Pod" — how the API names a kind in Invalid messages. */
export function qualifiedKind(type: ResourceType): string {
  return type.group ? `${type.kind}.${type.group}` : type.kind;
}

export function typeByKind(kind: string): ResourceType {
  const type = RESOURCE_TYPES.find((t) => t.kind === kind);
  if (!type) {
    throw new Error(
      `FakeKubeApi: unknown kind "${kind}"; known: ${RESOURCE_TYPES.map((t) => t.kind).join(', ')}`,
    );
  }
  return type;
}

export function typeByPath(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

/**
 * Whether a ForbiddenRule's resource names this type: the qualified name ("deployments.apps",
 * "pods.metrics.k8s.io") always does; a bare plural names the core resource when there is one
 * (so 'pods' never denies metrics), else the group resource ('deployments').
 */
export function ruleNamesType(resource: string, type: ResourceType): boolean {
  if (resource === qualifiedResource(type)) return true;
  if (resource !== type.plural) return false;
  const coreHasPlural = RESOURCE_TYPES.some((t) => t.group === '' && t.plural === resource);
  return type.group === '' || !coreHasPlural;
}

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace === undefined ? name : `${namespace}/${name}`;
}

export function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------
// Selectors
// ---------------------------------------------------------------------------

export type Matcher = (obj: KubeObject) => boolean;

/** Splits on commas outside parentheses: "a in (x,y),b" -> ["a in (x,y)", "b"]. */
export function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

export const LABEL_KEY = '[A-Za-z0-9][-A-Za-z0-9_./]*';
export const LABEL_VALUE = '[-A-Za-z0-9_.]*';
export const LABEL_TERMS: ReadonlyArray<
  [RegExp, (m: RegExpMatchArray) => (labels: Record<string, string>) => boolean]
> = [
  [new RegExp(`^!\\s*(${LABEL_KEY})$`), (m) => (l) => !(m[1]! in l)],
  [
    new RegExp(`^(${LABEL_KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`),
    (m) => {
      const values = m[3]!.split(',').map((v) => v.trim());
      const key = m[1]!;
      return m[2] === 'in'
        ? (l) => key in l && values.includes(l[key]!)
        : (l) => !(key in l) || !values.includes(l[key]!);
    },
  ],
  [
    new RegExp(`^(${LABEL_KEY})\\s*(==|=|!=)\\s*(${LABEL_VALUE})$`),
    (m) => {
      const [key, op, value] = [m[1]!, m[2]!, m[3]!];
      // `a!=b` also matches objects without label a, as in the real server.
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    },
  ],
  [new RegExp(`^(${LABEL_KEY})$`), (m) => (l) => m[1]! in l],
];

export function parseLabelSelector(selector: string): Matcher {
  const tests = splitTopLevel(selector).map((term) => {
    for (const [pattern, build] of LABEL_TERMS) {
      const m = term.match(pattern);
      if (m) return build(m);
    }
    throw badRequest(
      `unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, or a label key`,
    );
  });
  return (obj) => {
    const labels = (isPlainObject(obj.metadata?.labels) ? obj.metadata.labels : {}) as Record<string, string>;
    return tests.every((t) => t(labels));
  };
}

/** Splits on commas not escaped with a backslash (field selector values may escape `,`, `=`, `\`). */
export function splitUnescaped(selector: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i]!;
    if (ch === '\\' && i + 1 < selector.length) {
      current += ch + selector[i + 1]!;
      i++;
    } else if (ch === ',') {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.filter((p) => p !== '');
}

export function unescapeField(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

export function getPath(obj: unknown, path: string): unknown {
  let current: unknown = obj;
  for (const part of path.split('.')) {
    if (!isPlainObject(current)) return undefined;
    current = current[part];
  }
  return current;
}

export function parseFieldSelector(selector: string, type: ResourceType): Matcher {
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...type.fieldLabels]);
  const tests = splitUnescaped(selector).map((term) => {
    // Like fields.splitTerm: the earliest unescaped operator wins, trying != and == before =.
    let split: { lhs: string; op: string; rhs: string } | undefined;
    for (let i = 0; i < term.length && !split; i++) {
      if (term[i] === '\\') {
        i++;
        continue;
      }
      for (const op of ['!=', '==', '=']) {
        if (term.startsWith(op, i)) {
          split = { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
          break;
        }
      }
    }
    if (!split) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const label = unescapeField(split.lhs.trim());
    const want = unescapeField(split.rhs.trim());
    if (!allowed.has(label)) throw badRequest(`field label not supported: ${label}`);
    const negate = split.op === '!=';
    return (obj: KubeObject): boolean => {
      const raw = getPath(obj, FIELD_PATHS[label] ?? label);
      const actual = raw === undefined || raw === null ? (FIELD_DEFAULTS[label] ?? '') : String(raw);
      return negate ? actual !== want : actual === want;
    };
  });
  return (obj) => tests.every((t) => t(obj));
}

// ---------------------------------------------------------------------------
// Resource quantities and validation
// ---------------------------------------------------------------------------

// The regular expression the real server quotes in its decode error.
export const QUANTITY_REGEXP_TEXT = "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
export const SUFFIX_MULTIPLIER: Readonly<Record<string, number>> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Parses a Kubernetes quantity ("512Mi", "0.5", "250m", "1e3") to a number; undefined when malformed. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = QUANTITY.exec(value);
  if (!m) return undefined;
  const suffix = m[2] ?? '';
  const multiplier = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX_MULTIPLIER[suffix];
  return multiplier === undefined ? undefined : Number(m[1]) * multiplier;
}

export interface ContainerRef {
  field: string; // e.g. "spec.template.spec.containers[0]"
  container: KubeObject;
}

export function containersOf(type: ResourceType, obj: KubeObject): ContainerRef[] {
  if (!type.podSpecPath) return [];
  const specPath = type.podSpecPath.join('.');
  const podSpec = getPath(obj, specPath);
  if (!isPlainObject(podSpec)) return [];
  const refs: ContainerRef[] = [];
  for (const listName of ['initContainers', 'containers']) {
    const list = podSpec[listName];
    if (!Array.isArray(list)) continue;
    list.forEach((container, i) => {
      if (isPlainObject(container)) refs.push({ field: `${specPath}.${listName}[${i}]`, container });
    });
  }
  return refs;
}

/** Quantities that do not parse: the real server fails to decode the object at all. */
export function hasMalformedQuantity(type: ResourceType, obj: KubeObject): boolean {
  return containersOf(type, obj).some(({ container }) =>
    ['limits', 'requests'].some((section) => {
      const values = getPath(container, `resources.${section}`);
      return isPlainObject(values) && Object.values(values).some((v) => parseQuantity(v) === undefined);
    }),
  );
}

/** The checks of ValidatePodSpec/ValidateResourceRequirements that matter for memory fixes. */
export function validateContainers(type: ResourceType, obj: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  for (const { field, container } of containersOf(type, obj)) {
    if (typeof container.name !== 'string' || container.name === '')
      errors.push({ field: `${field}.name`, type: 'Required' });
    if (typeof container.image !== 'string' || container.image === '')
      errors.push({ field: `${field}.image`, type: 'Required' });
    const limits = getPath(container, 'resources.limits');
    const requests = getPath(container, 'resources.requests');
    if (!isPlainObject(limits) || !isPlainObject(requests)) continue;
    for (const [resource, request] of Object.entries(requests)) {
      const limit = limits[resource];
      if (limit === undefined) continue;
      if ((parseQuantity(request) ?? 0) > (parseQuantity(limit) ?? Infinity)) {
        errors.push({
          field: `${field}.resources.requests`,
          type: 'Invalid',
          value: String(request),
          detail: `must be less than or equal to ${resource} limit of ${String(limit)}`,
        });
      }
    }
  }
  return errors;
}

export const POD_UPDATE_FORBIDDEN =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,' +
  '`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),' +
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** A pod's spec without the fields an update may change. */
export function podSpecMutableStripped(spec: unknown): unknown {
  const copy = cloneJson(isPlainObject(spec) ? spec : {});
  for (const listName of ['containers', 'initContainers']) {
    const list = copy[listName];
    if (Array.isArray(list)) for (const c of list) if (isPlainObject(c)) delete c.image;
  }
  delete copy.activeDeadlineSeconds;
  delete copy.tolerations;
  return copy;
}
