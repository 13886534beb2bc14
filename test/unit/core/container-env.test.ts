// The container's environment as the kubelet builds it: resourceFieldRef (the container's own memory
// limit or request, divisor applied) and $(VAR) expansion, so that a GOMEMLIMIT, NODE_OPTIONS or
// -Xmx set from the limit is read as the number the runtime gets. Checked against the runtime
// evaluator, which models the kubelet and the runtimes independently.
import fc from 'fast-check';
import { containerSpec, type ApiObject } from '../../../src/adapters/kubernetes-objects';
import { classify } from '../../../src/core/classify';
import { resolveContainerEnv, resourceFieldEnvValue } from '../../../src/core/container-env';
import { recommend } from '../../../src/core/recommend';
import { evaluateRuntimeMemory } from '../../../src/core/runtime-evaluator';
import { effectiveHeapBytes, findRuntimeSettings } from '../../../src/core/runtime-settings';
import type { ContainerSpecEvidence } from '../../../src/core/types';
import { applyStrategicMergePatch } from '../../fakes/strategic-merge';
import { evidence, GiB, MiB } from './evidence-builders';

const NO_CONFIGMAPS = new Map<string, Record<string, string>>();

function withLimit(limit: string | null, extra: ApiObject = {}, request: string | null = null): ApiObject {
  const resources: ApiObject = {};
  if (limit !== null) resources.limits = { memory: limit };
  if (request !== null) resources.requests = { memory: request };
  return { name: 'api', image: 'registry.example.com/api:1', resources, ...extra };
}

const fromField = (name: string, resource: string, divisor?: string) => ({
  name,
  valueFrom: { resourceFieldRef: { resource, ...(divisor === undefined ? {} : { divisor }) } },
});

/** The container as the engine sees it: the adapter resolves its environment with resolveContainerEnv. */
function spec(raw: ApiObject): ContainerSpecEvidence {
  const mapped = containerSpec(raw, 'app', NO_CONFIGMAPS);
  const env = resolveContainerEnv(raw, NO_CONFIGMAPS);
  expect(mapped.env).toEqual(env);
  expect(mapped.runtime).toEqual(findRuntimeSettings({ command: mapped.command, args: mapped.args, env }));
  return mapped;
}

describe('resourceFieldRef: the container memory, divisor applied', () => {
  it.each([
    ['limits.memory', undefined, '1Gi', null, '1073741824'],
    ['limits.memory', '1Mi', '1Gi', null, '1024'],
    ['limits.memory', '1M', '1Gi', null, '1074'], // rounded up, as the kubelet does
    ['limits.memory', '1Ki', '1536Mi', null, String(1536 * 1024)],
    ['requests.memory', '1Mi', '2Gi', '512Mi', '512'],
    ['requests.memory', '1Mi', '2Gi', null, '2048'], // an unset request is the limit
  ])('%s with divisor %s of limit %s (request %s) is %s', (resource, divisor, limit, request, expected) => {
    const raw = withLimit(limit, {}, request);
    const ref = { resource, ...(divisor === undefined ? {} : { divisor }) };
    expect(resourceFieldEnvValue(ref, raw)).toBe(expected);
  });

  it("without a limit, limits.memory is the node's allocatable memory, unknown when the node is", () => {
    const raw = withLimit(null);
    expect(resourceFieldEnvValue({ resource: 'limits.memory', divisor: '1Mi' }, raw)).toBeUndefined();
    expect(
      resourceFieldEnvValue({ resource: 'limits.memory', divisor: '1Mi' }, raw, {
        nodeAllocatableBytes: 15 * GiB,
      }),
    ).toBe(String(15 * 1024));
  });

  it('a CPU field, another container or an unreadable divisor is not known, and shadows envFrom', () => {
    const raw = withLimit('1Gi', {
      envFrom: [{ configMapRef: { name: 'go' } }],
      env: [
        {
          name: 'GOMEMLIMIT',
          valueFrom: { resourceFieldRef: { containerName: 'other', resource: 'limits.memory' } },
        },
        fromField('CPUS', 'limits.cpu'),
        fromField('BAD', 'limits.memory', 'lots'),
      ],
    });
    const env = resolveContainerEnv(raw, new Map([['go', { GOMEMLIMIT: '900MiB', CPUS: '2', BAD: 'x' }]]));
    expect(env.map((e) => e.name)).toEqual([]);
  });

  it('agrees with the runtime evaluator for any limit and divisor', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 * 1024 }),
        fc.constantFrom(undefined, '1', '1Ki', '1Mi', '1Gi', '1k', '1M', '1G', '256Mi'),
        (limitMiB, divisor) => {
          const raw = withLimit(`${limitMiB}Mi`, {
            env: [fromField('GOMEMLIMIT', 'limits.memory', divisor)],
          });
          const ours = resolveContainerEnv(raw, NO_CONFIGMAPS).find((e) => e.name === 'GOMEMLIMIT')?.value;
          const kubelet = evaluateRuntimeMemory(raw, { limitBytes: limitMiB * MiB }).env.get('GOMEMLIMIT');
          expect(ours).toBe(kubelet);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('heap settings taken from the limit are read as the number the runtime gets', () => {
  it('GOMEMLIMIT from limits.memory is the whole limit: blamed, and said where it comes from', () => {
    const raw = withLimit('1Gi', { env: [fromField('GOMEMLIMIT', 'limits.memory')] });
    const container = spec(raw);
    expect(effectiveHeapBytes(container.runtime, GiB)).toBe(
      evaluateRuntimeMemory(raw, { limitBytes: GiB }).goMemLimitBytes,
    );
    const result = classify(evidence({ containers: [container] }));
    expect(result.causes[0]?.id).toBe('runtime-heap-misconfigured');
    expect(result.causes[0]?.evidence.join('\n')).toContain(
      'GOMEMLIMIT=1073741824 (env GOMEMLIMIT from resourceFieldRef limits.memory): 100% of the 1 GiB limit',
    );

    // The fix replaces the reference with a value of its own; the kubelet then gives Go room below the limit.
    const r = recommend(evidence({ containers: [container] }), result);
    expect(r?.notes.join('\n')).toMatch(/replaces its resourceFieldRef to limits\.memory/);
    const template = { spec: { template: { spec: { containers: [raw] } } } };
    const patched = (applyStrategicMergePatch(template, r?.patch ?? {}) as typeof template).spec.template.spec
      .containers[0]!;
    expect((patched.env as ApiObject[]).find((e) => e.name === 'GOMEMLIMIT')?.valueFrom ?? null).toBeNull();
    const after = evaluateRuntimeMemory(patched, { limitBytes: GiB }).goMemLimitBytes ?? Infinity;
    expect(after).toBeLessThanOrEqual(0.97 * GiB);
    expect(after).toBeGreaterThan(0.5 * GiB);
  });

  it('GOMEMLIMIT from limits.memory with divisor 1Mi is read as Go reads it: 1024 bytes, not 1 GiB', () => {
    const raw = withLimit('1Gi', { env: [fromField('GOMEMLIMIT', 'limits.memory', '1Mi')] });
    const container = spec(raw);
    expect(container.env.find((e) => e.name === 'GOMEMLIMIT')?.value).toBe('1024');
    expect(effectiveHeapBytes(container.runtime, GiB)).toBe(1024);
    expect(evaluateRuntimeMemory(raw, { limitBytes: GiB }).goMemLimitBytes).toBe(1024);
  });

  it('NODE_OPTIONS and -Xmx that refer to a variable set from the limit are expanded, as the kubelet does', () => {
    for (const limit of [512, 1024, 4096]) {
      const nodeRaw = withLimit(`${limit}Mi`, {
        command: ['node', 'server.js'],
        env: [
          fromField('MEM_MIB', 'limits.memory', '1Mi'),
          { name: 'NODE_OPTIONS', value: '--max-old-space-size=$(MEM_MIB)' },
        ],
      });
      const node = spec(nodeRaw);
      expect(effectiveHeapBytes(node.runtime, limit * MiB)).toBe(limit * MiB);
      expect(evaluateRuntimeMemory(nodeRaw, { limitBytes: limit * MiB }).nodeOldSpaceBytes).toBe(limit * MiB);
      expect(classify(evidence({ containers: [node] })).causes[0]?.id).toBe('runtime-heap-misconfigured');

      const jvmRaw = withLimit(`${limit}Mi`, {
        command: ['java', '-Xmx$(MEM_MIB)m', '-jar', 'app.jar'],
        env: [fromField('MEM_MIB', 'limits.memory', '1Mi')],
      });
      const jvm = spec(jvmRaw);
      expect(effectiveHeapBytes(jvm.runtime, limit * MiB)).toBe(limit * MiB);
      expect(evaluateRuntimeMemory(jvmRaw, { limitBytes: limit * MiB }).jvm.maxHeapBytes).toBe(limit * MiB);
      expect(jvm.runtime[0]?.source).toBe('command[1]');
    }
  });

  it('a variable is expanded only from those defined before it; $$ stays a literal $', () => {
    const raw = withLimit('1Gi', {
      env: [
        { name: 'EARLY', value: '-Xmx$(HEAP)' },
        { name: 'HEAP', value: '900m' },
        { name: 'LATE', value: '-Xmx$(HEAP) $$(HEAP)' },
      ],
    });
    const env = new Map(resolveContainerEnv(raw, NO_CONFIGMAPS).map((e) => [e.name, e.value]));
    const kubelet = evaluateRuntimeMemory(raw, { limitBytes: GiB }).env;
    expect(env.get('EARLY')).toBe('-Xmx$(HEAP)');
    expect(env.get('LATE')).toBe('-Xmx900m $(HEAP)');
    for (const name of ['EARLY', 'LATE']) expect(env.get(name)).toBe(kubelet.get(name));
  });
});
