// Prometheus-style durations ("24h", "1h30m", "7d") and durations for people ("5 h 20 min").

import { checkInputText, ParseError, quoteInput } from './errors';
import {
  DAY_MS as DAY,
  HOUR_MS as HOUR,
  MINUTE_MS as MINUTE,
  SECOND_MS as SECOND,
  WEEK_MS as WEEK,
} from './time';

const YEAR = 365 * DAY;

/** Units from the largest down, as Prometheus spells them. */
const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['y', YEAR],
  ['w', WEEK],
  ['d', DAY],
  ['h', HOUR],
  ['m', MINUTE],
  ['s', SECOND],
  ['ms', 1],
];
const UNIT_MS = new Map<string, number>(UNITS);
const UNIT_RANK = new Map<string, number>(UNITS.map(([name], i) => [name, i]));

const MAX_DURATION_LENGTH = 64;
const HINT = 'use a number with a unit such as 30m, 24h or 1h30m (units ms, s, m, h, d, w, y)';

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

/** "1.5h" as a whole number of the largest unit that fits exactly ("90m"), or null. */
function wholeEquivalent(value: number, unitMs: number): string | null {
  const exact = value * unitMs;
  const ms = Math.round(exact);
  if (Math.abs(exact - ms) > 1e-9 * Math.max(1, exact)) return null;
  if (ms <= 0 || ms > Number.MAX_SAFE_INTEGER) return null;
  for (const [name, size] of UNITS) {
    if (ms % size === 0) return `${ms / size}${name}`;
  }
  return null;
}

/**
 * Parses a Prometheus-style duration to milliseconds: units ms, s, m, h, d, w (7d) and y (365d),
 * combined from the largest down ("1h30m", "1d12h"). Must be more than zero; whole numbers only.
 */
export function parseDuration(text: string, field = 'duration'): number {
  const s = checkInputText(text, field, MAX_DURATION_LENGTH, HINT);
  const q = quoteInput(s);
  function fail(reason: string): never {
    throw new ParseError(field, `${field} ${q} ${reason}`);
  }

  let total = 0;
  let lastRank = -1;
  let i = 0;
  while (i < s.length) {
    const start = i;
    while (isDigit(s[i])) i += 1;
    if (i === start) {
      if (s[i] === ' ' || s[i] === '\t') fail(`is not valid: remove the spaces, e.g. 1h30m`);
      if (s[i] === '-') fail(`is negative: use a positive duration such as 30m or 24h`);
      fail(`is not valid: ${HINT}`);
    }
    const digits = s.slice(start, i);
    let fraction = '';
    if (s[i] === '.') {
      const dot = i;
      i += 1;
      while (isDigit(s[i])) i += 1;
      fraction = s.slice(dot, i);
    }
    let spaces = 0;
    while (s[i] === ' ' || s[i] === '\t') {
      i += 1;
      spaces += 1;
    }
    const unitStart = i;
    while (isLetter(s[i])) i += 1;
    const unit = s.slice(unitStart, i);

    if (unit === '') {
      if (i === s.length && spaces === 0) {
        fail(`has no unit: add one, e.g. ${digits}${fraction}m or 24h (units ms, s, m, h, d, w, y)`);
      }
      fail(`is not valid: ${HINT}`);
    }
    const unitMs = UNIT_MS.get(unit);
    if (unitMs === undefined) {
      const lower = unit.toLowerCase();
      const known = UNIT_MS.has(lower) ? `; units are lower case, e.g. ${digits}${lower}` : '';
      fail(`has an unknown unit "${unit}": use ms, s, m, h, d, w or y, e.g. 30m or 24h${known}`);
    }
    if (spaces > 0) fail(`is not valid: remove the space, e.g. ${digits}${fraction}${unit}`);
    if (fraction !== '') {
      const whole = wholeEquivalent(Number(`${digits}${fraction}`), unitMs);
      fail(`is not valid: use whole numbers${whole ? `, e.g. ${whole}` : ', e.g. 90m rather than 1.5h'}`);
    }
    const rank = UNIT_RANK.get(unit) ?? 0;
    if (rank <= lastRank) fail(`is not valid: give each unit once, largest first, e.g. 1h30m or 1d12h`);
    lastRank = rank;
    total += Number(digits) * unitMs;
    if (!Number.isFinite(total) || total > Number.MAX_SAFE_INTEGER) {
      fail(`is too long: use a shorter duration such as 30d or 1y`);
    }
  }
  if (total <= 0) fail(`is zero: use a positive duration such as 30m or 24h`);
  return total;
}

const PEOPLE_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', DAY],
  ['h', HOUR],
  ['min', MINUTE],
  ['s', SECOND],
];

/**
 * A duration for people, at most two units, the larger ones, the last rounded down: "45 s",
 * "12 min", "5 h", "5 h 20 min", "3 d 4 h". Under a second: "250 ms". Never throws.
 */
export function formatDuration(ms: number): string {
  if (Number.isNaN(ms)) return 'unknown';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms === Infinity) return 'forever';
  if (ms < SECOND) return `${Math.floor(ms)} ms`;
  for (let i = 0; i < PEOPLE_UNITS.length; i += 1) {
    const [name, size] = PEOPLE_UNITS[i] as readonly [string, number];
    if (ms < size) continue;
    const count = Math.floor(ms / size);
    const next = PEOPLE_UNITS[i + 1];
    if (next === undefined) return `${count} ${name}`;
    const rest = Math.floor((ms - count * size) / next[1]);
    return rest > 0 ? `${count} ${name} ${rest} ${next[0]}` : `${count} ${name}`;
  }
  return `${Math.floor(ms)} ms`;
}
