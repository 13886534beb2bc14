// Memory settings of managed runtimes (JVM, Go, Node) found in a container's env, command and args
// (writing a fix back into them is runtime-flag-rewrite.ts).
//
// Only the memory flag itself ever leaves this module: env values and args often carry secrets
// (passwords in -D properties, tokens in URLs), so nothing else from them is copied into a result
// or an error. Malformed memory flags are skipped rather than reported, for the same reason.
//
// Precedence, lowest to highest (a later one overrides an earlier one):
//   JVM:  JAVA_TOOL_OPTIONS < JDK_JAVA_OPTIONS < JAVA_OPTS < command, then args < _JAVA_OPTIONS.
//         The JVM reads JAVA_TOOL_OPTIONS first; the launcher puts JDK_JAVA_OPTIONS before the
//         command-line arguments; JAVA_OPTS is not read by the JVM but by start scripts that put it
//         on the command line (usually before the container's own args); _JAVA_OPTIONS is read last.
//         Within one place the last occurrence wins, -Xmx and -XX:MaxHeapSize are the same flag,
//         any heap size beats MaxRAMPercentage, and MaxRAMPercentage beats MaxRAMFraction.
//   Node: NODE_OPTIONS < command, then args (the command line wins).
//   Go:   GOMEMLIMIT only.

import { expandEnvReferences } from './container-env';
import type {
  ResolvedEnvVar,
  RuntimeKind,
  RuntimeSetting,
  RuntimeSettingName,
  SettingLocation,
} from './types';

const MiB = 1024 ** 2;
const MAX_BYTES = 2 ** 63;

const JVM_ENV = new Set(['JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', 'JAVA_OPTS', '_JAVA_OPTIONS']);
const JVM_RANK = new Map<string, number>([
  ['JAVA_TOOL_OPTIONS', 0],
  ['JDK_JAVA_OPTIONS', 1],
  ['JAVA_OPTS', 2],
  // the command line: 3
  ['_JAVA_OPTIONS', 4],
]);
const COMMAND_LINE_RANK = 3;

// ---------------------------------------------------------------------------------------------
// Tokens of an options string

export interface Token {
  /** The word with quotes removed. */
  text: string;
  /** Its span in the source, quotes included. */
  start: number;
  end: number;
}

function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/**
 * Splits an options string on whitespace, honouring simple single and double quotes (no escapes):
 * `-Dname="a b" -Xmx2g` is two words. An unclosed quote runs to the end. Linear in the length.
 */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    while (i < n && isSpace(source.charCodeAt(i))) i += 1;
    if (i >= n) break;
    const start = i;
    const pieces: string[] = [];
    let runStart = i;
    while (i < n && !isSpace(source.charCodeAt(i))) {
      const c = source[i];
      if (c === '"' || c === "'") {
        pieces.push(source.slice(runStart, i));
        const close = source.indexOf(c, i + 1);
        const stop = close === -1 ? n : close;
        pieces.push(source.slice(i + 1, stop));
        i = close === -1 ? n : close + 1;
        runStart = i;
      } else {
        i += 1;
      }
    }
    pieces.push(source.slice(runStart, i));
    tokens.push({ text: pieces.join(''), start, end: i });
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Flags

interface FlagSpec {
  setting: RuntimeSettingName;
  runtime: RuntimeKind;
  prefix: string;
}

const JVM_FLAGS: FlagSpec[] = [
  { setting: 'Xmx', runtime: 'jvm', prefix: '-Xmx' },
  { setting: 'MaxHeapSize', runtime: 'jvm', prefix: '-XX:MaxHeapSize=' },
  { setting: 'MaxRAMPercentage', runtime: 'jvm', prefix: '-XX:MaxRAMPercentage=' },
  { setting: 'MaxRAMFraction', runtime: 'jvm', prefix: '-XX:MaxRAMFraction=' },
];
const NODE_FLAGS: FlagSpec[] = [
  { setting: 'max-old-space-size', runtime: 'node', prefix: '--max-old-space-size=' },
  { setting: 'max-old-space-size', runtime: 'node', prefix: '--max_old_space_size=' },
];

const JVM_SIZE = /^(\d{1,20})([kKmMgGtT]?)$/;
const JVM_UNITS = new Map<string, number>([
  ['', 1],
  ['k', 1024],
  ['m', 1024 ** 2],
  ['g', 1024 ** 3],
  ['t', 1024 ** 4],
]);
const PERCENT = /^(\d{1,3})(\.\d{1,12})?$/;
const WHOLE = /^\d{1,12}$/;
const GO_BYTES = /^(\d{1,20})(B|KiB|MiB|GiB|TiB)?$/;
const GO_UNITS = new Map<string, number>([
  ['', 1],
  ['B', 1],
  ['KiB', 1024],
  ['MiB', 1024 ** 2],
  ['GiB', 1024 ** 3],
  ['TiB', 1024 ** 4],
]);

/** HotSpot's size syntax: digits with an optional k, m, g or t (either case). */
function jvmSizeBytes(value: string): number | null {
  const m = JVM_SIZE.exec(value);
  if (!m) return null;
  const bytes = Number(m[1]) * (JVM_UNITS.get((m[2] ?? '').toLowerCase()) ?? 1);
  return bytes > 0 && bytes <= MAX_BYTES ? bytes : null;
}

/** Go's GOMEMLIMIT syntax (runtime.parseByteCount): digits with an optional B, KiB, MiB, GiB or TiB. */
function goBytes(value: string): number | null {
  const m = GO_BYTES.exec(value);
  if (!m) return null;
  const bytes = Number(m[1]) * (GO_UNITS.get(m[2] ?? '') ?? 1);
  return bytes > 0 && bytes <= MAX_BYTES - 1 ? bytes : null;
}

type Reading = { bytes: number } | { percent: number };

export function readValue(setting: RuntimeSettingName, value: string): Reading | null {
  switch (setting) {
    case 'Xmx':
    case 'MaxHeapSize': {
      const bytes = jvmSizeBytes(value);
      return bytes === null ? null : { bytes };
    }
    case 'MaxRAMPercentage': {
      if (!PERCENT.test(value)) return null;
      const percent = Number(value);
      return percent > 0 && percent <= 100 ? { percent } : null;
    }
    case 'MaxRAMFraction': {
      if (!WHOLE.test(value)) return null;
      const fraction = Number(value);
      return fraction >= 1 ? { percent: 100 / fraction } : null;
    }
    case 'max-old-space-size': {
      if (!WHOLE.test(value)) return null;
      const mib = Number(value);
      return mib > 0 ? { bytes: mib * MiB } : null;
    }
    case 'GOMEMLIMIT': {
      const bytes = goBytes(value);
      return bytes === null ? null : { bytes };
    }
    default:
      return null;
  }
}

function describe(location: SettingLocation): string {
  switch (location.kind) {
    case 'env':
      return `env ${location.name}`;
    case 'env-configmap':
      return location.key === location.name
        ? `configmap ${location.configMap} key ${location.key}`
        : `configmap ${location.configMap} key ${location.key} (env ${location.name})`;
    case 'args':
      return `args[${location.index}]`;
    case 'command':
      return `command[${location.index}]`;
  }
}

function settingsIn(text: string, flags: FlagSpec[], location: SettingLocation): RuntimeSetting[] {
  const found: RuntimeSetting[] = [];
  for (const token of tokenize(text)) {
    for (const flag of flags) {
      if (!token.text.startsWith(flag.prefix)) continue;
      const reading = readValue(flag.setting, token.text.slice(flag.prefix.length));
      if (reading === null) continue;
      found.push({
        runtime: flag.runtime,
        setting: flag.setting,
        value: token.text,
        source: describe(location),
        location,
        ...reading,
      });
    }
  }
  return found;
}

/** Where a variable's setting came from, as people read it; a resource field says which, and its divisor. */
function envSource(env: ResolvedEnvVar, location: SettingLocation): string {
  const field = env.resourceField;
  if (!field) return describe(location);
  return `${describe(location)} from resourceFieldRef ${field.resource}${field.divisor === '1' ? '' : ` with divisor ${field.divisor}`}`;
}

function envLocation(env: ResolvedEnvVar): SettingLocation {
  return env.configMap
    ? { kind: 'env-configmap', name: env.name, configMap: env.configMap.name, key: env.configMap.key }
    : { kind: 'env', name: env.name };
}

/**
 * Every JVM, Go and Node memory setting of a container, in the order found: env (in the
 * container's order; of a repeated name only the last, as Kubernetes does), then command, then
 * args. `value` is only the flag ("-Xmx2g", "GOMEMLIMIT=1800MiB", "--max-old-space-size=1536").
 * Use effectiveHeapBytes / effectiveSettings for what the runtime will actually use.
 */
export function findRuntimeSettings(container: {
  command: string[];
  args: string[];
  env: ResolvedEnvVar[];
}): RuntimeSetting[] {
  const found: RuntimeSetting[] = [];
  const env = container.env ?? [];
  const lastIndex = new Map<string, number>();
  env.forEach((e, i) => lastIndex.set(e.name, i));

  env.forEach((e, i) => {
    if (lastIndex.get(e.name) !== i || typeof e.value !== 'string') return;
    const location = envLocation(e);
    if (JVM_ENV.has(e.name)) found.push(...settingsIn(e.value, JVM_FLAGS, location));
    else if (e.name === 'NODE_OPTIONS') found.push(...settingsIn(e.value, NODE_FLAGS, location));
    else if (e.name === 'GOMEMLIMIT') {
      const reading = readValue('GOMEMLIMIT', e.value);
      if (reading !== null) {
        found.push({
          runtime: 'go',
          setting: 'GOMEMLIMIT',
          value: `GOMEMLIMIT=${e.value}`,
          source: envSource(e, location),
          location,
          ...reading,
        });
      }
    }
  });

  // The kubelet expands $(VAR) in command and args from the container's environment before the
  // process sees them: "-Xmx$(HEAP_MIB)m" is the number the variable holds.
  const known = new Map(env.filter((e) => typeof e.value === 'string').map((e) => [e.name, e]));
  const commandLineFlags = [...JVM_FLAGS, ...NODE_FLAGS];
  for (const list of ['command', 'args'] as const)
    (container[list] ?? []).forEach((word, index) => {
      if (typeof word === 'string')
        found.push(...settingsIn(expandEnvReferences(word, known), commandLineFlags, { kind: list, index }));
    });
  return found;
}

// ---------------------------------------------------------------------------------------------
// What the runtime will use

function locationName(location: SettingLocation): string | null {
  return location.kind === 'env' || location.kind === 'env-configmap' ? location.name : null;
}

/** Sort key: [place, command before args, index]; equal keys keep their order (the order in the text). */
function precedence(setting: RuntimeSetting): [number, number, number] {
  const { location } = setting;
  const name = locationName(location);
  if (location.kind === 'command') return [COMMAND_LINE_RANK, 0, location.index];
  if (location.kind === 'args') return [COMMAND_LINE_RANK, 1, location.index];
  if (setting.runtime === 'jvm') return [JVM_RANK.get(name ?? '') ?? COMMAND_LINE_RANK - 1, 0, 0];
  return [0, 0, 0]; // NODE_OPTIONS and GOMEMLIMIT come before any command line
}

function byPrecedence(settings: RuntimeSetting[]): RuntimeSetting[] {
  return settings
    .map((setting, order) => ({ setting, key: precedence(setting), order }))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2] || a.order - b.order)
    .map((entry) => entry.setting);
}

function lastOf(settings: RuntimeSetting[], names: RuntimeSettingName[]): RuntimeSetting | undefined {
  const matching = settings.filter((s) => names.includes(s.setting));
  return matching[matching.length - 1];
}

/**
 * The settings that decide each runtime's heap budget, at most one per runtime: for the JVM the
 * winning -Xmx/MaxHeapSize, else the winning MaxRAMPercentage, else MaxRAMFraction; for Go the
 * GOMEMLIMIT; for Node the winning --max-old-space-size. This is the setting a fix should rewrite.
 */
export function effectiveSettings(settings: RuntimeSetting[]): RuntimeSetting[] {
  const ordered = byPrecedence(settings);
  const jvm = ordered.filter((s) => s.runtime === 'jvm');
  const winners = [
    lastOf(jvm, ['Xmx', 'MaxHeapSize']) ??
      lastOf(jvm, ['MaxRAMPercentage']) ??
      lastOf(jvm, ['MaxRAMFraction']),
    lastOf(
      ordered.filter((s) => s.runtime === 'go'),
      ['GOMEMLIMIT'],
    ),
    lastOf(
      ordered.filter((s) => s.runtime === 'node'),
      ['max-old-space-size'],
    ),
  ];
  return winners.filter((s): s is RuntimeSetting => s !== undefined);
}

/**
 * The heap budget in bytes the runtimes will actually use, given the container's memory limit:
 * the JVM's effective -Xmx/MaxHeapSize, else MaxRAMPercentage (or MaxRAMFraction) of the limit
 * (null without a limit; the JVM's default of 25% is not assumed); Go's GOMEMLIMIT; Node's
 * --max-old-space-size. The largest when several runtimes have one; null when none does.
 */
export function effectiveHeapBytes(settings: RuntimeSetting[], limitBytes: number | null): number | null {
  let best: number | null = null;
  for (const setting of effectiveSettings(settings)) {
    let budget: number | null = null;
    if (setting.bytes !== undefined) budget = setting.bytes;
    else if (
      setting.percent !== undefined &&
      limitBytes !== null &&
      Number.isFinite(limitBytes) &&
      limitBytes > 0
    ) {
      budget = Math.floor((limitBytes * setting.percent) / 100);
    }
    if (budget !== null && (best === null || budget > best)) best = budget;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// JVM flags that size the heap without naming a maximum

/** One flag in force: as written, and where it was found. */
export interface FlagInForce {
  flag: string;
  source: string;
}

/**
 * The JVM flags besides the maximum heap that decide how much memory the heap takes, each as the
 * JVM will use it (the same places and precedence as the heap settings: the last one read wins).
 */
export interface JvmSizingFlags {
  /** The -XX:-UseContainerSupport in force: the heap is then sized from the node's memory. */
  containerSupportOff: FlagInForce | null;
  /** The -Xms / -XX:InitialHeapSize in force. */
  initialHeap: (FlagInForce & { bytes: number }) | null;
  /** The -XX:+AlwaysPreTouch in force: every page of the initial heap is touched at start. */
  alwaysPreTouch: FlagInForce | null;
}

type SizingFlag =
  | { kind: 'container-support'; on: boolean }
  | { kind: 'initial-heap'; bytes: number }
  | { kind: 'pre-touch'; on: boolean };

function sizingFlag(word: string): SizingFlag | null {
  if (word === '-XX:+UseContainerSupport' || word === '-XX:-UseContainerSupport')
    return { kind: 'container-support', on: word[4] === '+' };
  if (word === '-XX:+AlwaysPreTouch' || word === '-XX:-AlwaysPreTouch')
    return { kind: 'pre-touch', on: word[4] === '+' };
  const size = word.startsWith('-Xms')
    ? word.slice(4)
    : word.startsWith('-XX:InitialHeapSize=')
      ? word.slice(20)
      : null;
  const bytes = size === null ? null : jvmSizeBytes(size);
  return bytes === null ? null : { kind: 'initial-heap', bytes };
}

/**
 * Reads -XX:±UseContainerSupport, -Xms / -XX:InitialHeapSize and -XX:±AlwaysPreTouch from the
 * JVM's variables, command and args in the order the JVM reads them. Only the flags themselves
 * leave this function (the rest of a variable may be a secret).
 */
export function readJvmSizingFlags(container: {
  command: string[];
  args: string[];
  env: ResolvedEnvVar[];
}): JvmSizingFlags {
  const places: Array<{ text: string; location: SettingLocation }> = [];
  const env = container.env ?? [];
  const lastIndex = new Map<string, number>();
  env.forEach((e, i) => lastIndex.set(e.name, i));
  env.forEach((e, i) => {
    if (lastIndex.get(e.name) === i && JVM_ENV.has(e.name) && typeof e.value === 'string')
      places.push({ text: e.value, location: envLocation(e) });
  });
  for (const list of ['command', 'args'] as const)
    (container[list] ?? []).forEach((word, index) => {
      if (typeof word === 'string') places.push({ text: word, location: { kind: list, index } });
    });

  const found: Array<{ setting: RuntimeSetting; flag: SizingFlag }> = [];
  for (const place of places) {
    for (const token of tokenize(place.text)) {
      const flag = sizingFlag(token.text);
      if (flag === null) continue;
      // Carried as a JVM setting only so that it sorts by the same precedence as the heap flags.
      const setting: RuntimeSetting = {
        runtime: 'jvm',
        setting: 'Xmx',
        value: token.text,
        source: describe(place.location),
        location: place.location,
      };
      found.push({ setting, flag });
    }
  }
  const ordered = byPrecedence(found.map((f) => f.setting));
  const flagOf = new Map(found.map((f) => [f.setting, f.flag]));
  const result: JvmSizingFlags = { containerSupportOff: null, initialHeap: null, alwaysPreTouch: null };
  for (const setting of ordered) {
    const flag = flagOf.get(setting) as SizingFlag;
    const inForce = { flag: setting.value, source: setting.source };
    if (flag.kind === 'container-support') result.containerSupportOff = flag.on ? null : inForce;
    else if (flag.kind === 'pre-touch') result.alwaysPreTouch = flag.on ? inForce : null;
    else result.initialHeap = { ...inForce, bytes: flag.bytes };
  }
  return result;
}
