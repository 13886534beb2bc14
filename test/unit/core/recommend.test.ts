// The recommender: a limit raised once from the limit in force, rounded, bounded by what the cluster
// accepts; the runtime fix written back where the setting lives; a patch for the owning workload
// that applies, and a kubectl line a shell runs as written.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { classify } from '../../../src/core/classify';
import { recommend, shellQuote } from '../../../src/core/recommend';
import { limitAbovePeak } from '../../../src/core/recommend-limit';
import { parseQuantity } from '../../../src/core/quantity';
import type {
  Cause,
  Classification,
  Evidence,
  Recommendation,
  Verdict,
  WorkloadKind,
} from '../../../src/core/types';
import { applyStrategicMergePatch } from '../../fakes/strategic-merge';
import { demoSpecs, generateScenario, type ScenarioSpec } from '../../support/scenarios';
import { scenarioEvidence } from '../../support/scenario-evidence';
import {
  container,
  deployment,
  evidence,
  flatMetrics,
  GiB,
  HOUR,
  MiB,
  MINUTE,
  node,
  noNamespaceLimits,
  NOW,
  SECRET,
  termination,
  WINDOW,
} from './evidence-builders';

function verdict(v: Verdict, causes: Array<[Cause['id'], number]> = []): Classification {
  return {
    verdict: v,
    headline: v,
    verdictEvidence: [],
    kills: [],
    causes: causes.map(([id, confidence]) => ({ id, confidence, evidence: ['x'] })),
  };
}

const limitTooSmall = verdict('cgroup-oom', [['limit-too-small', 0.9]]);

function rec(
  ev: Evidence,
  classification: Classification = limitTooSmall,
  options: { guaranteedQos?: boolean } = {},
): Recommendation {
  const r = recommend(ev, classification, options);
  if (!r) throw new Error('expected a recommendation');
  return r;
}

function containerPatch(r: Recommendation): Record<string, any> {
  const spec =
    (r.patch as any).spec?.template?.spec ??
    (r.patch as any).spec?.jobTemplate?.spec?.template?.spec ??
    (r.patch as any).spec;
  return (spec.containers ?? spec.initContainers)[0];
}

function notes(r: Recommendation): string {
  return r.notes.join('\n');
}

async function generated(spec: ScenarioSpec, seed = 5): Promise<Evidence> {
  const scenario = generateScenario(spec, { now: NOW, windowMs: WINDOW, scrapeMs: MINUTE, seed });
  return scenarioEvidence(scenario, { start: NOW - WINDOW, end: NOW });
}

function demo(id: string, limit?: number): ScenarioSpec {
  return demoSpecs(limit).find((s) => s.id === id) as ScenarioSpec;
}

/** Evidence of a container killed at `limit` (a quantity), with kube-state-metrics agreeing on the limit. */
function killedAt(limit: string, parts: Parameters<typeof evidence>[0] = {}): Evidence {
  const bytes = parseQuantity(limit);
  return evidence({
    containers: [container({ limit, request: null })],
    metrics: flatMetrics(0.97 * bytes, bytes),
    ...parts,
  });
}

describe('the limit: raised 50% from the limit in force, once', () => {
  it('1Gi killed at its limit becomes 1536Mi, and the note says the real peak is unknown', () => {
    const r = rec(killedAt('1Gi'));
    expect(r.resources.limits.memory).toBe('1536Mi');
    expect(notes(r)).toMatch(/real peak is unknown: this raises the limit in force by 50%, once/);
  });

  it('never compounds: the next round starts from the limit applied, not from an earlier suggestion', () => {
    const first = rec(killedAt('1Gi'));
    expect(first.resources.limits.memory).toBe('1536Mi');
    // The fix was applied and the container was killed again at its new limit.
    const second = rec(killedAt(first.resources.limits.memory));
    expect(second.resources.limits.memory).toBe('2304Mi'); // 1.5 × 1536Mi, not 1.5 × 1.5 × 1536Mi
    // A recommendation is a pure function of the evidence: asking again changes nothing.
    const again = rec(killedAt(first.resources.limits.memory));
    expect(again).toEqual(second);
  });

  it('is based on the limit in force (kube-state-metrics) rather than the peak reading', () => {
    // The peak reading lags the kill: 900Mi of a 1Gi limit. The raise is from the limit.
    const r = rec(
      evidence({
        containers: [container({ limit: '1Gi', request: null })],
        metrics: flatMetrics(900 * MiB, GiB),
      }),
    );
    expect(r.resources.limits.memory).toBe('1536Mi');
    // With a generated history whose readings reach 99% of the limit, the same.
    const ev = killedAt('2Gi', { metrics: { ...flatMetrics(1.99 * GiB, 2 * GiB) } });
    expect(rec(ev).resources.limits.memory).toBe('3Gi');
  });

  it.each([
    ['100Mi', '192Mi'], // 150Mi, up to a multiple of 64Mi
    ['512Mi', '768Mi'],
    ['600Mi', '960Mi'], // 900Mi -> 960Mi (15 × 64Mi below 1Gi)
    ['700Mi', '1280Mi'], // 1050Mi is past 1Gi: 256Mi steps
    ['1000Mi', '1536Mi'], // 1500Mi -> 1536Mi (6 × 256Mi)
    ['3Gi', '4608Mi'], // 4.5Gi, a multiple of 256Mi
    ['6Gi', '9Gi'],
    ['1G', '1536Mi'], // 1.5G = 1430.5Mi -> 1536Mi
    ['40Gi', '60Gi'],
  ])('rounds %s × 1.5 to a readable %s', (limit, expected) => {
    const r = rec(killedAt(limit, { node: node({ allocatableBytes: 256 * GiB }) }));
    expect(r.resources.limits.memory).toBe(expected);
    expect(r.resources.limits.memory).toMatch(/^\d+(Mi|Gi)$/);
  });

  it('a limit-too-small diagnosis from a generated plateau gives 768Mi for a 512Mi limit', async () => {
    const ev = await generated(demo('limit-too-small'));
    const classification = classify(ev);
    expect(classification.causes[0]?.id).toBe('limit-too-small');
    const r = rec(ev, classification);
    expect(r.resources.limits.memory).toBe('768Mi');
    expect(notes(r)).toMatch(/killed at its 512 MiB limit, so its real peak is unknown/);
    expect(notes(r)).toMatch(/--guaranteed-qos/);
  });
});

describe('caps: node allocatable, LimitRange max, ResourceQuota headroom', () => {
  it("never above the node's allocatable memory (the real OpenShift worker: 7002280Ki)", () => {
    const r = rec(killedAt('6Gi', { node: node({ name: 'worker-0', allocatableBytes: 7002280 * 1024 }) }));
    // 9Gi wanted; 7002280Ki = 6838.16Mi, rounded down to whole Mi.
    expect(r.resources.limits.memory).toBe('6838Mi');
    expect(notes(r)).toMatch(/Capped at 6.68 GiB by node worker-0's allocatable memory/);
  });

  it('never above the LimitRange max per container', () => {
    const r = rec(
      killedAt('1Gi', {
        namespaceLimits: noNamespaceLimits({
          limitRangeMaxBytes: 1280 * MiB,
          limitRangeName: 'container-limits',
        }),
      }),
    );
    expect(r.resources.limits.memory).toBe('1280Mi');
    expect(notes(r)).toMatch(/Capped at 1.25 GiB by LimitRange container-limits's max per container/);
  });

  it('never above the ResourceQuota headroom, counting replicas and the rollout surge', () => {
    // 3 replicas at 1Gi, maxSurge 1, 2Gi free in the quota. During the rollout 3 + 1 pods run the new
    // limit while the 3 old pods' 3Gi are released: 4 × L <= 2Gi + 3 × 1Gi, so L <= 5Gi / 4 = 1280Mi.
    const ev = killedAt('1Gi', {
      workload: deployment({ replicas: 3, surge: 1 }),
      namespaceLimits: noNamespaceLimits({ quotaHeadroomBytes: 2 * GiB, quotaName: 'team-quota' }),
    });
    const r = rec(ev);
    expect(r.resources.limits.memory).toBe('1280Mi');
    expect(notes(r)).toMatch(
      /Capped at 1.25 GiB by ResourceQuota team-quota's limits.memory headroom \(2 GiB free, shared by 3 replicas \+ 1 surge pod during the rollout\)/,
    );
  });

  it('a StatefulSet has no surge: 3 × L <= 1Gi + 3 × 1Gi, so L <= 1365Mi', () => {
    const ev = killedAt('1Gi', {
      workload: deployment({ kind: 'StatefulSet', replicas: 3, surge: 0 }),
      namespaceLimits: noNamespaceLimits({ quotaHeadroomBytes: GiB, quotaName: 'team-quota' }),
    });
    const r = rec(ev);
    expect(r.resources.limits.memory).toBe('1365Mi'); // floor(4096Mi / 3) = 1365Mi
    expect(notes(r)).toMatch(/shared by 3 replicas\)/);
  });

  it('the tightest cap binds, and the note names it', () => {
    const ev = killedAt('1Gi', {
      node: node({ allocatableBytes: 1400 * MiB }),
      workload: deployment({ replicas: 3, surge: 1 }),
      namespaceLimits: {
        limitRangeMaxBytes: 1300 * MiB,
        limitRangeName: 'container-limits',
        quotaHeadroomBytes: 2 * GiB,
        quotaName: 'team-quota',
      },
    });
    const r = rec(ev);
    expect(r.resources.limits.memory).toBe('1280Mi');
    expect(notes(r)).toMatch(/ResourceQuota team-quota/);
    expect(notes(r)).not.toMatch(/LimitRange container-limits/);
    expect(notes(r)).not.toMatch(/allocatable/);
  });

  it.each([
    [
      'a LimitRange max',
      { namespaceLimits: noNamespaceLimits({ limitRangeMaxBytes: 768 * MiB, limitRangeName: 'tight' }) },
      /LimitRange tight's max per container \(768 MiB\) allows no more than the 1 GiB in force/,
    ],
    [
      'no quota headroom',
      { namespaceLimits: noNamespaceLimits({ quotaHeadroomBytes: 0, quotaName: 'full' }) },
      /ResourceQuota full's limits.memory headroom .* allows no more than the 1 GiB in force/,
    ],
    [
      'a node smaller than the limit',
      { node: node({ allocatableBytes: 900 * MiB }) },
      /allocatable memory \(900 MiB\) allows no more than the 1 GiB in force/,
    ],
  ])('a cap below the current limit (%s): no raise, and a note', (_label, parts, pattern) => {
    const r = rec(killedAt('1Gi', parts));
    expect(r.resources.limits.memory).toBe('1Gi');
    expect(notes(r)).toMatch(/The limit cannot be raised/);
    expect(notes(r)).toMatch(pattern);
  });
});

describe('runtime fixes', () => {
  const heapTop = (ev: Evidence) => {
    const c = classify(ev);
    expect(c.causes[0]?.id).toBe('runtime-heap-misconfigured');
    return c;
  };

  it('-Xmx in args: `args` carries the new list with only that flag changed, and the limit stays', () => {
    const args = [
      '-server',
      `-Dapp.greeting=it's fine`,
      '-Xmx3g',
      '-jar',
      '/app/app.jar',
      `--db-password=${SECRET}`,
    ];
    const ev = evidence({ containers: [container({ limit: '2Gi', args })] });
    const r = rec(ev, heapTop(ev));
    // 70% of 2Gi, down to a multiple of 64Mi: 1433.6Mi -> 1408Mi.
    expect(r.args).toEqual([
      '-server',
      `-Dapp.greeting=it's fine`,
      '-Xmx1408m',
      '-jar',
      '/app/app.jar',
      `--db-password=${SECRET}`,
    ]);
    expect(containerPatch(r).args).toEqual(r.args);
    expect(r.env).toEqual([]);
    expect(r.resources.limits.memory).toBe('2Gi');
    expect(notes(r)).toMatch(
      /-Xmx3g \(args\[2\]\) gives the runtime 3 GiB of a 2 GiB limit.*the patch changes args\[2\]/,
    );
  });

  it('a heap flag in a ConfigMap beside other flags: _JAVA_OPTIONS overrides it, the ConfigMap is named and left alone', () => {
    const configMaps = new Map([['api-jvm', { JVM_FLAGS: `-Dpw=${SECRET} -Xmx3g` }]]);
    const c = container(
      {
        limit: '2Gi',
        env: [
          {
            name: 'JAVA_TOOL_OPTIONS',
            valueFrom: { configMapKeyRef: { name: 'api-jvm', key: 'JVM_FLAGS' } },
          },
        ],
      },
      'app',
      configMaps,
    );
    expect(c.runtime[0]?.location).toEqual({
      kind: 'env-configmap',
      name: 'JAVA_TOOL_OPTIONS',
      configMap: 'api-jvm',
      key: 'JVM_FLAGS',
    });
    const ev = evidence({ containers: [c] });
    const r = rec(ev, heapTop(ev));
    expect(r.env).toEqual([{ name: '_JAVA_OPTIONS', value: '-Xmx1408m' }]);
    expect(containerPatch(r).env).toEqual([{ name: '_JAVA_OPTIONS', value: '-Xmx1408m' }]);
    expect(r.args).toBeNull();
    expect(notes(r)).toMatch(
      /JAVA_TOOL_OPTIONS comes from key JVM_FLAGS of ConfigMap api-jvm, which is left alone/,
    );
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('a heap flag from envFrom with a prefix: the same variable in env wins, and the note names the ConfigMap key', () => {
    const configMaps = new Map([['api-env', { OPTS: '-Xmx3g' }]]);
    const c = container(
      { limit: '2Gi', envFrom: [{ prefix: 'JAVA_', configMapRef: { name: 'api-env' } }] },
      'app',
      configMaps,
    );
    const ev = evidence({ containers: [c] });
    const r = rec(ev, heapTop(ev));
    expect(r.env).toEqual([{ name: 'JAVA_OPTS', value: '-Xmx1408m' }]);
    expect(containerPatch(r).env).toEqual([{ name: 'JAVA_OPTS', value: '-Xmx1408m' }]);
    expect(notes(r)).toMatch(
      /key OPTS of ConfigMap api-env, which is left alone.*wins over the same name from envFrom/,
    );
  });

  it('JAVA_OPTS with other flags: an _JAVA_OPTIONS override, and the secret never appears', () => {
    const ev = evidence({
      containers: [
        container({
          limit: '2Gi',
          env: [
            { name: 'JAVA_OPTS', value: `-Dspring.datasource.password=${SECRET} -Xmx3072m -XX:+UseG1GC` },
          ],
        }),
      ],
    });
    const r = rec(ev, heapTop(ev));
    expect(r.env).toEqual([{ name: '_JAVA_OPTIONS', value: '-Xmx1408m' }]);
    expect(containerPatch(r).env).toEqual([{ name: '_JAVA_OPTIONS', value: '-Xmx1408m' }]);
    for (const text of [JSON.stringify(r), r.kubectl, r.yaml, notes(r)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('spring.datasource');
    }
    expect(notes(r)).toMatch(
      /sets _JAVA_OPTIONS=-Xmx1408m, which the JVM reads last, rather than rewriting JAVA_OPTS/,
    );
  });

  it('JAVA_OPTS with memory flags only is rewritten in place', () => {
    const ev = evidence({
      containers: [container({ limit: '2Gi', env: [{ name: 'JAVA_OPTS', value: '-Xms512m -Xmx3g' }] })],
    });
    const r = rec(ev, heapTop(ev));
    expect(r.env).toEqual([{ name: 'JAVA_OPTS', value: '-Xms512m -Xmx1408m' }]);
  });

  it('GOMEMLIMIT over the limit is set a little under it', () => {
    const ev = evidence({
      containers: [container({ limit: '2Gi', env: [{ name: 'GOMEMLIMIT', value: '2500MiB' }] })],
    });
    const r = rec(ev, heapTop(ev));
    expect(r.env).toEqual([{ name: 'GOMEMLIMIT', value: '1840MiB' }]); // 90% of 2Gi, down to 16Mi steps
    const bytes = 1840 * MiB;
    expect(bytes).toBeLessThan(2 * GiB);
    expect(bytes).toBeGreaterThanOrEqual(0.85 * 2 * GiB);
  });

  it('--max-old-space-size over the limit is brought to 75% of it', () => {
    const ev = evidence({
      containers: [
        container({ limit: '2Gi', env: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=3072' }] }),
      ],
    });
    const r = rec(ev, heapTop(ev));
    expect(r.env).toEqual([{ name: 'NODE_OPTIONS', value: '--max-old-space-size=1536' }]);
  });

  it('-XX:MaxRAMPercentage=90 is brought back to 75.0', () => {
    const ev = evidence({
      containers: [
        container({ limit: '2Gi', env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=90' }] }),
      ],
    });
    const r = rec(ev, heapTop(ev));
    expect(r.env).toEqual([{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=75.0' }]);
    expect(r.resources.limits.memory).toBe('2Gi');
  });

  it('a sane runtime setting is left alone when the limit is raised', () => {
    const ev = killedAt('2Gi', {
      containers: [
        container({
          limit: '2Gi',
          request: null,
          env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=75.0' }],
        }),
      ],
    });
    const r = rec(ev);
    expect(r.resources.limits.memory).toBe('3Gi');
    expect(r.env).toEqual([]);
    expect(r.args).toBeNull();
  });
});

describe('the patch, for each kind of owner', () => {
  const resources = { requests: { memory: '1536Mi' }, limits: { memory: '1536Mi' } };
  const cases: Array<[string, WorkloadKind, (c: object) => object, string]> = [
    [
      'Deployment',
      'Deployment',
      (c) => ({ spec: { template: { spec: { containers: [c] } } } }),
      'deployment',
    ],
    [
      'StatefulSet',
      'StatefulSet',
      (c) => ({ spec: { template: { spec: { containers: [c] } } } }),
      'statefulset',
    ],
    ['DaemonSet', 'DaemonSet', (c) => ({ spec: { template: { spec: { containers: [c] } } } }), 'daemonset'],
    [
      'CronJob (the jobTemplate path)',
      'CronJob',
      (c) => ({ spec: { jobTemplate: { spec: { template: { spec: { containers: [c] } } } } } }),
      'cronjob',
    ],
  ];

  it.each(cases)('%s', (_label, kind, wrap, resource) => {
    const r = rec(killedAt('1Gi', { workload: deployment({ kind, name: 'api' }) }), limitTooSmall, {
      guaranteedQos: true,
    });
    expect(r.patch).toEqual(wrap({ name: 'api', resources }));
    expect(r.workload).toEqual({ kind, namespace: 'shop', name: 'api', generation: 7 });
    expect(r.kubectl).toBe(
      `kubectl -n shop patch ${resource} api --type strategic -p '${JSON.stringify(r.patch)}'`,
    );
    expect(r.yaml).toMatch(/memory: 1536Mi/);
  });

  it.each([
    ['init', 'init'],
    ['native sidecar', 'sidecar'],
  ] as const)('an %s container goes under initContainers', (_label, kind) => {
    const ev = killedAt('1Gi', {
      containers: [
        container({ name: 'migrate', limit: '1Gi', request: null }, kind),
        container({ name: 'api' }),
      ],
      target: 'migrate',
    });
    const r = rec(ev);
    expect(r.container).toBe('migrate');
    const spec = (r.patch as any).spec.template.spec;
    expect(spec.containers).toBeUndefined();
    expect(spec.initContainers).toEqual([
      {
        name: 'migrate',
        resources: { requests: { memory: expect.any(String) }, limits: { memory: '1536Mi' } },
      },
    ]);
  });

  it('a bare Pod: the patch shows the change, and the kubectl line explains it cannot be patched', () => {
    const r = rec(killedAt('1Gi', { workload: null }));
    expect(r.workload.kind).toBe('Pod');
    expect(r.workload.name).toBe('api-7d9f8b6c4-x2x9z');
    expect(r.patch).toEqual({ spec: { containers: [expect.objectContaining({ name: 'api' })] } });
    expect(r.kubectl).toMatch(
      /^# shop\/api-7d9f8b6c4-x2x9z is a bare pod: its resources cannot be patched in place/,
    );
    expect(r.kubectl).not.toMatch(/kubectl .*patch/);
    expect(notes(r)).toMatch(/no controller/);
  });

  it('a Job without a CronJob: its pod template is immutable, so the kubectl line explains, like a bare pod', () => {
    const r = rec(
      killedAt('1Gi', {
        workload: deployment({ kind: 'Job', name: 'nightly-export', replicas: 1, surge: 0 }),
      }),
    );
    expect(r.workload.kind).toBe('Job');
    expect(r.patch).toEqual({
      spec: { template: { spec: { containers: [expect.objectContaining({ name: 'api' })] } } },
    });
    expect(r.kubectl).toMatch(
      /^# shop\/nightly-export is a Job: its pod template cannot be changed; change the manifest and re-create it/,
    );
    expect(r.kubectl).not.toMatch(/kubectl .*patch/);
    expect(r.kubectl).not.toContain('\n');
    expect(notes(r)).toMatch(/Job.*re-create/);
  });

  it('the Deployment patch applies as a strategic merge, touching only the target container', () => {
    const r = rec(
      killedAt('1Gi', {
        containers: [
          container({ limit: '1Gi', request: null, env: [{ name: 'GOMEMLIMIT', value: '3GiB' }] }),
        ],
      }),
      verdict('cgroup-oom', [
        ['limit-too-small', 0.9],
        ['runtime-heap-misconfigured', 0.6],
      ]),
    );
    const deploymentObject = {
      spec: {
        replicas: 3,
        template: {
          spec: {
            containers: [
              {
                name: 'api',
                image: 'api:1',
                env: [
                  { name: 'DATABASE_URL', value: 'postgres://x' },
                  { name: 'GOMEMLIMIT', value: '3GiB' },
                ],
                resources: { requests: { memory: '512Mi', cpu: '100m' }, limits: { memory: '1Gi' } },
              },
              { name: 'istio-proxy', image: 'proxy:1', resources: { limits: { memory: '256Mi' } } },
            ],
          },
        },
      },
    };
    const patched = applyStrategicMergePatch(deploymentObject, r.patch) as any;
    const [api, sidecar] = patched.spec.template.spec.containers;
    expect(api.resources.limits.memory).toBe('1536Mi');
    expect(api.resources.requests.cpu).toBe('100m');
    expect(api.env).toEqual([
      { name: 'DATABASE_URL', value: 'postgres://x' },
      { name: 'GOMEMLIMIT', value: '1376MiB' },
    ]); // 90% of 1536Mi in 16Mi steps
    expect(sidecar).toEqual(deploymentObject.spec.template.spec.containers[1]);
  });
});

describe('the kubectl line is valid shell', () => {
  function runKubectlLine(line: string): string[] {
    // A stand-in kubectl that prints each argument it receives, NUL-separated.
    const out = execFileSync('bash', ['-c', `kubectl() { printf '%s\\0' "$@"; }\n${line}`], {
      encoding: 'utf8',
    });
    return out.split('\0').slice(0, -1);
  }

  it('runs as written, and the patch JSON reaches kubectl intact (quotes in args included)', () => {
    const args = ['-Dgreeting=it\'s "quoted" $HOME `id` \\ done', '-Xmx3g'];
    const ev = evidence({ containers: [container({ limit: '2Gi', args })] });
    const r = rec(ev, classify(ev));
    const argv = runKubectlLine(r.kubectl);
    expect(argv.slice(0, 8)).toEqual([
      '-n',
      'shop',
      'patch',
      'deployment',
      'api',
      '--type',
      'strategic',
      '-p',
    ]);
    expect(argv).toHaveLength(9);
    expect(JSON.parse(argv[8]!)).toEqual(r.patch);
    expect(containerPatch(r).args[0]).toBe(args[0]);
  });

  it('shellQuote survives a `bash -c "printf %s <quoted>"` round trip', () => {
    const texts = [JSON.stringify({ a: "it's" }), "'", "''", 'a\'b"c$d`e\\f\ng', '', '{"x":"\u00e9\u2603"}'];
    for (const t of texts) {
      const out = execFileSync('bash', ['-c', `printf %s ${shellQuote(t)}`], { encoding: 'utf8' });
      expect(out).toBe(t);
    }
  });

  it('property: any patch text survives the round trip', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'ab\'"$`\\ {}:,\n!*?~#'.split('')), maxLength: 30 }),
        (t) => {
          const out = execFileSync('bash', ['-c', `printf %s ${shellQuote(t)}`], { encoding: 'utf8' });
          expect(out).toBe(t);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('requests, QoS, and when there is nothing to recommend', () => {
  it('--guaranteed-qos sets requests equal to limits', () => {
    const r = rec(
      killedAt('1Gi', { containers: [container({ limit: '1Gi', request: '256Mi' })] }),
      limitTooSmall,
      { guaranteedQos: true },
    );
    expect(r.resources.requests.memory).toBe(r.resources.limits.memory);
    expect(r.resources.requests.memory).toBe('1536Mi');
    expect(notes(r)).toMatch(/Guaranteed QoS/);
    expect(containerPatch(r).resources).toEqual({
      requests: { memory: '1536Mi' },
      limits: { memory: '1536Mi' },
    });
  });

  it('without it, the request never exceeds the new limit and the option is mentioned', () => {
    const r = rec(killedAt('1Gi', { containers: [container({ limit: '1Gi', request: '256Mi' })] }));
    expect(parseQuantity(r.resources.requests.memory)).toBeLessThanOrEqual(
      parseQuantity(r.resources.limits.memory),
    );
    expect(notes(r)).toMatch(/--guaranteed-qos/);
  });

  it.each(['sigkill-not-oom', 'no-oom-found'] as const)('%s gives null', (v) => {
    expect(recommend(killedAt('1Gi'), verdict(v))).toBeNull();
  });

  it('an eviction of a container without a limit gets one 40% above its measured peak', () => {
    const ev = evidence({
      containers: [container({ limit: null, request: '256Mi' })],
      podReason: 'Evicted',
      podMessage:
        'The node was low on resource: memory. Threshold quantity: 100Mi, available: 87608Ki. Container api was using 1992294Ki, request is 256Mi, has larger consumption of memory. ',
      metrics: flatMetrics(1900 * MiB, null),
    });
    const c = classify(ev);
    expect(c.verdict).toBe('node-pressure-eviction');
    const r = rec(ev, c);
    // Peak 1900Mi + 6Mi of wobble = 1906Mi; × 1.4 = 2668.4Mi, up to a multiple of 256Mi: 2816Mi.
    expect(r.resources.limits.memory).toBe('2816Mi');
    expect(parseQuantity(r.resources.requests.memory)).toBeGreaterThanOrEqual(1906 * MiB);
    expect(notes(r)).toMatch(/evicted first/);
  });
});

describe('leaks', () => {
  const profilers: Array<[string, ScenarioSpec['runtime'], RegExp]> = [
    [
      'the JVM',
      { env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=60' }] },
      /heap dumps .*jcmd 1 GC\.heap_dump.*Eclipse MAT/,
    ],
    ['Go', { env: [{ name: 'GOMEMLIMIT', value: '1843MiB' }] }, /pprof heap profiles/],
    [
      'Node.js',
      { env: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=1200' }] },
      /heap snapshots .*--heapsnapshot-signal/,
    ],
    ['an unknown runtime', {}, /pprof for Go, heap dumps for the JVM, tracemalloc for Python/],
  ];

  it.each(profilers)(
    'for %s, the notes name its profiler and a predict_linear alert',
    async (_label, runtime, profiler) => {
      const ev = await generated({ ...demo('memory-leak'), runtime: runtime ?? {} });
      const c = classify(ev);
      expect(c.causes[0]?.id).toBe('memory-leak');
      const r = rec(ev, c);
      const text = notes(r);
      expect(text).toMatch(/raising the limit only reschedules the kill/);
      expect(text).toMatch(profiler);
      expect(text).toContain(
        `predict_linear(container_memory_working_set_bytes{namespace="shop", pod=~"cart-.*", container="cart"}[6h], 4 * 3600) > ${3 * GiB}`,
      );
      expect(text).toMatch(/At about [\d.]+ (MiB|KiB) per hour, the new limit buys roughly \d+ h/);
    },
  );
});

describe('recommend on random evidence', () => {
  it('never throws, never lowers the limit, and respects every cap above the limit in force', () => {
    const limits = ['64Mi', '256Mi', '1Gi', '1500Mi', '6Gi', '30Gi'];
    fc.assert(
      fc.property(
        fc.record({
          limit: fc.constantFrom(...limits),
          allocatable: fc.option(fc.integer({ min: 32 * MiB, max: 64 * GiB }), { nil: null }),
          rangeMax: fc.option(fc.integer({ min: 32 * MiB, max: 64 * GiB }), { nil: null }),
          headroom: fc.option(fc.integer({ min: 0, max: 64 * GiB }), { nil: null }),
          replicas: fc.integer({ min: 1, max: 20 }),
          surge: fc.integer({ min: 0, max: 5 }),
          kind: fc.constantFrom<WorkloadKind>('Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Pod'),
          v: fc.constantFrom<Verdict>('cgroup-oom', 'child-process-oom', 'node-pressure-eviction'),
          cause: fc.constantFrom<Cause['id']>(
            'limit-too-small',
            'memory-leak',
            'burst-allocation',
            'runtime-heap-misconfigured',
          ),
          qos: fc.boolean(),
        }),
        (p) => {
          const limit = parseQuantity(p.limit);
          const ev = killedAt(p.limit, {
            node: p.allocatable === null ? null : node({ allocatableBytes: p.allocatable }),
            namespaceLimits: {
              limitRangeMaxBytes: p.rangeMax,
              limitRangeName: 'lr',
              quotaHeadroomBytes: p.headroom,
              quotaName: 'q',
            },
            workload: deployment({ kind: p.kind, replicas: p.replicas, surge: p.surge }),
            lastTerminated: termination('OOMKilled', 137, NOW - HOUR),
          });
          const r = rec(ev, verdict(p.v, [[p.cause, 0.8]]), { guaranteedQos: p.qos });
          const newLimit = parseQuantity(r.resources.limits.memory);
          expect(newLimit).toBeGreaterThanOrEqual(limit);
          const perPod =
            p.headroom === null ? Infinity : (p.headroom + limit * p.replicas) / (p.replicas + p.surge);
          for (const cap of [p.allocatable ?? Infinity, p.rangeMax ?? Infinity, perPod]) {
            if (newLimit > limit) expect(newLimit).toBeLessThanOrEqual(cap);
          }
          expect(parseQuantity(r.resources.requests.memory)).toBeLessThanOrEqual(newLimit);
          if (p.qos) expect(r.resources.requests.memory).toBe(r.resources.limits.memory);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// Issue 11, class 5 (the number): with the peak known, the limit lands 30–50% above it.
describe('the number: 30–50% above a known peak, readable inside that band', () => {
  function evictedWithoutLimit(peak: number, parts: Parameters<typeof evidence>[0] = {}): Evidence {
    return evidence({
      containers: [container({ limit: null, request: '256Mi' })],
      podReason: 'Evicted',
      podMessage:
        'The node was low on resource: memory. Threshold quantity: 100Mi, available: 87608Ki. Container api was using 1Ki, request is 256Mi, has larger consumption of memory. ',
      // flatMetrics wobbles up to 6 MiB above its level.
      metrics: flatMetrics(peak - 6 * MiB, null),
      ...parts,
    });
  }

  it('a 768Mi peak gets 1Gi (1.33x), not 1280Mi (1.67x)', () => {
    expect(limitAbovePeak(768 * MiB)).toBe(GiB);
    const ev = evictedWithoutLimit(768 * MiB);
    const r = rec(ev, classify(ev));
    expect(r.resources.limits.memory).toBe('1Gi');
    expect(notes(r)).toMatch(/1 GiB \(33% above the measured peak of 768 MiB\)/);
  });

  it('no readable value in the band: the nearest at 64Mi (800Mi peak -> 1152Mi), then 16Mi (200Mi -> 288Mi)', () => {
    // 800Mi: the band is 1040Mi..1200Mi, and the 256Mi steps around it are 1024Mi and 1280Mi.
    expect(limitAbovePeak(800 * MiB)).toBe(1152 * MiB);
    // 200Mi: the band is 260Mi..300Mi; 64Mi steps give 256Mi and 320Mi, 16Mi steps give 288Mi.
    expect(limitAbovePeak(200 * MiB)).toBe(288 * MiB);
  });

  it('property: always inside the band, on a 16Mi grid, and never finer than needed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 128 * 1024 }), (peakMiB) => {
        const peak = peakMiB * MiB;
        const limit = limitAbovePeak(peak);
        expect(limit).toBeGreaterThanOrEqual(1.3 * peak);
        expect(limit).toBeLessThanOrEqual(1.5 * peak);
        expect(limit % (16 * MiB)).toBe(0);
        // When a 256Mi-grid value fits in the band above 1GiB, that is the one chosen.
        const coarse = Math.ceil((1.4 * peak) / (256 * MiB)) * 256 * MiB;
        if (1.4 * peak >= GiB && 1.4 * peak < 8 * GiB && coarse <= 1.5 * peak) expect(limit).toBe(coarse);
      }),
    );
  });

  it('a cap below the band says which cap and by how much', () => {
    const ev = evictedWithoutLimit(2 * GiB, {
      node: node({ name: 'small-1', allocatableBytes: 2304 * MiB }),
    });
    const r = rec(ev, classify(ev));
    expect(r.resources.limits.memory).toBe('2304Mi');
    // The band starts at 1.3 x 2Gi = 2662.4Mi, rounded up to 2663Mi: 359Mi short.
    expect(notes(r)).toMatch(/Capped at 2.25 GiB by node small-1's allocatable memory/);
    expect(notes(r)).toMatch(/359 MiB short of the 30% margin over the 2 GiB peak/);
  });

  it('the censored case (killed at the limit, peak unknown) keeps the one-time raise from the limit', () => {
    // 768Mi x 1.5 = 1152Mi, rounded up to the 256Mi grid: the band search is not applied to a limit.
    const r = rec(killedAt('768Mi'));
    expect(r.resources.limits.memory).toBe('1280Mi');
    expect(notes(r)).toMatch(/real peak is unknown: this raises the limit in force by 50%, once/);
  });
});

// Issue 11, class 2 (which workload): an Argo Rollout gets a JSON patch, an unknown owner the YAML and the reason.
describe('the patch for controllers that are not Deployments', () => {
  /** RFC 6902, the operations the recommender sends: test, add, replace (paths without escapes). */
  function applyJsonPatch(target: any, ops: Array<{ op: string; path: string; value: unknown }>): any {
    const doc = JSON.parse(JSON.stringify(target));
    for (const { op, path, value } of ops) {
      const keys = path.split('/').slice(1);
      const last = keys.pop() as string;
      let parent = doc;
      for (const k of keys) {
        parent = parent?.[k];
        if (parent === undefined) throw new Error(`path ${path} does not exist`);
      }
      if (op === 'test') {
        if (JSON.stringify(parent[last]) !== JSON.stringify(value)) throw new Error(`test failed at ${path}`);
      } else if (Array.isArray(parent)) {
        if (last === '-') parent.push(value);
        else if (op === 'add') parent.splice(Number(last), 0, value);
        else parent[Number(last)] = value;
      } else parent[last] = value;
    }
    return doc;
  }
  const rollout = (containers: object[]) => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: { template: { spec: { containers } } },
  });
  const rolloutRef = (containers: object[]) =>
    deployment({
      kind: 'Rollout',
      name: 'checkout',
      podTemplate: { containers, initContainers: [] },
    });

  it('names the Rollout and sends a JSON patch with a test of the container name at its index', () => {
    const containers = [
      { name: 'log-shipper', image: 'fluent-bit' },
      {
        name: 'api',
        image: 'api:1',
        resources: { requests: { cpu: '1' }, limits: { cpu: '2', memory: '1Gi' } },
      },
    ];
    const r = rec(killedAt('1Gi', { workload: rolloutRef(containers) }));
    expect(r.workload).toMatchObject({ kind: 'Rollout', name: 'checkout' });
    const ops = (r.patch as { jsonPatch: Array<{ op: string; path: string; value: unknown }> }).jsonPatch;
    expect(ops[0]).toEqual({ op: 'test', path: '/spec/template/spec/containers/1/name', value: 'api' });
    expect(r.kubectl).toBe(
      `kubectl -n shop patch rollout.argoproj.io checkout --type json -p '${JSON.stringify(ops)}'`,
    );
    const patched = applyJsonPatch(rollout(containers), ops);
    expect(patched.spec.template.spec.containers[1].resources).toEqual({
      requests: { cpu: '1', memory: expect.any(String) },
      limits: { cpu: '2', memory: '1536Mi' },
    });
    // The other container is untouched (a merge patch would have replaced the whole list).
    expect(patched.spec.template.spec.containers[0]).toEqual(containers[0]);
    expect(notes(r)).toMatch(/Rollouts get no Apply button yet/);
    // If the template moved on (another container at that index), the patch fails instead of changing the wrong one.
    expect(() => applyJsonPatch(rollout([...containers].reverse()), ops)).toThrow(/test failed/);
  });

  it('a heap fix in a Rollout: env and args by JSON patch too', () => {
    const containers = [
      { name: 'api', env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xmx3g' }], args: ['-jar', 'a.jar'] },
    ];
    const ev = evidence({
      containers: [
        container({
          limit: '2Gi',
          env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xmx3g' }],
          args: ['-jar', 'a.jar'],
        }),
      ],
      workload: rolloutRef(containers),
    });
    const r = rec(ev, verdict('cgroup-oom', [['runtime-heap-misconfigured', 0.9]]));
    const ops = (r.patch as { jsonPatch: Array<{ op: string; path: string; value: unknown }> }).jsonPatch;
    const patched = applyJsonPatch(rollout(containers), ops);
    expect(patched.spec.template.spec.containers[0].env).toEqual([
      { name: 'JAVA_TOOL_OPTIONS', value: '-Xmx1408m' },
    ]);
    expect(patched.spec.template.spec.containers[0].resources).toEqual({
      limits: { memory: '2Gi' },
      requests: expect.any(Object),
    });
  });

  it('an owner kind oomdoctor does not know: the YAML and the reason, and never a kubectl patch of its ReplicaSet', () => {
    const workload = {
      ...deployment({ kind: 'ReplicaSet', name: 'search-77f' }),
      owner: { apiVersion: 'apps.kruise.io/v1alpha1', kind: 'CloneSet', name: 'search' },
    };
    const r = rec(killedAt('1Gi', { workload }));
    expect(r.kubectl).toMatch(
      /^# ReplicaSet shop\/search-77f is managed by CloneSet shop\/search \(apps.kruise.io\/v1alpha1\)/,
    );
    expect(r.kubectl).not.toMatch(/kubectl .*patch/);
    expect(r.workload.owner).toEqual(workload.owner);
    expect(r.yaml).toMatch(/memory: 1536Mi/);
    expect(notes(r)).toMatch(
      /CloneSet search .* controls this ReplicaSet: patching the ReplicaSet would be undone by it/,
    );
  });
});
