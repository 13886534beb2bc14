import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors';
import {
  formatGoMemLimit,
  formatJvmHeap,
  formatNodeOldSpace,
  rewriteFlag,
} from '../../../src/core/runtime-flag-rewrite';
import {
  effectiveHeapBytes,
  effectiveSettings,
  findRuntimeSettings,
  readJvmSizingFlags,
} from '../../../src/core/runtime-settings';
import { evaluateRuntimeMemory } from '../../../src/core/runtime-evaluator';
import type { ResolvedEnvVar, RuntimeSetting } from '../../../src/core/types';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

function container(parts: {
  env?: Record<string, string> | ResolvedEnvVar[];
  command?: string[];
  args?: string[];
}) {
  const env = Array.isArray(parts.env)
    ? parts.env
    : Object.entries(parts.env ?? {}).map(([name, value]) => ({ name, value }));
  return { env, command: parts.command ?? [], args: parts.args ?? [] };
}

function find(parts: Parameters<typeof container>[0]): RuntimeSetting[] {
  return findRuntimeSettings(container(parts));
}

function heap(parts: Parameters<typeof container>[0], limit: number | null = null): number | null {
  return effectiveHeapBytes(find(parts), limit);
}

describe('findRuntimeSettings', () => {
  it.each<[string, string, Partial<RuntimeSetting>]>([
    [
      'JAVA_TOOL_OPTIONS',
      '-XX:MaxRAMPercentage=75.0',
      { runtime: 'jvm', setting: 'MaxRAMPercentage', value: '-XX:MaxRAMPercentage=75.0', percent: 75 },
    ],
    ['JAVA_OPTS', '-Xmx512m', { runtime: 'jvm', setting: 'Xmx', value: '-Xmx512m', bytes: 512 * MiB }],
    ['JAVA_OPTS', '-Xmx2G', { setting: 'Xmx', bytes: 2 * GiB }],
    ['JAVA_OPTS', '-Xmx2048k', { setting: 'Xmx', bytes: 2048 * KiB }],
    ['JAVA_OPTS', '-Xmx1073741824', { setting: 'Xmx', bytes: GiB }],
    ['JAVA_OPTS', '-Xmx1t', { setting: 'Xmx', bytes: 1024 * GiB }],
    [
      '_JAVA_OPTIONS',
      '-XX:MaxHeapSize=2g',
      { setting: 'MaxHeapSize', value: '-XX:MaxHeapSize=2g', bytes: 2 * GiB },
    ],
    [
      'JDK_JAVA_OPTIONS',
      '-XX:MaxRAMFraction=2',
      { setting: 'MaxRAMFraction', value: '-XX:MaxRAMFraction=2', percent: 50 },
    ],
    ['JAVA_TOOL_OPTIONS', '-XX:MaxRAMPercentage=80', { setting: 'MaxRAMPercentage', percent: 80 }],
    [
      'NODE_OPTIONS',
      '--max-old-space-size=1536',
      {
        runtime: 'node',
        setting: 'max-old-space-size',
        value: '--max-old-space-size=1536',
        bytes: 1536 * MiB,
      },
    ],
    [
      'NODE_OPTIONS',
      '--max_old_space_size=1536',
      { runtime: 'node', value: '--max_old_space_size=1536', bytes: 1536 * MiB },
    ],
    [
      'GOMEMLIMIT',
      '1800MiB',
      { runtime: 'go', setting: 'GOMEMLIMIT', value: 'GOMEMLIMIT=1800MiB', bytes: 1800 * MiB },
    ],
    ['GOMEMLIMIT', '2GiB', { runtime: 'go', value: 'GOMEMLIMIT=2GiB', bytes: 2 * GiB }],
    ['GOMEMLIMIT', '1073741824', { runtime: 'go', bytes: GiB }],
    ['GOMEMLIMIT', '512KiB', { runtime: 'go', bytes: 512 * KiB }],
    ['GOMEMLIMIT', '100B', { runtime: 'go', bytes: 100 }],
    ['GOMEMLIMIT', '1TiB', { runtime: 'go', bytes: 1024 * GiB }],
  ])('finds %s=%j', (name, value, expected) => {
    const found = find({ env: { [name]: value } });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ ...expected, source: `env ${name}`, location: { kind: 'env', name } });
  });

  it.each<[string, string]>([
    ['GOMEMLIMIT', 'off'],
    ['GOMEMLIMIT', '1.5GiB'],
    ['GOMEMLIMIT', '2GB'],
    ['GOMEMLIMIT', '2Gi'],
    ['GOMEMLIMIT', ' 2GiB'],
    ['GOMEMLIMIT', '-1'],
    ['GOMEMLIMIT', '99999999999999999999GiB'],
    ['JAVA_OPTS', '-Xmx'],
    ['JAVA_OPTS', '-Xmx0'],
    ['JAVA_OPTS', '-Xmx2gb'],
    ['JAVA_OPTS', '-Xmx1.5g'],
    ['JAVA_OPTS', '-Xmx=2g'],
    ['JAVA_OPTS', '-xmx2g'],
    ['JAVA_OPTS', '-Xmx2\u0433'],
    ['JAVA_OPTS', '-Xmx99999999999999999999g'],
    ['JAVA_OPTS', '-XX:MaxRAMPercentage=150'],
    ['JAVA_OPTS', '-XX:MaxRAMPercentage=NaN'],
    ['JAVA_OPTS', '-XX:MaxRAMPercentage=-5'],
    ['JAVA_OPTS', '-XX:MaxRAMFraction=0'],
    // A budget of nothing sizes no heap: the JVM clamps it to its minimum, Go collects without end.
    ['JAVA_OPTS', '-XX:MaxRAMPercentage=0'],
    ['JAVA_OPTS', '-XX:MaxRAMPercentage=0.0'],
    ['GOMEMLIMIT', '0'],
    ['GOMEMLIMIT', '0MiB'],
    ['JAVA_OPTS', '-XX:+UseContainerSupport -XX:InitialRAMPercentage=50 -Xms1g -Xss512k'],
    ['NODE_OPTIONS', '--max-old-space-size=1.5e3'],
    ['NODE_OPTIONS', '--max-old-space-size 1536'],
    ['NODE_OPTIONS', '-Xmx2g'],
    ['OTHER_OPTS', '-Xmx2g --max-old-space-size=1536'],
    ['java_opts', '-Xmx2g'],
  ])('ignores %s=%j', (name, value) => {
    expect(find({ env: { [name]: value } })).toEqual([]);
  });

  it('finds flags in command and args, with their index', () => {
    const found = find({
      command: ['java', '-Xmx1g', '-jar', '/app.jar'],
      args: ['--spring.profiles.active=prod', '-XX:MaxRAMPercentage=60'],
    });
    expect(found).toEqual([
      {
        runtime: 'jvm',
        setting: 'Xmx',
        value: '-Xmx1g',
        source: 'command[1]',
        location: { kind: 'command', index: 1 },
        bytes: GiB,
      },
      {
        runtime: 'jvm',
        setting: 'MaxRAMPercentage',
        value: '-XX:MaxRAMPercentage=60',
        source: 'args[1]',
        location: { kind: 'args', index: 1 },
        percent: 60,
      },
    ]);
  });

  it('finds flags inside a shell command line', () => {
    const found = find({ command: ['sh', '-c', 'exec java -Dpw=x -Xmx3g -jar app.jar'] });
    expect(found).toMatchObject([
      { value: '-Xmx3g', source: 'command[2]', location: { kind: 'command', index: 2 }, bytes: 3 * GiB },
    ]);
    expect(find({ args: ['node --max-old-space-size=2048 server.js'] })).toMatchObject([
      { runtime: 'node', value: '--max-old-space-size=2048', source: 'args[0]', bytes: 2048 * MiB },
    ]);
  });

  it('honours simple quotes when splitting options', () => {
    expect(
      find({ env: { JAVA_OPTS: `-Dgreeting="hello -Xmx9g world" -Xmx2g -Dq='a -Xmx8g b'` } }),
    ).toMatchObject([{ value: '-Xmx2g', bytes: 2 * GiB }]);
    expect(find({ env: { JAVA_OPTS: `"-Xmx2g" '-XX:MaxRAMPercentage=70'` } })).toMatchObject([
      { value: '-Xmx2g', bytes: 2 * GiB },
      { value: '-XX:MaxRAMPercentage=70', percent: 70 },
    ]);
    expect(find({ env: { JAVA_OPTS: `-Dunclosed="oops -Xmx9g` } })).toEqual([]);
    expect(find({ env: { JAVA_OPTS: ' \t-Xmx1g\n\n-Xmx2g\r\n' } }).map((s) => s.bytes)).toEqual([
      GiB,
      2 * GiB,
    ]);
  });

  it('describes values from a ConfigMap', () => {
    const found = find({
      env: [
        { name: 'JAVA_OPTS', value: '-Xmx2g', configMap: { name: 'api-env', key: 'JAVA_OPTS' } },
        { name: 'GOMEMLIMIT', value: '1GiB', configMap: { name: 'api-env', key: 'go-mem-limit' } },
      ],
    });
    expect(found).toMatchObject([
      {
        source: 'configmap api-env key JAVA_OPTS',
        location: { kind: 'env-configmap', name: 'JAVA_OPTS', configMap: 'api-env', key: 'JAVA_OPTS' },
      },
      {
        source: 'configmap api-env key go-mem-limit (env GOMEMLIMIT)',
        location: { kind: 'env-configmap', name: 'GOMEMLIMIT', configMap: 'api-env', key: 'go-mem-limit' },
      },
    ]);
  });

  it('never lets other flags or env content out, only the memory flag', () => {
    const secrets = ['hunter2', 's3cr3t', 'tok_ABC123', 'postgres://u:pw'];
    const found = find({
      env: [
        { name: 'JAVA_OPTS', value: '-Ddb.password=hunter2 -Xmx2g -Dapi.token=tok_ABC123 -Xmx2g-s3cr3t' },
        { name: 'JAVA_TOOL_OPTIONS', value: "-Ddb.url='postgres://u:pw@db' -XX:MaxRAMPercentage=75" },
        { name: 'NODE_OPTIONS', value: '--require=/s3cr3t.js --max-old-space-size=1024' },
        { name: 'DB_PASSWORD', value: 'hunter2' },
        { name: 'GOMEMLIMIT', value: 'hunter2' },
      ],
      command: ['java', '-Dkey=s3cr3t', '-Xmx1g', '-Xmxs3cr3t'],
      args: ['--password=hunter2', '--max-old-space-size=hunter2'],
    });
    expect(found.map((s) => s.value)).toEqual([
      '-Xmx2g',
      '-XX:MaxRAMPercentage=75',
      '--max-old-space-size=1024',
      '-Xmx1g',
    ]);
    const everything = JSON.stringify(found);
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });

  it('keeps only the last env var of a repeated name, as Kubernetes does', () => {
    const found = find({
      env: [
        { name: 'JAVA_OPTS', value: '-Xmx1g' },
        { name: 'JAVA_OPTS', value: '-Xms1g -Xmx2g' },
      ],
    });
    expect(found.map((s) => s.value)).toEqual(['-Xmx2g']);
  });

  it('survives hostile containers without throwing', () => {
    const started = Date.now();
    const hostile = {
      env: [
        { name: '__proto__', value: '-Xmx1g' },
        { name: 'constructor', value: '-Xmx1g' },
        { name: 'JAVA_OPTS', value: `${'-Dx=y '.repeat(200_000)}-Xmx2g` },
        { name: 'NODE_OPTIONS', value: '"'.repeat(100_000) },
        { name: 'JAVA_TOOL_OPTIONS', value: '-Xmx1g\u0000-Xmx9g' },
        { name: '_JAVA_OPTIONS', value: undefined as unknown as string },
      ],
      command: ['\u0000', '-Xm\u0445 2g', 'x'.repeat(1_000_000)],
      args: [undefined as unknown as string, '--max-old-space-size=\uff11\uff10'],
    };
    expect(findRuntimeSettings(hostile).map((s) => s.value)).toEqual(['-Xmx2g']);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('never throws, and only ever reports well-formed memory flags', () => {
    const flagLike = fc.constantFrom(
      '-Xmx',
      '-XX:MaxHeapSize=',
      '-XX:MaxRAMPercentage=',
      '-XX:MaxRAMFraction=',
      '--max-old-space-size=',
      '"',
      "'",
      ' ',
      '2g',
      '75.0',
      '1536',
      'MiB',
      '-D',
    );
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc
        .array(fc.oneof(flagLike, fc.string({ maxLength: 6 })), { maxLength: 12 })
        .map((parts) => parts.join('')),
    );
    const envName = fc.constantFrom(
      'JAVA_OPTS',
      'JAVA_TOOL_OPTIONS',
      '_JAVA_OPTIONS',
      'JDK_JAVA_OPTIONS',
      'NODE_OPTIONS',
      'GOMEMLIMIT',
      '__proto__',
    );
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: envName, value: text })),
        fc.array(text, { maxLength: 4 }),
        fc.array(text, { maxLength: 4 }),
        (env, command, args) => {
          const found = findRuntimeSettings({ env, command, args });
          for (const s of found) {
            expect(s.value).toMatch(
              /^(-Xmx\d+[kKmMgGtT]?|-XX:MaxHeapSize=\d+[kKmMgGtT]?|-XX:MaxRAMPercentage=\d+(\.\d+)?|-XX:MaxRAMFraction=\d+|--max[-_]old[-_]space[-_]size=\d+|GOMEMLIMIT=\d+(B|KiB|MiB|GiB|TiB)?)$/,
            );
            expect((s.bytes ?? 0) + (s.percent ?? 0)).toBeGreaterThan(0);
          }
          const budget = effectiveHeapBytes(found, 4 * GiB);
          if (budget !== null) expect(Number.isFinite(budget) && budget >= 0).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('effectiveHeapBytes', () => {
  it('is null without settings, or with only a percentage and no limit', () => {
    expect(heap({})).toBeNull();
    expect(heap({ env: { JAVA_TOOL_OPTIONS: '-XX:MaxRAMPercentage=75' } }, null)).toBeNull();
    expect(heap({ env: { GOMEMLIMIT: 'off' } }, 4 * GiB)).toBeNull();
  });

  it('applies MaxRAMPercentage and MaxRAMFraction to the limit', () => {
    expect(heap({ env: { JAVA_TOOL_OPTIONS: '-XX:MaxRAMPercentage=75.0' } }, 4 * GiB)).toBe(3 * GiB);
    expect(heap({ env: { JAVA_TOOL_OPTIONS: '-XX:MaxRAMFraction=4' } }, 4 * GiB)).toBe(GiB);
    expect(heap({ env: { JAVA_TOOL_OPTIONS: '-XX:MaxRAMPercentage=33.3' } }, 1000)).toBe(333);
  });

  it('lets the last of repeated JVM flags win, -Xmx and MaxHeapSize being the same flag', () => {
    expect(heap({ env: { JAVA_OPTS: '-Xmx1g -Xmx3g' } })).toBe(3 * GiB);
    expect(heap({ env: { JAVA_OPTS: '-Xmx3g -Xmx1g' } })).toBe(GiB);
    expect(heap({ env: { JAVA_OPTS: '-XX:MaxHeapSize=1g -Xmx2g' } })).toBe(2 * GiB);
    expect(heap({ env: { JAVA_OPTS: '-Xmx2g -XX:MaxHeapSize=1g' } })).toBe(GiB);
    expect(heap({ args: ['-Xmx1g', '-Xmx2g'] })).toBe(2 * GiB);
    expect(heap({ command: ['java', '-Xmx3g'], args: ['-Xmx2g'] })).toBe(2 * GiB);
  });

  it('orders places: _JAVA_OPTIONS > command line > JAVA_OPTS > JDK_JAVA_OPTIONS > JAVA_TOOL_OPTIONS', () => {
    const all = {
      JAVA_TOOL_OPTIONS: '-Xmx1g',
      JDK_JAVA_OPTIONS: '-Xmx2g',
      JAVA_OPTS: '-Xmx3g',
      _JAVA_OPTIONS: '-Xmx5g',
    };
    // env listed in reverse order of precedence and in order: the container's order does not matter
    expect(heap({ env: all, args: ['-Xmx4g'] })).toBe(5 * GiB);
    const reversed = Object.fromEntries(Object.entries(all).reverse());
    expect(heap({ env: reversed, args: ['-Xmx4g'] })).toBe(5 * GiB);
    const { _JAVA_OPTIONS: _ignored, ...withoutUnderscore } = all;
    expect(heap({ env: withoutUnderscore, args: ['-Xmx4g'] })).toBe(4 * GiB);
    expect(heap({ env: withoutUnderscore, command: ['java', '-Xmx4g', '-jar', 'a.jar'] })).toBe(4 * GiB);
    expect(heap({ env: withoutUnderscore })).toBe(3 * GiB);
    expect(heap({ env: { JAVA_TOOL_OPTIONS: '-Xmx1g', JDK_JAVA_OPTIONS: '-Xmx2g' } })).toBe(2 * GiB);
    expect(heap({ env: { JDK_JAVA_OPTIONS: '-Xmx2g', JAVA_TOOL_OPTIONS: '-Xmx1g' } })).toBe(2 * GiB);
    expect(heap({ env: { _JAVA_OPTIONS: '-Xmx512m' }, args: ['-Xmx4g'] })).toBe(512 * MiB);
  });

  it('prefers any heap size over a percentage, and a percentage over a fraction', () => {
    expect(
      heap({ env: { JAVA_TOOL_OPTIONS: '-Xmx1g', _JAVA_OPTIONS: '-XX:MaxRAMPercentage=75' } }, 8 * GiB),
    ).toBe(GiB);
    expect(heap({ env: { JAVA_OPTS: '-XX:MaxRAMPercentage=50 -XX:MaxRAMFraction=1' } }, 8 * GiB)).toBe(
      4 * GiB,
    );
    expect(heap({ env: { JAVA_OPTS: '-XX:MaxRAMFraction=1 -XX:MaxRAMPercentage=50' } }, 8 * GiB)).toBe(
      4 * GiB,
    );
    expect(
      heap(
        { env: { JAVA_OPTS: '-XX:MaxRAMPercentage=50', _JAVA_OPTIONS: '-XX:MaxRAMPercentage=25' } },
        8 * GiB,
      ),
    ).toBe(2 * GiB);
  });

  it('lets the Node command line override NODE_OPTIONS', () => {
    expect(
      heap({
        env: { NODE_OPTIONS: '--max-old-space-size=4096' },
        command: ['node', '--max-old-space-size=1024', 'server.js'],
      }),
    ).toBe(1024 * MiB);
    expect(heap({ env: { NODE_OPTIONS: '--max-old-space-size=1024 --max_old_space_size=2048' } })).toBe(
      2048 * MiB,
    );
  });

  it('takes the largest budget when several runtimes have one', () => {
    expect(
      heap(
        {
          env: {
            GOMEMLIMIT: '1800MiB',
            JAVA_TOOL_OPTIONS: '-XX:MaxRAMPercentage=50',
            NODE_OPTIONS: '--max-old-space-size=1024',
          },
        },
        4 * GiB,
      ),
    ).toBe(2 * GiB);
    expect(heap({ env: { GOMEMLIMIT: '3GiB', JAVA_TOOL_OPTIONS: '-XX:MaxRAMPercentage=50' } }, 4 * GiB)).toBe(
      3 * GiB,
    );
    expect(heap({ env: { GOMEMLIMIT: '3GiB', JAVA_TOOL_OPTIONS: '-XX:MaxRAMPercentage=50' } }, null)).toBe(
      3 * GiB,
    );
  });

  it('names the deciding setting of each runtime', () => {
    const found = find({
      env: { JAVA_TOOL_OPTIONS: '-XX:MaxRAMPercentage=75', JAVA_OPTS: '-Xmx1g -Xmx2g', GOMEMLIMIT: '1GiB' },
      args: ['-XX:MaxRAMPercentage=50'],
    });
    expect(effectiveSettings(found).map((s) => `${s.source} ${s.value}`)).toEqual([
      'env JAVA_OPTS -Xmx2g',
      'env GOMEMLIMIT GOMEMLIMIT=1GiB',
    ]);
  });
});

describe('readJvmSizingFlags: container support, -Xms and AlwaysPreTouch as the JVM reads them', () => {
  it('names the flag in force and where it is', () => {
    const flags = readJvmSizingFlags(
      container({
        env: { JAVA_TOOL_OPTIONS: '-Dpassword=hunter2 -XX:-UseContainerSupport -Xms2g' },
        command: ['java', '-XX:+AlwaysPreTouch', '-Xms1200m', '-jar', 'app.jar'],
      }),
    );
    expect(flags.containerSupportOff).toEqual({
      flag: '-XX:-UseContainerSupport',
      source: 'env JAVA_TOOL_OPTIONS',
    });
    // The command line is read after JAVA_TOOL_OPTIONS: its -Xms wins.
    expect(flags.initialHeap).toEqual({ flag: '-Xms1200m', source: 'command[2]', bytes: 1200 * MiB });
    expect(flags.alwaysPreTouch).toEqual({ flag: '-XX:+AlwaysPreTouch', source: 'command[1]' });
    expect(JSON.stringify(flags)).not.toContain('hunter2');
  });

  it('a later place turns a flag back off: _JAVA_OPTIONS is read last', () => {
    const flags = readJvmSizingFlags(
      container({
        env: {
          _JAVA_OPTIONS: '-XX:+UseContainerSupport -XX:-AlwaysPreTouch -XX:InitialHeapSize=256m',
          JAVA_TOOL_OPTIONS: '-XX:-UseContainerSupport -XX:+AlwaysPreTouch -Xms4g',
        },
        args: ['-XX:-UseContainerSupport'],
      }),
    );
    expect(flags).toEqual({
      containerSupportOff: null,
      alwaysPreTouch: null,
      initialHeap: { flag: '-XX:InitialHeapSize=256m', source: 'env _JAVA_OPTIONS', bytes: 256 * MiB },
    });
  });

  it('agrees with the runtime evaluator on any placement of the flags', () => {
    const word = fc.constantFrom(
      '-XX:+UseContainerSupport',
      '-XX:-UseContainerSupport',
      '-XX:+AlwaysPreTouch',
      '-XX:-AlwaysPreTouch',
      '-Xms512m',
      '-Xms3g',
      '-XX:InitialHeapSize=1200m',
      '-Dapp.mode=prod',
    );
    const words = fc.array(word, { maxLength: 4 });
    fc.assert(
      fc.property(
        fc.record({
          tool: words,
          jdk: words,
          opts: words,
          last: words,
          line: words,
          inCommand: fc.boolean(),
        }),
        ({ tool, jdk, opts, last, line, inCommand }) => {
          const env: Array<{ name: string; value: string }> = [];
          if (tool.length) env.push({ name: 'JAVA_TOOL_OPTIONS', value: tool.join(' ') });
          if (jdk.length) env.push({ name: 'JDK_JAVA_OPTIONS', value: jdk.join(' ') });
          if (last.length) env.push({ name: '_JAVA_OPTIONS', value: last.join(' ') });
          // JAVA_OPTS is a start script's: only when no java command line is given.
          if (!inCommand && opts.length) env.push({ name: 'JAVA_OPTS', value: opts.join(' ') });
          const command = inCommand ? ['java', ...line, '-jar', 'app.jar'] : [];
          const args = inCommand ? [] : [...line, '-jar', 'app.jar'];
          const flags = readJvmSizingFlags({ env, command, args });
          const jvm = evaluateRuntimeMemory({ env, command, args }, { limitBytes: GiB }).jvm;
          expect(flags.containerSupportOff === null).toBe(jvm.containerSupport);
          expect(flags.alwaysPreTouch !== null).toBe(jvm.alwaysPreTouch);
          expect(flags.initialHeap?.bytes ?? null).toBe(jvm.initialHeapBytes);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('rewriteFlag', () => {
  it.each<[string, Parameters<typeof rewriteFlag>[1], string, string]>([
    ['-Dx=1 -Xmx4g -server', 'Xmx', '1536m', '-Dx=1 -Xmx1536m -server'],
    ['-Xmx4g', 'Xmx', '1536m', '-Xmx1536m'],
    ['  -Da="x  y"\t-Xmx4g\n -server  ', 'Xmx', '1536m', '  -Da="x  y"\t-Xmx1536m\n -server  '],
    ['-Xmx1g -Dx -Xmx2g', 'Xmx', '3g', '-Xmx3g -Dx -Xmx3g'],
    ['-XX:MaxHeapSize=4g -Dy', 'Xmx', '1536m', '-XX:MaxHeapSize=1536m -Dy'],
    ['-Xmx4g', 'MaxHeapSize', '2g', '-Xmx2g'],
    ['"-Xmx4g" -Dz', 'Xmx', '1536m', '"-Xmx1536m" -Dz'],
    ["'-Xmx4g'", 'Xmx', '1536m', "'-Xmx1536m'"],
    ['-Xmx4gb', 'Xmx', '1536m', '-Xmx1536m'],
    ['"-Xmx4g -server" -Dx', 'Xmx', '1536m', '"-Xmx4g -server" -Dx -Xmx1536m'],
    ['-Dq="-Xmx9g" -Xms1g', 'Xmx', '1536m', '-Dq="-Xmx9g" -Xms1g -Xmx1536m'],
    ['-Dx=1', 'Xmx', '1536m', '-Dx=1 -Xmx1536m'],
    ['-Dx=1 ', 'Xmx', '1536m', '-Dx=1 -Xmx1536m'],
    ['', 'Xmx', '1536m', '-Xmx1536m'],
    ['java -jar app.jar --port 8080', 'Xmx', '1536m', 'java -Xmx1536m -jar app.jar --port 8080'],
    [
      'exec /usr/bin/java -cp lib/* Main',
      'MaxHeapSize',
      '2g',
      'exec /usr/bin/java -XX:MaxHeapSize=2g -cp lib/* Main',
    ],
    ['-XX:MaxRAMPercentage=75.0 -Dx', 'MaxRAMPercentage', '60.0', '-XX:MaxRAMPercentage=60.0 -Dx'],
    ['-XX:MaxRAMFraction=2', 'MaxRAMFraction', '4', '-XX:MaxRAMFraction=4'],
    ['-XX:MaxRAMFraction=2', 'MaxRAMPercentage', '50', '-XX:MaxRAMFraction=2 -XX:MaxRAMPercentage=50'],
    [
      '--max_old_space_size=1024 --trace-warnings',
      'max-old-space-size',
      '1536',
      '--max_old_space_size=1536 --trace-warnings',
    ],
    ['--max-old-space-size=1024', 'max-old-space-size', '1536', '--max-old-space-size=1536'],
    [
      '--require ./tracing.js',
      'max-old-space-size',
      '1536',
      '--require ./tracing.js --max-old-space-size=1536',
    ],
    ['node server.js', 'max-old-space-size', '1536', 'node --max-old-space-size=1536 server.js'],
    ['1800MiB', 'GOMEMLIMIT', '1500MiB', '1500MiB'],
    ['off', 'GOMEMLIMIT', '2GiB', '2GiB'],
    ['1GiB', 'GOMEMLIMIT', 'off', 'off'],
    ['GOMEMLIMIT=1GiB exec ./server', 'GOMEMLIMIT', '1500MiB', 'GOMEMLIMIT=1500MiB exec ./server'],
  ])('rewrites %j (%s=%s)', (text, setting, value, expected) => {
    expect(rewriteFlag(text, setting, value)).toBe(expected);
  });

  it.each<[Parameters<typeof rewriteFlag>[1], string]>([
    ['Xmx', '1536 -Dsecret=x'],
    ['Xmx', '1.5g'],
    ['Xmx', '0'],
    ['Xmx', 'off'],
    ['Xmx', ''],
    ['MaxRAMPercentage', '101'],
    ['MaxRAMFraction', '0'],
    ['max-old-space-size', '1536m'],
    ['GOMEMLIMIT', '2GB'],
    ['GOMEMLIMIT', '2GiB\u0000'],
  ])('refuses %s value %j', (setting, value) => {
    expect(() => rewriteFlag('-Dx=1', setting, value)).toThrow(ParseError);
  });

  it('says which value was wrong', () => {
    expect(() => rewriteFlag('-Xmx1g', 'Xmx', '1.5g')).toThrow(
      'Xmx value "1.5g" is not valid: use a whole number with an optional unit k, m, g or t, such as 1536m',
    );
  });

  it('changes nothing but the flag, whatever surrounds it', () => {
    const other = fc
      .string({ unit: fc.constantFrom(...'abcXD=.-_/ \t:1'.split('')), maxLength: 30 })
      .filter((s) => !/-Xmx|-XX:MaxHeapSize=/.test(s));
    fc.assert(
      fc.property(
        other,
        other,
        fc.constantFrom('-Xmx4g', '-Xmx512m', '-XX:MaxHeapSize=8g'),
        (before, after, flag) => {
          const text = `${before} ${flag} ${after}`;
          const rewritten = rewriteFlag(text, 'Xmx', '1536m');
          const prefix = flag.startsWith('-Xmx') ? '-Xmx' : '-XX:MaxHeapSize=';
          expect(rewritten).toBe(`${before} ${prefix}1536m ${after}`);
          expect(
            effectiveHeapBytes(
              findRuntimeSettings({ env: [{ name: 'JAVA_OPTS', value: rewritten }], command: [], args: [] }),
              null,
            ),
          ).toBe(1536 * MiB);
        },
      ),
    );
  });

  it('never throws on arbitrary text, and the new value always takes effect', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ maxLength: 60 })),
        (text) => {
          const rewritten = rewriteFlag(text, 'max-old-space-size', '1536');
          expect(rewritten).toContain('--max');
          const found = findRuntimeSettings({
            env: [{ name: 'NODE_OPTIONS', value: rewritten }],
            command: [],
            args: [],
          });
          // A quote left open in the text swallows an appended flag, so only check well-quoted text.
          if (!/["']/.test(text)) expect(effectiveHeapBytes(found, null)).toBe(1536 * MiB);
        },
      ),
    );
  });
});

describe('formatting values for fixes', () => {
  it.each<[number, string, string, string]>([
    [1536 * MiB, '1536m', '1536MiB', '1536'],
    [1536 * MiB + 5, '1536m', '1536MiB', '1536'],
    [1800 * MiB, '1800m', '1800MiB', '1800'],
    [2 * GiB, '2048m', '2048MiB', '2048'],
    [MiB - 1, '1m', '1048575', '1'],
    [0, '1m', '0', '1'],
  ])('formats %d bytes', (bytes, jvm, go, node) => {
    expect(formatJvmHeap(bytes)).toBe(jvm);
    expect(formatGoMemLimit(bytes)).toBe(go);
    expect(formatNodeOldSpace(bytes)).toBe(node);
  });

  it.each([-1, NaN, Infinity])('refuses %d', (bytes) => {
    expect(() => formatJvmHeap(bytes)).toThrow(RangeError);
    expect(() => formatGoMemLimit(bytes)).toThrow(RangeError);
    expect(() => formatNodeOldSpace(bytes)).toThrow(RangeError);
  });

  it('formats values the runtimes read back as at most the budget, within 1 MiB', () => {
    fc.assert(
      fc.property(fc.integer({ min: MiB, max: 2 ** 45 }), (bytes) => {
        const found = find({
          env: {
            JAVA_OPTS: `-Xmx${formatJvmHeap(bytes)}`,
            GOMEMLIMIT: formatGoMemLimit(bytes),
            NODE_OPTIONS: `--max-old-space-size=${formatNodeOldSpace(bytes)}`,
          },
        });
        expect(found).toHaveLength(3);
        for (const s of found) {
          expect(s.bytes).toBeLessThanOrEqual(bytes);
          expect(bytes - (s.bytes ?? 0)).toBeLessThan(MiB);
        }
        expect(rewriteFlag('-Xmx1g', 'Xmx', formatJvmHeap(bytes))).toBe(`-Xmx${formatJvmHeap(bytes)}`);
      }),
    );
  });
});
