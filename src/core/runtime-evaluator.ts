// What a container's runtime will really use as its memory budget, read the way the kubelet and the
// runtime read the container as written in a pod template: independent of runtime-settings.ts (which
// finds flags so a fix can be written back), so tests can prove that a patched spec yields the value
// a fix intended, rather than that some string is present.
//
// The kubelet: envFrom sources in order, then env in order, a later name replacing an earlier one;
// an env entry whose value cannot be read here (a Secret, a field) still shadows envFrom, so its value
// is unknown. `$(VAR)` in env values, command and args is expanded from the variables defined before
// it; `$$(VAR)` stays literal.
// The JVM: JAVA_TOOL_OPTIONS, then JDK_JAVA_OPTIONS (the java launcher), then the command line up to
// the main class or `-jar file`, then _JAVA_OPTIONS; the last heap size wins. Without one the heap is
// MaxRAMPercentage (default 25) of the container limit, or of the node's memory when container
// support is off (-XX:-UseContainerSupport).
// Node: NODE_OPTIONS, then the node command line before the script (argv wins).
// Go: the GOMEMLIMIT variable.
const MiB = 2 ** 20;
const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: MiB, g: 2 ** 30, t: 2 ** 40 };
const GO_UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KiB: 1024,
  MiB,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};

/** A container as a pod template holds it: only the fields that decide a runtime's memory. */
export interface RawContainer {
  [field: string]: unknown;
  command?: unknown;
  args?: unknown;
  env?: unknown;
  envFrom?: unknown;
}

export interface EvaluationContext {
  /** ConfigMap name → data, for envFrom and configMapKeyRef. */
  configMaps?: ReadonlyMap<string, Record<string, string>>;
  /** The container's memory limit in bytes (what the JVM and resourceFieldRef read). */
  limitBytes: number | null;
  /** The node's memory, which a JVM without container support sizes its heap from. */
  nodeMemoryBytes?: number | null;
}

export interface EffectiveRuntimeMemory {
  /** The environment as the process sees it; undefined values could not be read (Secrets, fields). */
  env: Map<string, string | undefined>;
  jvm: {
    maxHeapBytes: number | null;
    initialHeapBytes: number | null;
    containerSupport: boolean;
    alwaysPreTouch: boolean;
    /** MaxRAMPercentage in force (the default 25 when unset). */
    maxRamPercentage: number;
  };
  nodeOldSpaceBytes: number | null;
  goMemLimitBytes: number | null;
}

type Raw = Record<string, unknown>;

function asRecord(value: unknown): Raw | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : null;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Kubernetes' $(VAR) expansion: defined names are replaced, $$ escapes, anything else stays as written. */
export function expandReferences(text: string, env: ReadonlyMap<string, string | undefined>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    const value = name === undefined ? undefined : env.get(name);
    return value === undefined ? match : value;
  });
}

function resourceFieldValue(ref: Raw, limitBytes: number | null): string | undefined {
  if (ref.resource !== 'limits.memory' || limitBytes === null) return undefined;
  const divisor = typeof ref.divisor === 'string' ? divisorBytes(ref.divisor) : 1;
  return divisor ? String(Math.ceil(limitBytes / divisor)) : undefined;
}

function divisorBytes(text: string): number | null {
  const m = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text);
  if (!m) return null;
  const units: Record<string, number> = {
    '': 1,
    Ki: 1024,
    Mi: MiB,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Number(m[1]) * (units[m[2] ?? ''] ?? 1);
}

/** The environment the kubelet gives the container. */
export function containerEnvironment(
  container: RawContainer,
  context: EvaluationContext,
): Map<string, string | undefined> {
  const env = new Map<string, string | undefined>();
  const configMaps = context.configMaps ?? new Map<string, Record<string, string>>();
  for (const source of asList(container.envFrom).map(asRecord)) {
    const ref = asRecord(source?.configMapRef);
    const prefix = typeof source?.prefix === 'string' ? source.prefix : '';
    if (ref && typeof ref.name === 'string') {
      for (const [key, value] of Object.entries(configMaps.get(ref.name) ?? {})) env.set(prefix + key, value);
    }
  }
  for (const entry of asList(container.env).map(asRecord)) {
    if (!entry || typeof entry.name !== 'string') continue;
    if (typeof entry.value === 'string') {
      env.set(entry.name, expandReferences(entry.value, env));
      continue;
    }
    const from = asRecord(entry.valueFrom);
    const cmRef = asRecord(from?.configMapKeyRef);
    const fieldRef = asRecord(from?.resourceFieldRef);
    let value: string | undefined;
    if (cmRef && typeof cmRef.name === 'string' && typeof cmRef.key === 'string')
      value = configMaps.get(cmRef.name)?.[cmRef.key];
    else if (fieldRef) value = resourceFieldValue(fieldRef, context.limitBytes);
    else if (from === null) value = ''; // `name` alone: an empty variable
    env.set(entry.name, value);
  }
  return env;
}

/** Whitespace-separated words with simple quotes removed, as a shell or the JVM splits an options variable. */
function words(text: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"']+|"[^"]*"?|'[^']*'?)+/g;
  for (const m of text.matchAll(re)) out.push(m[0].replace(/"([^"]*)"?|'([^']*)'?/g, '$1$2'));
  return out;
}

const SHELLS = /(^|\/)(sh|bash|dash|ash|zsh)$/;
const JAVA = /(^|\/)java$/;
const NODE = /(^|\/)(node|nodejs)$/;
/** java options that take the next word as their value. */
const JAVA_VALUE_OPTIONS = new Set([
  '-cp',
  '-classpath',
  '--class-path',
  '-p',
  '--module-path',
  '--upgrade-module-path',
  '--add-modules',
  '--add-opens',
  '--add-exports',
  '--add-reads',
  '--patch-module',
  '--limit-modules',
]);

/**
 * The process's command line: command then args ($(VAR) expanded); a shell's `-c` script is split
 * into words with $VAR and ${VAR} expanded too, so `sh -c "exec java $JAVA_OPTS -jar app.jar"` is
 * read as the JVM would receive it.
 */
function commandLine(container: RawContainer, env: ReadonlyMap<string, string | undefined>): string[] {
  const argv = [...asList(container.command), ...asList(container.args)]
    .filter((w): w is string => typeof w === 'string')
    .map((w) => expandReferences(w, env));
  const first = argv[0] ?? '';
  const dashC = argv.indexOf('-c');
  if (SHELLS.test(first) && dashC > 0 && argv[dashC + 1] !== undefined) {
    const script = (argv[dashC + 1] as string).replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (_m, a: string | undefined, b: string | undefined) => env.get(a ?? b ?? '') ?? '',
    );
    return words(script).filter((w) => w !== 'exec');
  }
  return argv;
}

/** The launcher's own options: the words after `launcher` up to the program (main class, -jar file, script). */
function launcherOptions(argv: string[], launcher: RegExp, valueOptions: Set<string>): string[] | null {
  const at = argv.findIndex((w) => launcher.test(w));
  if (at === -1) return null;
  const options: string[] = [];
  for (let i = at + 1; i < argv.length; i += 1) {
    const word = argv[i] as string;
    if (!word.startsWith('-') || word === '-jar') break;
    options.push(word);
    if (valueOptions.has(word)) i += 1;
  }
  return options;
}

function jvmSize(text: string): number | null {
  const m = /^(\d+)([kKmMgGtT]?)$/.exec(text);
  return m ? Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1) : null;
}

function goBytes(text: string): number | null {
  const m = /^(\d+)(B|KiB|MiB|GiB|TiB)?$/.exec(text);
  return m ? Number(m[1]) * (GO_UNITS[m[2] ?? ''] ?? 1) : null;
}

export function evaluateRuntimeMemory(
  container: RawContainer,
  context: EvaluationContext,
): EffectiveRuntimeMemory {
  const env = containerEnvironment(container, context);
  const argv = commandLine(container, env);
  const fromEnv = (name: string): string[] => words(env.get(name) ?? '');

  // The JVM reads these in this order; the last occurrence of a flag wins.
  const javaLine = launcherOptions(argv, JAVA, JAVA_VALUE_OPTIONS);
  // Without a java word the image's entrypoint launches it: its start script conventionally puts
  // JAVA_OPTS on the command line, followed by the container's own words.
  const commandLineOptions = javaLine ?? [...fromEnv('JAVA_OPTS'), ...argv.filter((w) => w.startsWith('-'))];
  const jvmOptions = [
    ...fromEnv('JAVA_TOOL_OPTIONS'),
    ...fromEnv('JDK_JAVA_OPTIONS'),
    ...commandLineOptions,
    ...fromEnv('_JAVA_OPTIONS'),
  ];
  let maxHeap: number | null = null;
  let initialHeap: number | null = null;
  let containerSupport = true;
  let alwaysPreTouch = false;
  let percentage = 25;
  let fraction: number | null = null;
  for (const option of jvmOptions) {
    if (option.startsWith('-Xmx')) maxHeap = jvmSize(option.slice(4)) ?? maxHeap;
    else if (option.startsWith('-XX:MaxHeapSize=')) maxHeap = jvmSize(option.slice(16)) ?? maxHeap;
    else if (option.startsWith('-Xms')) initialHeap = jvmSize(option.slice(4)) ?? initialHeap;
    else if (option.startsWith('-XX:InitialHeapSize='))
      initialHeap = jvmSize(option.slice(20)) ?? initialHeap;
    else if (option === '-XX:-UseContainerSupport') containerSupport = false;
    else if (option === '-XX:+UseContainerSupport') containerSupport = true;
    else if (option === '-XX:+AlwaysPreTouch') alwaysPreTouch = true;
    else if (option === '-XX:-AlwaysPreTouch') alwaysPreTouch = false;
    else if (option.startsWith('-XX:MaxRAMPercentage=')) {
      percentage = Number(option.slice(21));
      fraction = null;
    } else if (option.startsWith('-XX:MaxRAMFraction=')) fraction = Number(option.slice(19));
  }
  const memory = containerSupport ? context.limitBytes : (context.nodeMemoryBytes ?? null);
  const share = fraction !== null && fraction >= 1 ? 100 / fraction : percentage;
  if (maxHeap === null && memory !== null) maxHeap = Math.floor((memory * share) / 100);

  // Node: NODE_OPTIONS first, the command line after it.
  let oldSpace: number | null = null;
  const nodeOptions = [...fromEnv('NODE_OPTIONS'), ...(launcherOptions(argv, NODE, new Set()) ?? [])];
  for (const option of nodeOptions) {
    const m = /^--max[-_]old[-_]space[-_]size=(\d+)$/.exec(option);
    if (m) oldSpace = Number(m[1]) * MiB;
  }

  const goText = env.get('GOMEMLIMIT');
  return {
    env,
    jvm: {
      maxHeapBytes: maxHeap,
      initialHeapBytes: initialHeap,
      containerSupport,
      alwaysPreTouch,
      maxRamPercentage: share,
    },
    nodeOldSpaceBytes: oldSpace,
    goMemLimitBytes: goText === undefined ? null : goBytes(goText),
  };
}
