// The environment a container's process gets, resolved the way the kubelet resolves it from the pod
// spec: envFrom ConfigMaps first (with their prefix), then env in order, a later name replacing an
// earlier one; `$(VAR)` in a value expands to a variable defined before it (`$$` stays a literal `$`).
// A ConfigMap value and a resource field (`resourceFieldRef`: the container's own memory limit or
// request, divided by the divisor and rounded up) are read; a Secret or a pod field is not ours to
// read, but its entry still shadows an earlier one of the same name.
import { parseQuantity } from './quantity';
import type { ResolvedEnvVar } from './types';

/** What a resource field reads besides the container itself. */
export interface EnvResolutionContext {
  /**
   * The node's allocatable memory: the Downward API gives it for limits.memory when the container
   * has no memory limit. Unknown when null or absent (the variable's value is then not known).
   */
  nodeAllocatableBytes?: number | null;
}

type Raw = Record<string, unknown>;

function record(value: unknown): Raw | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : null;
}

function list(value: unknown): Raw[] {
  return Array.isArray(value) ? value.map(record).filter((v): v is Raw => v !== null) : [];
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

const MEMORY_FIELDS = new Set(['limits.memory', 'requests.memory']);

/**
 * The value the kubelet puts in a variable whose valueFrom is `resourceFieldRef` for the container's
 * memory: ceil(bytes / divisor), the divisor "1" (bytes) unless given. undefined when it cannot be
 * known here: another container named, a CPU or storage field, an unreadable quantity, or no limit
 * on a node whose allocatable memory is unknown. A request that is unset reads as the limit (as the
 * API server defaults it), and a limit that is unset as the node's allocatable memory.
 */
export function resourceFieldEnvValue(
  ref: unknown,
  container: unknown,
  context: EnvResolutionContext = {},
): string | undefined {
  const field = record(ref);
  const owner = record(container);
  const resource = text(field?.resource) ?? '';
  if (!field || !owner || !MEMORY_FIELDS.has(resource)) return undefined;
  const named = text(field.containerName);
  if (named !== null && named !== '' && named !== owner.name) return undefined;
  const resources = record(owner.resources);
  const limit = quantityBytes(record(resources?.limits)?.memory);
  const request = quantityBytes(record(resources?.requests)?.memory);
  const node = context.nodeAllocatableBytes ?? null;
  const bytes = resource === 'limits.memory' ? (limit ?? node) : (request ?? limit ?? null);
  const divisor = field.divisor === undefined || field.divisor === null ? 1 : quantityBytes(field.divisor);
  if (bytes === null || divisor === null || divisor <= 0) return undefined;
  return String(Math.ceil(bytes / divisor));
}

function quantityBytes(value: unknown): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  try {
    return parseQuantity(String(value));
  } catch {
    return null;
  }
}

/** Kubernetes' `$(VAR)` expansion: a defined name is replaced, `$$` is a literal `$`, anything else stays. */
export function expandEnvReferences(source: string, known: ReadonlyMap<string, ResolvedEnvVar>): string {
  return source.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    const value = name === undefined ? undefined : known.get(name)?.value;
    return value === undefined ? match : value;
  });
}

/**
 * The container's environment as its process sees it, in the kubelet's order. Values that cannot be
 * read here (Secrets, pod fields) are left out, and shadow an earlier entry of the same name.
 */
export function resolveContainerEnv(
  container: unknown,
  configMaps: ReadonlyMap<string, Record<string, string>>,
  context: EnvResolutionContext = {},
): ResolvedEnvVar[] {
  const spec = record(container);
  const byName = new Map<string, ResolvedEnvVar>();
  for (const source of list(spec?.envFrom)) {
    const cmName = text(record(source.configMapRef)?.name);
    const data = cmName === null ? undefined : configMaps.get(cmName);
    if (cmName === null || !data) continue;
    const prefix = text(source.prefix) ?? '';
    for (const [key, value] of Object.entries(data)) {
      byName.set(prefix + key, {
        name: prefix + key,
        value: String(value),
        configMap: { name: cmName, key },
        via: 'envFrom',
      });
    }
  }
  for (const entry of list(spec?.env)) {
    const name = text(entry.name);
    if (name === null) continue;
    const from = record(entry.valueFrom);
    const literal = text(entry.value);
    const configMapRef = record(from?.configMapKeyRef);
    const fieldRef = record(from?.resourceFieldRef);
    if (literal !== null || from === null) {
      // `name` alone is an empty variable; a literal may refer to the variables defined before it.
      byName.set(name, { name, value: literal === null ? '' : expandEnvReferences(literal, byName) });
    } else if (configMapRef) {
      const cmName = text(configMapRef.name);
      const key = text(configMapRef.key);
      const value = cmName === null || key === null ? undefined : configMaps.get(cmName)?.[key];
      if (value !== undefined && cmName !== null && key !== null)
        byName.set(name, { name, value: String(value), configMap: { name: cmName, key }, via: 'valueFrom' });
      else byName.delete(name);
    } else if (fieldRef) {
      const value = resourceFieldEnvValue(fieldRef, spec, context);
      const divisor = fieldRef.divisor;
      if (value !== undefined)
        byName.set(name, {
          name,
          value,
          resourceField: {
            resource: String(fieldRef.resource),
            divisor: typeof divisor === 'string' || typeof divisor === 'number' ? String(divisor) : '1',
          },
          via: 'valueFrom',
        });
      else byName.delete(name);
    } else {
      // A Secret or a pod field: its value is not read here, but it still shadows envFrom.
      byName.delete(name);
    }
  }
  return [...byName.values()];
}
