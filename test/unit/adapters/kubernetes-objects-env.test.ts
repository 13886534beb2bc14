// The adapter reads a container's environment as the kubelet builds it (resolveEnv is the core's
// resolveContainerEnv): a variable set from the container's own memory limit through
// `resourceFieldRef` (divisor applied, rounded up) and `$(VAR)` expanded from the variables defined
// before it. So a heap flag written as `-Xmx$(HEAP)m` is read as the heap the JVM really gets, and
// every reading here is checked against the runtime evaluator (which models the kubelet and the JVM's
// precedence independently), not by string presence.
import { podEvidence, resolveEnv, type ApiObject } from '../../../src/adapters/kubernetes-objects';
import { classify } from '../../../src/core/classify';
import { recommend } from '../../../src/core/recommend';
import { evaluateRuntimeMemory } from '../../../src/core/runtime-evaluator';
import { effectiveHeapBytes } from '../../../src/core/runtime-settings';
import type { ContainerSpecEvidence } from '../../../src/core/types';
import { applyStrategicMergePatch } from '../../fakes/strategic-merge';
import { evidence, MiB } from '../core/evidence-builders';

const NO_CONFIGMAPS = new Map<string, Record<string, string>>();

const heapFromLimit = (divisor: string) => ({
  name: 'HEAP',
  valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor } },
});

function javaContainer(limit: string, extra: ApiObject): ApiObject {
  return {
    name: 'api',
    image: 'registry.example.com/api:1',
    resources: { limits: { memory: limit }, requests: { memory: limit } },
    ...extra,
  };
}

/** The container as diagnose() maps it: through podEvidence, the adapter's one entry point. */
function mapped(raw: ApiObject): ContainerSpecEvidence {
  const pod = { metadata: { name: 'api-0', namespace: 'shop' }, spec: { containers: [raw] }, status: {} };
  const spec = podEvidence(pod, [], NO_CONFIGMAPS).containers[0];
  if (!spec) throw new Error('no container mapped');
  return spec;
}

function patchedContainer(raw: ApiObject, patch: Record<string, unknown>): ApiObject {
  const workload = { spec: { template: { spec: { containers: [raw] } } } };
  return (applyStrategicMergePatch(workload, patch) as typeof workload).spec.template.spec.containers[0]!;
}

describe('a heap flag fed by resourceFieldRef limits.memory through $(VAR)', () => {
  // limit, divisor, the flag's unit, the heap the JVM gets (ceil(limit / divisor) units)
  const cases: Array<[string, string, string, number]> = [
    ['1536Mi', '1Mi', 'm', 1536 * MiB],
    ['2Gi', '1Mi', 'm', 2048 * MiB],
    ['3Gi', '1Ki', 'k', 3072 * MiB],
    ['1000M', '1Mi', 'm', 954 * MiB], // 953.67 MiB, rounded up by the kubelet: above the limit
  ];

  it.each(cases)(
    'JAVA_TOOL_OPTIONS=-Xmx$(HEAP) with a limit of %s and divisor %s is the heap the JVM gets',
    (limit, divisor, unit, heapBytes) => {
      const raw = javaContainer(limit, {
        command: ['java', '-jar', 'app.jar'],
        env: [heapFromLimit(divisor), { name: 'JAVA_TOOL_OPTIONS', value: `-Xmx$(HEAP)${unit}` }],
      });
      const env = new Map(resolveEnv(raw, NO_CONFIGMAPS).map((e) => [e.name, e]));
      expect(env.get('HEAP')?.resourceField).toEqual({ resource: 'limits.memory', divisor });
      expect(env.get('JAVA_TOOL_OPTIONS')?.value).toBe(
        `-Xmx${heapBytes / (unit === 'm' ? MiB : 1024)}${unit}`,
      );

      const container = mapped(raw);
      const limitBytes = container.limitBytes;
      const jvm = evaluateRuntimeMemory(raw, { limitBytes }).jvm;
      expect(jvm.maxHeapBytes).toBe(heapBytes);
      expect(effectiveHeapBytes(container.runtime, limitBytes)).toBe(jvm.maxHeapBytes);

      // A heap as large as the limit leaves no room for the rest of the JVM: heap misconfiguration.
      const result = classify(evidence({ containers: [container] }));
      expect(result.causes[0]?.id).toBe('runtime-heap-misconfigured');

      // The fix, applied as the API server would, leaves the JVM a heap below the limit.
      const r = recommend(evidence({ containers: [container] }), result);
      const after = evaluateRuntimeMemory(patchedContainer(raw, r?.patch ?? {}), { limitBytes }).jvm;
      expect(after.maxHeapBytes).not.toBeNull();
      expect(after.maxHeapBytes!).toBeLessThan(0.9 * (limitBytes ?? 0));
      expect(after.maxHeapBytes!).toBeGreaterThan(0.4 * (limitBytes ?? 0));
    },
  );

  it('on the command line the expanded -Xmx$(HEAP)m beats JAVA_TOOL_OPTIONS, and _JAVA_OPTIONS beats both', () => {
    const env = [heapFromLimit('1Mi'), { name: 'JAVA_TOOL_OPTIONS', value: '-Xmx256m' }];
    const onCommandLine = javaContainer('1Gi', {
      command: ['java', '-Xmx$(HEAP)m', '-jar', 'app.jar'],
      env,
    });
    const container = mapped(onCommandLine);
    expect(evaluateRuntimeMemory(onCommandLine, { limitBytes: 1024 * MiB }).jvm.maxHeapBytes).toBe(
      1024 * MiB,
    );
    expect(effectiveHeapBytes(container.runtime, container.limitBytes)).toBe(1024 * MiB);

    const overridden = javaContainer('1Gi', {
      command: ['java', '-Xmx$(HEAP)m', '-jar', 'app.jar'],
      env: [...env, { name: '_JAVA_OPTIONS', value: '-Xmx$(HEAP)k' }],
    });
    // _JAVA_OPTIONS wins: 1024 KiB, the number the divisor made, not the limit.
    expect(evaluateRuntimeMemory(overridden, { limitBytes: 1024 * MiB }).jvm.maxHeapBytes).toBe(1024 * 1024);
    expect(effectiveHeapBytes(mapped(overridden).runtime, 1024 * MiB)).toBe(1024 * 1024);
  });

  it('a reference to a variable defined later, or to a field not read here, stays as written', () => {
    const raw = javaContainer('1Gi', {
      env: [
        { name: 'JAVA_TOOL_OPTIONS', value: '-Xmx$(HEAP)m' },
        heapFromLimit('1Mi'),
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NAMED', value: 'pod $(POD)' },
        { name: 'EMPTY' },
      ],
    });
    const env = new Map(resolveEnv(raw, NO_CONFIGMAPS).map((e) => [e.name, e.value]));
    const kubelet = evaluateRuntimeMemory(raw, { limitBytes: 1024 * MiB }).env;
    expect(env.get('JAVA_TOOL_OPTIONS')).toBe('-Xmx$(HEAP)m');
    expect(env.get('NAMED')).toBe('pod $(POD)');
    // A name alone is an empty variable, as the kubelet sets it.
    expect(env.get('EMPTY')).toBe('');
    for (const name of ['JAVA_TOOL_OPTIONS', 'NAMED', 'EMPTY', 'HEAP'])
      expect(env.get(name)).toBe(kubelet.get(name));
  });
});
