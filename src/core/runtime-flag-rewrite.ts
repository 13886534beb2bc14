// Writing a fix back into a runtime's memory flag (the other half of runtime-settings.ts, which
// reads them): the flag's value replaced in place, every other byte of the options string kept,
// and the values a fix writes, rounded as each runtime spells them.
import { ParseError, quoteInput } from './errors';
import { checkBytes } from './quantity';
import { readValue, tokenize } from './runtime-settings';
import type { RuntimeKind, RuntimeSettingName } from './types';

const MiB = 1024 ** 2;

/** The spellings of a setting that rewriteFlag replaces; the first is the one it adds. */
function spellings(setting: RuntimeSettingName): string[] {
  switch (setting) {
    case 'Xmx':
      return ['-Xmx', '-XX:MaxHeapSize='];
    case 'MaxHeapSize':
      return ['-XX:MaxHeapSize=', '-Xmx'];
    case 'MaxRAMPercentage':
      return ['-XX:MaxRAMPercentage='];
    case 'MaxRAMFraction':
      return ['-XX:MaxRAMFraction='];
    case 'max-old-space-size':
      return ['--max-old-space-size=', '--max_old_space_size='];
    case 'GOMEMLIMIT':
      return ['GOMEMLIMIT='];
  }
}

const NEW_VALUE_HINTS: Record<RuntimeSettingName, string> = {
  Xmx: 'a whole number with an optional unit k, m, g or t, such as 1536m',
  MaxHeapSize: 'a whole number with an optional unit k, m, g or t, such as 1536m',
  MaxRAMPercentage: 'a percentage above 0 and at most 100, such as 75.0',
  MaxRAMFraction: 'a whole number of at least 1 such as 2',
  'max-old-space-size': 'a whole number of MiB such as 1536',
  GOMEMLIMIT: 'a byte count such as 1800MiB, 2GiB or 1073741824, or off',
};

const LAUNCHERS: Record<RuntimeKind, RegExp> = {
  jvm: /(^|\/)java(\.exe)?$/,
  node: /(^|\/)(node|nodejs)(\.exe)?$/,
  go: /^$/,
};

/**
 * Replaces a memory flag's value in an options string (JAVA_TOOL_OPTIONS, NODE_OPTIONS, ...) or a
 * single arg, leaving every other byte as it was: rewriteFlag("-Dx=1 -Xmx4g -server", 'Xmx',
 * '1536m') is "-Dx=1 -Xmx1536m -server". Every occurrence is replaced, each keeping its own
 * spelling; -Xmx and -XX:MaxHeapSize count as one flag. When the flag is absent it is added: right
 * after a java/node launcher word when the text is a command line ("java -jar app.jar"), else at
 * the end. For GOMEMLIMIT a "GOMEMLIMIT=..." word is replaced, else the text is taken to be the
 * variable's value and newValue is returned. Throws ParseError when newValue is not a valid value.
 */
export function rewriteFlag(text: string, setting: RuntimeSettingName, newValue: string): string {
  const field = `${setting} value`;
  const turnsOff = setting === 'GOMEMLIMIT' && newValue === 'off';
  if (typeof newValue !== 'string' || (!turnsOff && readValue(setting, newValue) === null)) {
    throw new ParseError(
      field,
      `${field} ${quoteInput(String(newValue))} is not valid: use ${NEW_VALUE_HINTS[setting]}`,
    );
  }
  const source = typeof text === 'string' ? text : '';
  const prefixes = spellings(setting);
  const tokens = tokenize(source);
  const hits = tokens.filter((t) => !/\s/.test(t.text) && prefixes.some((p) => t.text.startsWith(p)));

  if (hits.length > 0) {
    let out = source;
    for (const hit of [...hits].reverse()) {
      const prefix = prefixes.find((p) => hit.text.startsWith(p)) as string;
      const raw = source.slice(hit.start, hit.end);
      const quote = raw[0];
      const quoted =
        (quote === '"' || quote === "'") &&
        raw.length >= 2 &&
        raw.endsWith(quote) &&
        raw.slice(1, -1) === hit.text;
      const flag = `${prefix}${newValue}`;
      out = out.slice(0, hit.start) + (quoted ? `${quote}${flag}${quote}` : flag) + out.slice(hit.end);
    }
    return out;
  }

  if (setting === 'GOMEMLIMIT') return newValue;
  const flag = `${prefixes[0]}${newValue}`;
  const runtime: RuntimeKind = setting === 'max-old-space-size' ? 'node' : 'jvm';
  const launcher = tokens.find((t) => LAUNCHERS[runtime].test(t.text));
  if (launcher !== undefined) return `${source.slice(0, launcher.end)} ${flag}${source.slice(launcher.end)}`;
  if (source.trim() === '') return flag;
  return /\s$/.test(source) ? `${source}${flag}` : `${source} ${flag}`;
}

// ---------------------------------------------------------------------------------------------
// Values for fixes

/** An -Xmx / MaxHeapSize value in whole MiB, rounded down: 1610612736 → "1536m". At least "1m". */
export function formatJvmHeap(bytes: number): string {
  checkBytes(bytes, 'formatJvmHeap');
  return `${Math.max(1, Math.floor(bytes / MiB))}m`;
}

/** A GOMEMLIMIT value in whole MiB, rounded down: "1800MiB"; below 1 MiB, plain bytes. */
export function formatGoMemLimit(bytes: number): string {
  checkBytes(bytes, 'formatGoMemLimit');
  return bytes < MiB ? `${Math.floor(bytes)}` : `${Math.floor(bytes / MiB)}MiB`;
}

/** A --max-old-space-size value: whole MiB, rounded down, at least 1: "1536". */
export function formatNodeOldSpace(bytes: number): string {
  checkBytes(bytes, 'formatNodeOldSpace');
  return `${Math.max(1, Math.floor(bytes / MiB))}`;
}
