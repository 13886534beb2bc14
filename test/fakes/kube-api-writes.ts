// The fake Kubernetes API's write paths: PATCH (strategic merge and JSON merge) and POST on a
// collection, with what the real server does around them (preconditions, fields a client cannot set,
// validation, generation, managedFields, dryRun). Split from kube-api.ts; the functions write to the
// ObjectStore they are given, after the server has authorized and admitted the request.

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
  alreadyExists,
  ApiError,
  badRequest,
  invalid,
  makeStatus,
  notFound,
  qualifiedResource,
  resourceDetails,
} from './kube-api-errors';
import {
  POD_UPDATE_FORBIDDEN,
  QUANTITY_REGEXP_TEXT,
  apiVersionOf,
  hasMalformedQuantity,
  nowTimestamp,
  objectKey,
  podSpecMutableStripped,
  qualifiedKind,
  typeByKind,
  validateContainers,
  type KubeObject,
  type ResourceType,
} from './kube-api-resources';
import { mediaType, type Route } from './kube-api-requests';
import type { ObjectStore } from './kube-api-store';

/** Whether ?dryRun= asks for a dry run: 'All' does, absent does not, anything else is Invalid as on the real server. */
function isDryRun(query: Record<string, string>, optionsKind: string): boolean {
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

/** PATCH on a named object; the server has already authorized and admitted it. */
export function patchObject(
  store: ObjectStore,
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
  const dryRun = isDryRun(query, 'PatchOptions');
  const original = store.lookup({ ...route, name });

  let patch: unknown;
  try {
    patch = JSON.parse(raw) as unknown;
  } catch (err) {
    throw badRequest(`error decoding patch: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isPlainObject(patch)) throw badRequest(`error decoding patch: ${method} body must be a JSON object`);

  let patched: KubeObject;
  try {
    const base = store.present(type, original);
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
  for (const key of ['uid', 'creationTimestamp', 'resourceVersion', 'generation', 'managedFields'] as const) {
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
  if (errors.length > 0) throw invalid(qualifiedKind(type), type.group || undefined, type.kind, name, errors);

  if (jsonEqual(original, patched)) {
    return store.present(type, original); // a no-op patch writes nothing, so resourceVersion stays
  }
  if (type.hasGeneration && !jsonEqual(original.spec, patched.spec)) {
    meta.generation = (typeof origMeta.generation === 'number' ? origMeta.generation : 0) + 1;
  }
  recordManager(type, meta, query.fieldManager, userAgent, patch);
  if (dryRun) return store.present(type, patched); // the would-be object; storage and resourceVersion untouched

  meta.resourceVersion = store.nextResourceVersion();
  store.bucket(type).set(objectKey(route.namespace, name), patched);
  return store.present(type, patched);
}

/** POST on a collection: creates the object (201), or 409 AlreadyExists. */
export function createObject(
  store: ObjectStore,
  route: Route,
  query: Record<string, string>,
  raw: string,
  userAgent: string | undefined,
): KubeObject {
  const type = route.type;
  const dryRun = isDryRun(query, 'CreateOptions');
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
  if (route.namespace !== undefined && !store.bucket(typeByKind('Namespace')).has(route.namespace)) {
    throw notFound(typeByKind('Namespace'), route.namespace);
  }
  if (store.bucket(type).has(objectKey(route.namespace, name))) {
    throw alreadyExists(type, name);
  }
  if (hasMalformedQuantity(type, stored)) {
    throw badRequest(
      `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: quantities must match the regular expression ${QUANTITY_REGEXP_TEXT}`,
    );
  }
  const errors = validateContainers(type, stored);
  if (errors.length > 0) throw invalid(qualifiedKind(type), type.group || undefined, type.kind, name, errors);

  for (const key of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields'] as const)
    delete meta[key];
  if (type.statusSubresource) delete stored.status;
  recordManager(type, meta, query.fieldManager, userAgent, obj);
  if (dryRun) {
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    if (type.hasGeneration) meta.generation = 1;
    return store.present(type, stored);
  }
  store.put(type.kind, stored);
  return store.present(type, store.lookup({ ...route, name }));
}

/** Adds/updates the managedFields entry of the writer, like the server's field manager. */
function recordManager(
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
