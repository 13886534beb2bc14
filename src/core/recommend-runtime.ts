// The runtime's own memory budget (JVM heap, GOMEMLIMIT, Node's old space) made to fit a limit,
// written to the place that wins: the runtime reads several places in a fixed order (see
// runtime-settings.ts), so the fix rewrites the setting in force where it is, or sets the place
// read after it, and says so. A note alone is left only where no patch can reach (a variable whose
// other contents are not shown, with nothing read after it).
import { formatBytes } from './quantity';
import { RECOMMEND_THRESHOLDS as T } from './recommend-thresholds';
import { formatGoMemLimit, formatJvmHeap, formatNodeOldSpace, rewriteFlag } from './runtime-flag-rewrite';
import { effectiveSettings } from './runtime-settings';
import type { ContainerSpecEvidence, ResolvedEnvVar, RuntimeSetting } from './types';

const MIB = 2 ** 20;

export interface RuntimeFix {
  /** Variables set to a literal value; `replacesReference` when the entry had a valueFrom to drop. */
  env: Array<{ name: string; value: string }>;
  /** Names in `env` whose current entry is a configMapKeyRef (the patch must drop that valueFrom). */
  replacesReference: string[];
  args: string[] | null;
  command: string[] | null;
}

interface Desired {
  flag: string;
  bytes: number;
}

function desiredValue(setting: RuntimeSetting, limit: number): Desired | null {
  switch (setting.setting) {
    case 'Xmx':
    case 'MaxHeapSize': {
      if ((setting.bytes ?? 0) <= T.jvmHeapMaxShare * limit) return null;
      const bytes = Math.floor((T.jvmHeapShare * limit) / (T.heapStepMiB * MIB)) * T.heapStepMiB * MIB;
      return { flag: formatJvmHeap(bytes), bytes };
    }
    case 'MaxRAMPercentage':
    case 'MaxRAMFraction': {
      if ((setting.percent ?? 0) <= T.jvmRamPercentageMax) return null;
      const percentage = setting.setting === 'MaxRAMPercentage';
      const flag = percentage ? T.jvmRamPercentageFix : T.jvmRamFractionFix;
      return { flag, bytes: percentage ? (Number(flag) / 100) * limit : limit / Number(flag) };
    }
    case 'GOMEMLIMIT': {
      if ((setting.bytes ?? 0) <= T.goMemLimitMaxShare * limit) return null;
      const step = T.goMemLimitStepMiB * MIB;
      const bytes = Math.floor((T.goMemLimitShare * limit) / step) * step;
      return { flag: formatGoMemLimit(bytes), bytes };
    }
    case 'max-old-space-size': {
      if ((setting.bytes ?? 0) <= T.nodeOldSpaceMaxShare * limit) return null;
      const step = T.heapStepMiB * MIB;
      const bytes = Math.floor((T.nodeOldSpaceShare * limit) / step) * step;
      return { flag: formatNodeOldSpace(bytes), bytes };
    }
  }
}

const MEMORY_TOKEN =
  /^(-Xmx\S+|-Xms\S+|-XX:(Max|Initial|Min)RAM(Percentage|Fraction)=\S+|-XX:MaxHeapSize=\S+|-XX:[+-](UseContainerSupport|AlwaysPreTouch)|--max[-_]old[-_]space[-_]size=\S+)$/;
const NODE_LAUNCHER = /(^|\/)(node|nodejs)$/;

function onlyMemoryFlags(value: string): boolean {
  return value
    .trim()
    .split(/\s+/)
    .every((token) => MEMORY_TOKEN.test(token));
}

/** Builds the fix: one writer, so the places it changes stay consistent with each other. */
class FixWriter {
  readonly env: RuntimeFix['env'] = [];
  readonly replacesReference: string[] = [];
  args: string[] | null = null;
  command: string[] | null = null;

  constructor(private readonly spec: ContainerSpecEvidence) {}

  /** The value a variable will have after the fix (the patched one, else the current one). */
  envValue(name: string): string | undefined {
    return this.env.find((e) => e.name === name)?.value ?? this.current(name)?.value;
  }

  current(name: string): ResolvedEnvVar | undefined {
    return this.spec.env.find((e) => e.name === name);
  }

  setEnv(name: string, value: string): void {
    const existing = this.env.find((e) => e.name === name);
    if (existing) existing.value = value;
    else this.env.push({ name, value });
    if (this.current(name)?.via === 'valueFrom' && !this.replacesReference.includes(name))
      this.replacesReference.push(name);
  }

  word(list: 'args' | 'command', index: number): string {
    return (this[list] ?? this.spec[list])[index] ?? '';
  }

  setWord(list: 'args' | 'command', index: number, value: string): void {
    const words = this[list] ?? [...this.spec[list]];
    words[index] = value;
    this[list] = words;
  }

  /** Puts a flag right after the node launcher in command, where argv beats NODE_OPTIONS. */
  addNodeFlag(flag: string): boolean {
    const command = this.command ?? [...this.spec.command];
    const at = command.findIndex((w) => NODE_LAUNCHER.test(w));
    if (at === -1) return false;
    command.splice(at + 1, 0, flag);
    this.command = command;
    return true;
  }

  result(): RuntimeFix {
    return {
      env: this.env,
      replacesReference: this.replacesReference,
      args: this.args,
      command: this.command,
    };
  }
}

export function runtimeFix(spec: ContainerSpecEvidence, limit: number, notes: string[]): RuntimeFix {
  const writer = new FixWriter(spec);
  const winners = effectiveSettings(spec.runtime);
  for (const setting of winners) {
    const desired = desiredValue(setting, limit);
    if (!desired) continue;
    const after = afterText(setting, desired.flag);
    const why = `${setting.value} (${setting.source}) gives the runtime ${formatBytes(setting.bytes ?? ((setting.percent ?? 0) * limit) / 100)} of a ${formatBytes(limit)} limit; ${after} leaves room for what is not heap`;
    notes.push(`${why}: ${writeSetting(writer, setting, desired.flag, after)}`);
  }
  for (const setting of spec.runtime) {
    if (winners.includes(setting) || !desiredValue(setting, limit)) continue;
    const winner = winners.find((w) => w.runtime === setting.runtime);
    notes.push(
      `${setting.value} (${setting.source}) is too large for the limit too, but ${winner ? `${winner.value} (${winner.source})` : 'another setting'} is read after it and wins, so it has no effect while that stays; remove it so it cannot come back.`,
    );
  }
  jvmStartupFixes(writer, spec, limit, winners, notes);
  return writer.result();
}

/** Writes one winning setting's new value where it lives; returns the sentence that says where. */
function writeSetting(writer: FixWriter, setting: RuntimeSetting, flag: string, after: string): string {
  const location = setting.location;
  if (location.kind === 'args' || location.kind === 'command') {
    writer.setWord(
      location.kind,
      location.index,
      rewriteFlag(writer.word(location.kind, location.index), setting.setting, flag),
    );
    return `the patch changes ${location.kind}[${location.index}] in place.`;
  }
  const name = location.name;
  const value = writer.envValue(name) ?? '';
  const sharedConfigMap =
    location.kind === 'env-configmap'
      ? ` ${name} comes from key ${location.key} of ConfigMap ${location.configMap}, which is left alone (other workloads may share it)`
      : '';
  if (setting.setting === 'GOMEMLIMIT' || onlyMemoryFlags(value)) {
    writer.setEnv(name, setting.setting === 'GOMEMLIMIT' ? flag : rewriteFlag(value, setting.setting, flag));
    const field = writer.current(name)?.resourceField;
    const how = field
      ? `: a value of its own replaces its resourceFieldRef to ${field.resource}, which gives the runtime the whole ${field.resource === 'limits.memory' ? 'limit' : 'request'} and leaves nothing for what it does not manage.`
      : location.kind !== 'env-configmap'
        ? ''
        : writer.current(name)?.via === 'valueFrom'
          ? ": the container's own value replaces the reference."
          : ': a variable in env wins over the same name from envFrom.';
    return `the patch sets ${name}.${sharedConfigMap}${how}`;
  }
  if (setting.runtime === 'jvm') {
    const override = writer.envValue('_JAVA_OPTIONS');
    // _JAVA_OPTIONS is read last by the JVM: it overrides the flag without rewriting (and showing) the rest of the variable.
    if (override === undefined || onlyMemoryFlags(override)) {
      writer.setEnv(
        '_JAVA_OPTIONS',
        override === undefined ? after : rewriteFlag(override, setting.setting, flag),
      );
      return `the patch sets _JAVA_OPTIONS=${writer.envValue('_JAVA_OPTIONS')}, which the JVM reads last, rather than rewriting ${name}, whose other contents are not shown.${sharedConfigMap ? `${sharedConfigMap}.` : ''}`;
    }
  }
  if (setting.runtime === 'node' && writer.addNodeFlag(after)) {
    return `the patch puts ${after} on the node command line, which Node reads after NODE_OPTIONS, rather than rewriting NODE_OPTIONS, whose other contents are not shown.${sharedConfigMap ? `${sharedConfigMap}.` : ''}`;
  }
  const place =
    location.kind === 'env-configmap' ? `key ${location.key} of ConfigMap ${location.configMap}` : name;
  return `change it to ${after} in ${place} (the rest of that variable is left alone and not shown: it may carry secrets).`;
}

interface JvmFlagPlace {
  /** Where the word lives: a list word, or a variable. */
  where: { list: 'args' | 'command'; index: number } | { env: string };
  text: string;
}

/** Every place JVM flags can be written: command and args words, and the JVM's variables. */
function jvmFlagPlaces(writer: FixWriter, spec: ContainerSpecEvidence): JvmFlagPlace[] {
  const places: JvmFlagPlace[] = [];
  for (const name of ['JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', 'JAVA_OPTS', '_JAVA_OPTIONS']) {
    const value = writer.envValue(name);
    if (value !== undefined) places.push({ where: { env: name }, text: value });
  }
  for (const list of ['command', 'args'] as const) {
    spec[list].forEach((_w, index) =>
      places.push({ where: { list, index }, text: writer.word(list, index) }),
    );
  }
  return places;
}

const NO_CONTAINER_SUPPORT = /(^|[\s"'])-XX:-UseContainerSupport(?=$|[\s"'])/g;
const INITIAL_HEAP = /(^|[\s"'])-Xms(\d+[kKmMgGtT]?)(?=$|[\s"'])/g;

/**
 * JVM flags that doom a container at start whatever its heap: container support turned off (the
 * heap is sized from the node's memory), and an initial heap at or past what the limit can hold
 * (with AlwaysPreTouch it is all touched within seconds of every start).
 */
function jvmStartupFixes(
  writer: FixWriter,
  spec: ContainerSpecEvidence,
  limit: number,
  winners: RuntimeSetting[],
  notes: string[],
): void {
  const heapWinner = winners.find((s) => s.runtime === 'jvm' && s.bytes !== undefined);
  const heapAfter =
    heapWinner !== undefined
      ? (desiredValue(heapWinner, limit)?.bytes ?? heapWinner.bytes ?? null)
      : Math.floor((T.jvmHeapShare * limit) / (T.heapStepMiB * MIB)) * T.heapStepMiB * MIB;
  const initialMax = Math.min(heapAfter ?? Infinity, T.jvmHeapMaxShare * limit);
  const overrides: string[] = [];
  const reasons: string[] = [];
  for (const place of jvmFlagPlaces(writer, spec)) {
    const said: string[] = [];
    const fixed: string[] = [];
    let text = place.text.replace(NO_CONTAINER_SUPPORT, (_m, lead: string) => {
      said.push(
        "-XX:-UseContainerSupport makes the JVM size its heap from the node's memory, not the container's limit: turned back on",
      );
      fixed.push('-XX:+UseContainerSupport');
      return `${lead}-XX:+UseContainerSupport`;
    });
    text = text.replace(INITIAL_HEAP, (match, lead: string, size: string) => {
      const bytes = jvmBytes(size);
      if (bytes === null || bytes <= initialMax) return match;
      const lowered = formatJvmHeap(Math.floor(initialMax / (T.heapStepMiB * MIB)) * T.heapStepMiB * MIB);
      said.push(
        `-Xms${size} reserves ${formatBytes(bytes)} of heap at start, past what a ${formatBytes(limit)} limit can hold beside everything else (with -XX:+AlwaysPreTouch it is all touched within seconds of every start): lowered to -Xms${lowered}`,
      );
      fixed.push(`-Xms${lowered}`);
      return `${lead}-Xms${lowered}`;
    });
    if (said.length === 0) continue;
    if ('list' in place.where) {
      writer.setWord(place.where.list, place.where.index, text);
      notes.push(`${said.join('; ')}: the patch changes ${place.where.list}[${place.where.index}] in place.`);
    } else if (onlyMemoryFlags(text)) {
      writer.setEnv(place.where.env, text);
      notes.push(`${said.join('; ')}: the patch sets ${place.where.env}.`);
    } else {
      overrides.push(...fixed);
      reasons.push(`${said.join('; ')} (in ${place.where.env})`);
    }
  }
  if (overrides.length === 0) return;
  // Flags in a variable whose other contents are not shown: _JAVA_OPTIONS is read last and overrides them.
  const current = writer.envValue('_JAVA_OPTIONS');
  if (current === undefined || onlyMemoryFlags(current)) {
    writer.setEnv('_JAVA_OPTIONS', [current, ...overrides].filter((t) => t).join(' '));
    notes.push(
      `${reasons.join('; ')}: the patch sets _JAVA_OPTIONS=${writer.envValue('_JAVA_OPTIONS')}, which the JVM reads last.`,
    );
  } else {
    notes.push(
      `${reasons.join('; ')}: change ${overrides.join(' ')} there (the rest of that variable is left alone and not shown: it may carry secrets).`,
    );
  }
}

function jvmBytes(size: string): number | null {
  const m = /^(\d+)([kKmMgGtT]?)$/.exec(size);
  if (!m) return null;
  const unit = { '': 1, k: 1024, m: MIB, g: 2 ** 30, t: 2 ** 40 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Number(m[1]) * unit;
}

function afterText(setting: RuntimeSetting, flag: string): string {
  switch (setting.setting) {
    case 'Xmx':
      return `-Xmx${flag}`;
    case 'MaxHeapSize':
      return `-XX:MaxHeapSize=${flag}`;
    case 'MaxRAMPercentage':
      return `-XX:MaxRAMPercentage=${flag}`;
    case 'MaxRAMFraction':
      return `-XX:MaxRAMFraction=${flag}`;
    case 'GOMEMLIMIT':
      return `GOMEMLIMIT=${flag}`;
    case 'max-old-space-size':
      return `--max-old-space-size=${flag}`;
  }
}
