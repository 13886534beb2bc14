/**
 * Patch algorithms used by the fake Kubernetes API server (test/fakes/kube-api.ts).
 *
 * - `applyMergePatch`: JSON Merge Patch (RFC 7386), what the API server does for
 *   `Content-Type: application/merge-patch+json`.
 * - `applyStrategicMergePatch`: the subset of Kubernetes' strategic merge patch that
 *   workload objects need. The real server reads the merge strategy of each field from
 *   Go struct tags (`patchStrategy:"merge" patchMergeKey:"name"`); this fake keys it on
 *   the field name instead, which is unambiguous for the objects the fake serves
 *   (pods, pod templates, workload metadata).
 *
 * Both functions are pure: they never mutate their arguments and return a fresh value.
 */

type JsonObject = Record<string, unknown>;

/**
 * Lists that the real API merges element by element, keyed on the given field
 * (taken from the `patchMergeKey` tags of k8s.io/api core/v1 and meta/v1).
 * Any list not named here is replaced wholesale by the patch.
 */
export const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  resourceClaims: 'name',
};

/** Lists of scalars that the real API merges as sets (`patchStrategy:"merge"` on a []string). */
const SET_MERGED_PRIMITIVE_LISTS: ReadonlySet<string> = new Set(['finalizers']);

const DIRECTIVE = '$patch';
const SET_ELEMENT_ORDER_PREFIX = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST_PREFIX = '$deleteFromPrimitiveList/';
const RETAIN_KEYS = '$retainKeys';

/** Raised for patches the real server would reject as malformed (it answers 400 BadRequest). */
export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep copy of a JSON value. */
export function cloneJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** Structural equality of two JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const aKeys = Object.keys(a);
    if (aKeys.length !== Object.keys(b).length) return false;
    return aKeys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && jsonEqual(a[key], b[key]));
  }
  return false;
}

// ---------------------------------------------------------------------------
// JSON Merge Patch (RFC 7386)
// ---------------------------------------------------------------------------

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return cloneJson(patch);
  const result: JsonObject = isPlainObject(target) ? cloneJson(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      result[key] = applyMergePatch(result[key], value);
    }
  }
  return result;
}

// ---------------------------------------------------------------------------
// Strategic merge patch
// ---------------------------------------------------------------------------

export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) {
    throw new PatchError('a strategic merge patch must be a JSON object');
  }
  const merged = mergeMap(isPlainObject(target) ? target : {}, patch);
  // `{"$patch":"delete"}` at the top level would delete the whole object; the API refuses that.
  if (merged === undefined) throw new PatchError('cannot delete the whole object with a patch');
  return merged;
}

/** Merges `patch` into a copy of `original`. Returns undefined when the patch says `$patch: delete`. */
function mergeMap(original: JsonObject, patch: JsonObject): JsonObject | undefined {
  const directive = patch[DIRECTIVE];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(withoutKey(patch, DIRECTIVE)) as JsonObject;
  if (directive !== undefined && directive !== 'merge') {
    throw new PatchError(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }

  const result: JsonObject = cloneJson(original);
  for (const [key, value] of Object.entries(patch)) {
    if (key === DIRECTIVE || key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER_PREFIX)) {
      // $setElementOrder only reorders lists (kubectl apply sends it); order is not modelled here.
      continue;
    }
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)) {
      const listKey = key.slice(DELETE_FROM_PRIMITIVE_LIST_PREFIX.length);
      const current = result[listKey];
      if (Array.isArray(current) && Array.isArray(value)) {
        result[listKey] = current.filter((item) => !value.some((del) => jsonEqual(del, item)));
      }
      continue;
    }
    if (value === null) {
      delete result[key];
    } else if (isPlainObject(value)) {
      const current = result[key];
      const merged = mergeMap(isPlainObject(current) ? current : {}, value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      result[key] = mergeList(key, result[key], value);
    } else {
      result[key] = value;
    }
  }

  // $retainKeys lists the only keys that survive (used for union types such as deployment strategy).
  const retain = patch[RETAIN_KEYS];
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) {
      if (!retain.includes(key)) delete result[key];
    }
  }
  return result;
}

function mergeList(field: string, original: unknown, patch: unknown[]): unknown[] {
  const mergeKey = MERGE_KEYS[field];
  const current = Array.isArray(original) ? original : [];

  if (SET_MERGED_PRIMITIVE_LISTS.has(field)) {
    const out = cloneJson(current);
    for (const item of patch) if (!out.some((existing) => jsonEqual(existing, item))) out.push(item);
    return out;
  }
  // A list item `{"$patch": "replace"}` means "replace the list with the other items".
  const replaceAll = patch.some((item) => isPlainObject(item) && item[DIRECTIVE] === 'replace');
  if (mergeKey === undefined || replaceAll) {
    return patch
      .filter(
        (item) => !(isPlainObject(item) && item[DIRECTIVE] === 'replace' && Object.keys(item).length === 1),
      )
      .map((item) => stripDirectives(item));
  }

  const out: unknown[] = cloneJson(current);
  for (const item of patch) {
    if (!isPlainObject(item)) {
      throw new PatchError(`${field}: list items must be objects with the merge key "${mergeKey}"`);
    }
    const keyValue = item[mergeKey];
    if (keyValue === undefined) {
      throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
    }
    const index = out.findIndex(
      (existing) => isPlainObject(existing) && jsonEqual(existing[mergeKey], keyValue),
    );
    if (item[DIRECTIVE] === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    const existing = index >= 0 ? out[index] : undefined;
    const merged = mergeMap(isPlainObject(existing) ? existing : {}, item);
    if (merged === undefined) continue;
    if (index >= 0) out[index] = merged;
    else out.push(merged); // new elements go to the end, as the real server does without $setElementOrder
  }
  return out;
}

/** Removes `$patch`-style directives and nulls from a value that is being inserted as-is. */
function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isPlainObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('$') || child === null) continue;
    out[key] = stripDirectives(child);
  }
  return out;
}

function withoutKey(obj: JsonObject, key: string): JsonObject {
  const { [key]: _dropped, ...rest } = obj;
  return rest;
}
