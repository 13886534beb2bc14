// Issue 11, class 3 (where the heap setting really is, and which one wins): every heap fix is
// checked the way the runtime reads it. The recommended patch is applied to the Deployment as the
// API server would (strategic merge), and the patched container is read by the runtime evaluator,
// which models the kubelet's env resolution and each runtime's precedence: the value in force after
// the patch must be the one the fix intended, and before it the bad one.
import { containerSpec, type ApiObject } from '../../../src/adapters/kubernetes-objects';
import { recommend } from '../../../src/core/recommend';
import {
  containerEnvironment,
  evaluateRuntimeMemory,
  expandReferences,
  type EffectiveRuntimeMemory,
} from '../../../src/core/runtime-evaluator';
import type { Classification, Recommendation } from '../../../src/core/types';
import { applyStrategicMergePatch } from '../../fakes/strategic-merge';
import { deployment, evidence, GiB, MiB, SECRET } from './evidence-builders';

const heapMisconfigured: Classification = {
  verdict: 'cgroup-oom',
  headline: 'heap',
  verdictEvidence: [],
  kills: [],
  causes: [{ id: 'runtime-heap-misconfigured', confidence: 0.9, evidence: ['x'] }],
};
const LIMIT = 2 * GiB;
const NODE_MEMORY = 64 * GiB;

interface Case {
  raw: ApiObject;
  configMaps?: Record<string, Record<string, string>>;
}

function deploymentWith(raw: ApiObject): ApiObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop', generation: 7 },
    spec: { template: { spec: { containers: [{ image: 'app:1', ...raw, name: 'api' }] } } },
  };
}

function run({ raw, configMaps = {} }: Case): {
  r: Recommendation;
  before: EffectiveRuntimeMemory;
  after: EffectiveRuntimeMemory;
  patched: ApiObject;
} {
  const maps = new Map(Object.entries(configMaps));
  const withLimit = { ...raw, name: 'api', resources: { limits: { memory: '2Gi' } } };
  const spec = containerSpec(withLimit, 'app', maps);
  const r = recommend(
    evidence({ containers: [spec], workload: deployment({ name: 'api' }) }),
    heapMisconfigured,
  );
  if (!r) throw new Error('expected a recommendation');
  const workload = deploymentWith(withLimit);
  const patched = (applyStrategicMergePatch(workload, r.patch) as ApiObject).spec.template.spec
    .containers[0] as ApiObject;
  const context = { configMaps: maps, limitBytes: LIMIT, nodeMemoryBytes: NODE_MEMORY };
  return {
    r,
    before: evaluateRuntimeMemory(withLimit, context),
    after: evaluateRuntimeMemory(patched, context),
    patched,
  };
}

describe('the runtime evaluator reads a container as the kubelet and the runtime do', () => {
  const context = { limitBytes: LIMIT, nodeMemoryBytes: NODE_MEMORY };
  it('JVM: JAVA_TOOL_OPTIONS < JDK_JAVA_OPTIONS < command line < _JAVA_OPTIONS', () => {
    const env = (pairs: Array<[string, string]>) => pairs.map(([name, value]) => ({ name, value }));
    const all: Array<[string, string]> = [
      ['JAVA_TOOL_OPTIONS', '-Xmx1g'],
      ['JDK_JAVA_OPTIONS', '-Xmx2g'],
      ['_JAVA_OPTIONS', '-Xmx4g'],
    ];
    const command = ['java', '-Xmx3g', '-jar', 'app.jar', '-Xmx9g'];
    expect(evaluateRuntimeMemory({ env: env(all), command }, context).jvm.maxHeapBytes).toBe(4 * GiB);
    expect(evaluateRuntimeMemory({ env: env(all.slice(0, 2)), command }, context).jvm.maxHeapBytes).toBe(
      3 * GiB,
    );
    expect(evaluateRuntimeMemory({ env: env(all.slice(0, 2)) }, context).jvm.maxHeapBytes).toBe(2 * GiB);
    expect(evaluateRuntimeMemory({ env: env(all.slice(0, 1)) }, context).jvm.maxHeapBytes).toBe(GiB);
    // After -jar the words belong to the program, not the JVM.
    expect(
      evaluateRuntimeMemory({ command: ['java', '-jar', 'app.jar', '-Xmx9g'] }, context).jvm.maxHeapBytes,
    ).toBe(LIMIT / 4);
  });

  it('JVM: without container support the default heap is a quarter of the node, not of the limit', () => {
    const off = evaluateRuntimeMemory({ args: ['-XX:-UseContainerSupport'] }, context);
    expect(off.jvm.maxHeapBytes).toBe(NODE_MEMORY / 4);
    expect(evaluateRuntimeMemory({ args: ['-XX:MaxRAMPercentage=50'] }, context).jvm.maxHeapBytes).toBe(GiB);
  });

  it('Node: NODE_OPTIONS < flags on the node command line (before the script)', () => {
    const r = evaluateRuntimeMemory(
      {
        env: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=4096' }],
        command: ['node', '--max-old-space-size=1024', 'server.js', '--max-old-space-size=8192'],
      },
      context,
    );
    expect(r.nodeOldSpaceBytes).toBe(1024 * MiB);
  });

  it('Go: env over envFrom, and an unreadable env entry (a Secret) still shadows envFrom', () => {
    const configMaps = new Map([['go-env', { GOMEMLIMIT: '3GiB' }]]);
    const envFrom = [{ configMapRef: { name: 'go-env' } }];
    expect(evaluateRuntimeMemory({ envFrom }, { ...context, configMaps }).goMemLimitBytes).toBe(3 * GiB);
    expect(
      evaluateRuntimeMemory(
        { envFrom, env: [{ name: 'GOMEMLIMIT', value: '1800MiB' }] },
        { ...context, configMaps },
      ).goMemLimitBytes,
    ).toBe(1800 * MiB);
    const shadowed = containerEnvironment(
      { envFrom, env: [{ name: 'GOMEMLIMIT', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
      { ...context, configMaps },
    );
    expect(shadowed.has('GOMEMLIMIT')).toBe(true);
    expect(shadowed.get('GOMEMLIMIT')).toBeUndefined();
  });

  it('$(VAR) references in args are expanded from earlier variables; $$ escapes', () => {
    const env = new Map([['HEAP', '3g']]);
    expect(expandReferences('-Xmx$(HEAP) $$(HEAP) $(NOPE)', env)).toBe('-Xmx3g $(HEAP) $(NOPE)');
    const r = evaluateRuntimeMemory(
      { env: [{ name: 'HEAP', value: '3g' }], command: ['java', '-Xmx$(HEAP)', '-jar', 'a.jar'] },
      context,
    );
    expect(r.jvm.maxHeapBytes).toBe(3 * GiB);
  });
});

describe('each heap fix yields the intended value, read the way the runtime reads it', () => {
  // 70% of 2Gi in 64Mi steps.
  const JVM_HEAP = 1408 * MiB;
  // 75% of 2Gi in 64Mi steps.
  const NODE_OLD_SPACE = 1536 * MiB;
  // 90% of 2Gi in 16Mi steps.
  const GO_LIMIT = 1840 * MiB;

  it('JVM, -Xmx in command: rewritten in place; `command` is in the recommendation, the patch and the kubectl line', () => {
    const { r, before, after } = run({
      raw: { command: ['java', '-Xmx3g', '-jar', '/app/app.jar'], args: [`--password=${SECRET}`] },
    });
    expect(before.jvm.maxHeapBytes).toBe(3 * GiB);
    expect(after.jvm.maxHeapBytes).toBe(JVM_HEAP);
    expect(r.command).toEqual(['java', '-Xmx1408m', '-jar', '/app/app.jar']);
    expect(r.args).toBeNull();
    expect(r.kubectl).toContain('"command":["java","-Xmx1408m","-jar","/app/app.jar"]');
    expect(r.notes.join('\n')).toMatch(/command\[1\] in place/);
  });

  it('JVM, a shell script in command (sh -c "exec java -Xmx3g ..."): the flag inside the script is rewritten', () => {
    const { r, after } = run({ raw: { command: ['sh', '-c', 'exec java -Xmx3g -jar /app/app.jar'] } });
    expect(after.jvm.maxHeapBytes).toBe(JVM_HEAP);
    expect(r.command).toEqual(['sh', '-c', 'exec java -Xmx1408m -jar /app/app.jar']);
  });

  it('JVM, _JAVA_OPTIONS over a sane command line: the variable that wins is the one changed', () => {
    const { r, before, after, patched } = run({
      raw: {
        command: ['java', '-Xmx1g', '-jar', 'app.jar'],
        env: [{ name: '_JAVA_OPTIONS', value: '-Xmx3g' }],
      },
    });
    expect(before.jvm.maxHeapBytes).toBe(3 * GiB);
    expect(after.jvm.maxHeapBytes).toBe(JVM_HEAP);
    expect(r.command).toBeNull();
    expect(patched.command).toEqual(['java', '-Xmx1g', '-jar', 'app.jar']);
  });

  it('JVM, JDK_JAVA_OPTIONS beside other (secret) flags: _JAVA_OPTIONS, read last, carries the fix', () => {
    const { r, after } = run({
      raw: { env: [{ name: 'JDK_JAVA_OPTIONS', value: `-Dpw=${SECRET} -Xmx3g` }] },
    });
    expect(after.jvm.maxHeapBytes).toBe(JVM_HEAP);
    expect(after.env.get('JDK_JAVA_OPTIONS')).toContain(SECRET); // left as it was
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('JVM, a shadowed -Xmx too large as well: the winner is fixed, the loser named in a note', () => {
    const { r, after } = run({
      raw: {
        env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xmx4g' }],
        args: ['-Xmx3g'],
      },
    });
    expect(after.jvm.maxHeapBytes).toBe(JVM_HEAP);
    expect(r.env).toEqual([]);
    expect(r.notes.join('\n')).toMatch(
      /-Xmx4g \(env JAVA_TOOL_OPTIONS\).*-Xmx3g \(args\[0\]\) is read after it and wins/,
    );
  });

  it('JVM, -XX:-UseContainerSupport (heap sized from the node): turned back on, so the heap follows the limit', () => {
    const { r, before, after } = run({ raw: { args: ['-XX:-UseContainerSupport', '-jar', 'app.jar'] } });
    expect(before.jvm.maxHeapBytes).toBe(NODE_MEMORY / 4);
    expect(after.jvm.containerSupport).toBe(true);
    expect(after.jvm.maxHeapBytes).toBe(LIMIT / 4);
    expect(r.notes.join('\n')).toMatch(/size its heap from the node's memory/);
  });

  it('JVM, -Xms at the limit with AlwaysPreTouch: the initial heap comes down to the fitted maximum', () => {
    const { after } = run({
      raw: { env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xms2g -Xmx3g -XX:+AlwaysPreTouch' }] },
    });
    expect(after.jvm.maxHeapBytes).toBe(JVM_HEAP);
    expect(after.jvm.initialHeapBytes).toBeLessThanOrEqual(JVM_HEAP);
    expect(after.jvm.alwaysPreTouch).toBe(true);
  });

  it('JVM, -Xms past the limit in a variable with other flags: _JAVA_OPTIONS overrides it', () => {
    const { after } = run({
      raw: {
        env: [{ name: 'JAVA_OPTS', value: `-Dpw=${SECRET} -Xms3g -XX:+AlwaysPreTouch` }],
        args: ['-Xmx1g'],
      },
    });
    expect(after.jvm.initialHeapBytes).toBeLessThanOrEqual(GiB);
    expect(after.jvm.maxHeapBytes).toBe(GiB);
  });

  it('JVM, MaxRAMPercentage near 100: back to 75', () => {
    const { after } = run({
      raw: { env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=98' }] },
    });
    expect(after.jvm.maxHeapBytes).toBe(0.75 * LIMIT);
  });

  it('Node, the flag on the command line beats NODE_OPTIONS: the command is rewritten', () => {
    const { r, before, after } = run({
      raw: {
        command: ['node', '--max-old-space-size=4096', 'server.js'],
        env: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=1024' }],
      },
    });
    expect(before.nodeOldSpaceBytes).toBe(4096 * MiB);
    expect(after.nodeOldSpaceBytes).toBe(NODE_OLD_SPACE);
    expect(r.env).toEqual([]);
  });

  it('Node, NODE_OPTIONS with other flags: the flag goes on the node command line, which wins', () => {
    const { r, after } = run({
      raw: {
        command: ['node', 'server.js'],
        env: [{ name: 'NODE_OPTIONS', value: '--require ./tracing.js --max-old-space-size=4096' }],
      },
    });
    expect(after.nodeOldSpaceBytes).toBe(NODE_OLD_SPACE);
    expect(after.env.get('NODE_OPTIONS')).toContain('--require ./tracing.js');
    expect(r.command).toEqual(['node', '--max-old-space-size=1536', 'server.js']);
  });

  it('Go, GOMEMLIMIT from envFrom: set in env, which wins over envFrom; the ConfigMap is left alone', () => {
    const { r, before, after } = run({
      raw: { envFrom: [{ configMapRef: { name: 'go-env' } }] },
      configMaps: { 'go-env': { GOMEMLIMIT: '3GiB' } },
    });
    expect(before.goMemLimitBytes).toBe(3 * GiB);
    expect(after.goMemLimitBytes).toBe(GO_LIMIT);
    expect(r.notes.join('\n')).toMatch(/key GOMEMLIMIT of ConfigMap go-env, which is left alone/);
  });

  it('Go, GOMEMLIMIT from a configMapKeyRef: the patch drops the reference, so value and valueFrom never meet', () => {
    const { r, after, patched } = run({
      raw: {
        env: [{ name: 'GOMEMLIMIT', valueFrom: { configMapKeyRef: { name: 'go-env', key: 'limit' } } }],
      },
      configMaps: { 'go-env': { limit: '3GiB' } },
    });
    expect(after.goMemLimitBytes).toBe(GO_LIMIT);
    expect(patched.env).toEqual([{ name: 'GOMEMLIMIT', value: '1840MiB' }]);
    expect(r.kubectl).toContain('"valueFrom":null');
  });

  it('Go, envFrom shadowed by an env entry from a Secret: the ConfigMap value is not in force, and nothing is patched', () => {
    const { r, before } = run({
      raw: {
        envFrom: [{ configMapRef: { name: 'go-env' } }],
        env: [{ name: 'GOMEMLIMIT', valueFrom: { secretKeyRef: { name: 'go', key: 'limit' } } }],
      },
      configMaps: { 'go-env': { GOMEMLIMIT: '3GiB' } },
    });
    expect(before.goMemLimitBytes).toBeNull();
    expect(r.env).toEqual([]);
  });
});
