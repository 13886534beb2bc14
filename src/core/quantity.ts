// Kubernetes resource quantities ("512Mi", "1.5G", "129e6") and byte amounts for people and patches.

import { checkInputText, ParseError, quoteInput } from './errors';

export const KiB = 1024;
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

/** The largest quantity accepted: 2^63 (8Ei), what an int64 in the API server can hold. */
export const MAX_QUANTITY = 2 ** 63;

const MAX_QUANTITY_LENGTH = 64;
const HINT = 'use a number with a unit such as 512Mi, 2Gi or 1.5G';

/** Binary suffixes: the power of 1024. */
const BINARY_SUFFIXES = new Map<string, number>([
  ['Ki', 1],
  ['Mi', 2],
  ['Gi', 3],
  ['Ti', 4],
  ['Pi', 5],
  ['Ei', 6],
]);

/** Decimal suffixes: the power of 10. */
const DECIMAL_SUFFIXES = new Map<string, number>([
  ['m', -3],
  ['k', 3],
  ['M', 6],
  ['G', 9],
  ['T', 12],
  ['P', 15],
  ['E', 18],
]);

/** Units people write that Kubernetes does not accept, lower-cased, to the letter of the right one. */
const UNIT_MISTAKES = new Map<string, string>([
  ['kb', 'k'],
  ['kib', 'k'],
  ['ki', 'k'],
  ['mb', 'M'],
  ['mib', 'M'],
  ['mi', 'M'],
  ['gb', 'G'],
  ['gib', 'G'],
  ['gi', 'G'],
  ['g', 'G'],
  ['tb', 'T'],
  ['tib', 'T'],
  ['ti', 'T'],
  ['t', 'T'],
  ['pb', 'P'],
  ['pib', 'P'],
  ['pi', 'P'],
  ['p', 'P'],
  ['k', 'k'],
  ['e', 'E'],
  ['eb', 'E'],
  ['eib', 'E'],
  ['ei', 'E'],
]);

// Kubernetes' grammar: <digits>[.<digits>] followed by a binary suffix, a decimal suffix or an
// exponent. Each part is a distinct character class, so matching is linear (no backtracking blow-up).
const QUANTITY = /^(\d*)(?:\.(\d*))?(?:([KMGTPE]i|[mkMGTPE])|[eE]([+-]?\d+))?$/;
const NUMBER_AND_WORD = /^(\d+(?:\.\d+)?)( *)([A-Za-z]+)$/;

function suggestion(text: string): string {
  const m = NUMBER_AND_WORD.exec(text);
  if (!m) return '';
  const [, number, space, unit] = m as unknown as [string, string, string, string];
  if (space !== '' && (BINARY_SUFFIXES.has(unit) || DECIMAL_SUFFIXES.has(unit))) {
    return ` (here: ${number}${unit}, without the space)`;
  }
  const lower = unit.toLowerCase();
  if (lower === 'b' || lower === 'byte' || lower === 'bytes')
    return ` (here: ${number}, a plain number of bytes)`;
  const letter = UNIT_MISTAKES.get(lower);
  if (letter === undefined) return '';
  const binary = letter === 'k' ? 'Ki' : `${letter}i`;
  return ` (here: ${number}${binary} or ${number}${letter}, units are case-sensitive)`;
}

/**
 * Parses a Kubernetes resource quantity to a plain number (bytes, for memory): "512Mi", "1.5Gi",
 * "2G", "500m", "129e6", "1E3", "1073741824". Surrounding whitespace is ignored. The result is
 * finite, non-negative and at most 2^63; it is not rounded ("500m" is 0.5).
 */
export function parseQuantity(text: string, field = 'memory quantity'): number {
  const trimmed = checkInputText(text, field, MAX_QUANTITY_LENGTH, HINT);
  if (trimmed.startsWith('-')) {
    throw new ParseError(
      field,
      `${field} ${quoteInput(trimmed)} is negative: use zero or more, such as 512Mi, 2Gi or 1.5G`,
    );
  }
  const m = QUANTITY.exec(trimmed);
  const intDigits = m?.[1] ?? '';
  const fracDigits = m?.[2] ?? '';
  if (!m || (intDigits === '' && fracDigits === '')) {
    throw new ParseError(
      field,
      `${field} ${quoteInput(trimmed)} is not valid: ${HINT}${suggestion(trimmed)}`,
    );
  }
  const suffix = m[3];
  const exponentText = m[4];

  let exponent10 = -fracDigits.length;
  let power1024 = 0;
  if (suffix !== undefined) {
    const binary = BINARY_SUFFIXES.get(suffix);
    if (binary !== undefined) power1024 = binary;
    else exponent10 += DECIMAL_SUFFIXES.get(suffix) ?? 0;
  } else if (exponentText !== undefined) {
    const negative = exponentText.startsWith('-');
    const digits = exponentText.replace(/^[+-]/, '').replace(/^0+(?=\d)/, '');
    // Beyond a few hundred the number is 0 or Infinity anyway; clamp so the string stays small.
    const size = digits.length > 6 ? 999_999 : Number(digits);
    exponent10 += negative ? -size : size;
  }

  // Building "<digits>e<exponent>" lets Number() round once, correctly: 1.1G is 1100000000, not 1100000000.0000002.
  const mantissa = `${intDigits}${fracDigits}`;
  const value = Number(`${mantissa}e${exponent10}`) * 1024 ** power1024;
  if (!Number.isFinite(value) || value > MAX_QUANTITY) {
    throw new ParseError(field, `${field} ${quoteInput(trimmed)} is too large: use at most 8Ei (2^63)`);
  }
  return value;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/** 3 significant digits without trailing zeros; whole numbers of bytes. */
function threeDigits(value: number, unit: number): string {
  const decimals = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return value
    .toFixed(decimals)
    .replace(/\.0+$/, '')
    .replace(/(\.\d*?)0+$/, '$1');
}

/** Bytes for people, 3 significant digits and binary units: "12 B", "830 KiB", "512 MiB", "1.94 GiB". */
export function formatBytes(bytes: number): string {
  if (Number.isNaN(bytes)) return 'unknown';
  if (bytes < 0) return `-${formatBytes(-bytes)}`;
  if (bytes === Infinity) return 'unlimited';
  let unit = 0;
  let value = bytes;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  let text = threeDigits(value, unit);
  // 1023.7 MiB rounds to "1024": say "1 GiB" instead.
  if (Number(text) >= 1024 && unit < BYTE_UNITS.length - 1) {
    unit += 1;
    text = threeDigits(Number(text) / 1024, unit);
  }
  return `${text} ${BYTE_UNITS[unit]}`;
}

/** Throws RangeError unless `bytes` is a byte count a quantity can hold (0 to 2^63); `what` names the caller. */
export function checkBytes(bytes: number, what: string): void {
  if (!Number.isFinite(bytes) || bytes < 0 || bytes > MAX_QUANTITY) {
    throw new RangeError(`${what} needs a byte count between 0 and 2^63, got ${bytes}`);
  }
}

/**
 * A Kubernetes quantity for a patch: "2Gi" when the bytes are a whole number of Gi, otherwise
 * whole Mi rounded up ("1537Mi"); a fraction of a byte counts as a byte. Never has decimals. Throws RangeError for negative or non-finite bytes.
 */
export function toQuantity(bytes: number): string {
  checkBytes(bytes, 'toQuantity');
  const whole = Math.ceil(bytes); // a fraction of a byte is a byte (and 5e-324 / MiB would underflow to 0)
  if (whole % GiB === 0) return `${whole / GiB}Gi`;
  return `${Math.ceil(whole / MiB)}Mi`;
}

/**
 * Rounds up to a step a person would pick: multiples of 64 MiB below 1 GiB, 256 MiB below 8 GiB,
 * 1 GiB below 32 GiB, and 4 GiB from there. Idempotent. Throws RangeError for negative or non-finite bytes.
 */
export function roundUpReadable(bytes: number): number {
  checkBytes(bytes, 'roundUpReadable');
  const whole = Math.ceil(bytes);
  return Math.ceil(whole / readableStep(whole)) * readableStep(whole);
}

/** The step roundUpReadable uses around a size: 64 MiB below 1 GiB, 256 MiB below 8 GiB, 1 GiB below 32 GiB, else 4 GiB. */
export function readableStep(bytes: number): number {
  return bytes < GiB ? 64 * MiB : bytes < 8 * GiB ? 256 * MiB : bytes < 32 * GiB ? GiB : 4 * GiB;
}
