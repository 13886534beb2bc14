import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../../src/core/duration';
import { ParseError } from '../../../src/core/errors';
import { onlyParseErrors, parseErrorOf } from './parse-assertions';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it.each<[string, number]>([
    ['100ms', 100],
    ['30s', 30 * S],
    ['5m', 5 * M],
    ['90m', 90 * M],
    ['1h', H],
    ['24h', 24 * H],
    ['7d', 7 * D],
    ['2w', 14 * D],
    ['1y', 365 * D],
    ['1h30m', 90 * M],
    ['1d12h', 36 * H],
    ['1m30s', 90 * S],
    ['0h30m', 30 * M],
    ['1s500ms', 1500],
    ['1y2w3d4h5m6s7ms', 365 * D + 14 * D + 3 * D + 4 * H + 5 * M + 6 * S + 7],
    ['05m', 5 * M],
    ['  6h\n', 6 * H],
  ])('reads %j as %d ms', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each<[string, string]>([
    ['0s', 'duration "0s" is zero: use a positive duration such as 30m or 24h'],
    ['0h0m', 'is zero'],
    ['-5m', 'duration "-5m" is negative: use a positive duration such as 30m or 24h'],
    ['5', 'duration "5" has no unit: add one, e.g. 5m or 24h (units ms, s, m, h, d, w, y)'],
    ['5 m', 'duration "5 m" is not valid: remove the space, e.g. 5m'],
    ['1h 30m', 'remove the spaces, e.g. 1h30m'],
    ['1.5h', 'duration "1.5h" is not valid: use whole numbers, e.g. 90m'],
    ['0.5s', 'e.g. 500ms'],
    ['2.5d', 'e.g. 60h'],
    ['1.0001ms', 'use whole numbers, e.g. 90m rather than 1.5h'],
    ['5min', 'duration "5min" has an unknown unit "min": use ms, s, m, h, d, w or y, e.g. 30m or 24h'],
    ['5M', '"M": use ms, s, m, h, d, w or y, e.g. 30m or 24h; units are lower case, e.g. 5m'],
    ['3 days', 'unknown unit "days"'],
    ['30m1h', 'give each unit once, largest first, e.g. 1h30m or 1d12h'],
    ['1h1h', 'give each unit once'],
    ['999999999999y', 'duration "999999999999y" is too long: use a shorter duration such as 30d or 1y'],
    [
      '',
      'duration is empty: use a number with a unit such as 30m, 24h or 1h30m (units ms, s, m, h, d, w, y)',
    ],
    ['5\u0000m', 'contains U+0000'],
    ['5\u043c', 'contains U+043C'],
    ['\uff15m', 'contains U+FF15'],
    ['9'.repeat(1001), 'duration is too long (1001 characters, at most 64)'],
  ])('rejects %j with a clear message', (text, message) => {
    expect(parseErrorOf(() => parseDuration(text)).message).toContain(message);
  });

  it('names the field', () => {
    const err = parseErrorOf(() => parseDuration('soon', '--window'));
    expect(err.field).toBe('--window');
    expect(err.message).toBe(
      '--window "soon" is not valid: use a number with a unit such as 30m, 24h or 1h30m (units ms, s, m, h, d, w, y)',
    );
  });

  it.each([
    ' ',
    '\t',
    'NaN',
    'Infinity',
    '-Infinity',
    'h',
    '1e3s',
    '1e400h',
    '+5m',
    '5m-',
    '5m5',
    'P1D',
    'PT5M',
    '5:00',
    '1,5h',
    '__proto__',
    'constructor',
    'toString',
    '5valueOf',
    '5__proto__',
    '5constructor',
    '${1}h',
    '\u{1f4a5}',
    '\ud800',
  ])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(ParseError);
  });

  it('rejects a million characters quickly', () => {
    const started = Date.now();
    for (const text of ['9'.repeat(1_000_000), '1h'.repeat(500_000), ' '.repeat(1_000_000)]) {
      expect(() => parseDuration(text)).toThrow(ParseError);
    }
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reads any combination of units written largest first', () => {
    const units: Array<[string, number]> = [
      ['y', 365 * D],
      ['w', 7 * D],
      ['d', D],
      ['h', H],
      ['m', M],
      ['s', S],
      ['ms', 1],
    ];
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.nat({ max: 500 }), { nil: undefined }), { minLength: 7, maxLength: 7 }),
        (counts) => {
          let text = '';
          let expected = 0;
          counts.forEach((count, i) => {
            const [unit, size] = units[i] as [string, number];
            if (count === undefined) return;
            text += `${count}${unit}`;
            expected += count * size;
          });
          if (expected === 0) expect(() => parseDuration(text)).toThrow(ParseError);
          else expect(parseDuration(text)).toBe(expected);
        },
      ),
    );
  });

  it('throws only ParseError on arbitrary strings, and returns only positive safe integers', () => {
    const anyText = fc.oneof(
      fc.string({ unit: 'binary-ascii', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.string({ unit: fc.constantFrom(...'0123456789.ywdhms -+'.split('')), maxLength: 24 }),
      fc.string({ unit: 'grapheme-ascii', minLength: 990, maxLength: 1100 }),
    );
    fc.assert(
      fc.property(anyText, (text) => {
        onlyParseErrors(() => {
          const ms = parseDuration(text);
          expect(Number.isSafeInteger(ms)).toBe(true);
          expect(ms).toBeGreaterThan(0);
        });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatDuration', () => {
  it.each<[number, string]>([
    [0, '0 ms'],
    [250, '250 ms'],
    [S, '1 s'],
    [45 * S, '45 s'],
    [59_999, '59 s'],
    [61 * S, '1 min 1 s'],
    [12 * M, '12 min'],
    [12 * M + 30 * S, '12 min 30 s'],
    [5 * H, '5 h'],
    [5 * H + 30 * S, '5 h'],
    [5 * H + 20 * M, '5 h 20 min'],
    [5 * H + 20 * M + 59 * S, '5 h 20 min'],
    [3 * D + 4 * H, '3 d 4 h'],
    [3 * D + 4 * H + 59 * M, '3 d 4 h'],
    [3 * D + 30 * M, '3 d'],
    [400 * D, '400 d'],
    [-5 * M, '-5 min'],
    [NaN, 'unknown'],
  ])('formats %d ms as %j', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  it('never throws for positive integers, uses at most two adjacent units and rounds down', () => {
    const sizes = new Map<string, number>([
      ['ms', 1],
      ['s', S],
      ['min', M],
      ['h', H],
      ['d', D],
    ]);
    const order = ['d', 'h', 'min', 's', 'ms'];
    const size = (unit: string | undefined): number => sizes.get(unit ?? '') ?? NaN;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (ms) => {
        const text = formatDuration(ms);
        const m = /^(\d+) (ms|s|min|h|d)(?: (\d+) (s|min|h))?$/.exec(text);
        if (m === null) throw new Error(`unexpected format: ${text}`);
        const [, firstCount, firstUnit = '', secondCount, secondUnit] = m;
        const shown =
          Number(firstCount) * size(firstUnit) +
          (secondUnit === undefined ? 0 : Number(secondCount) * size(secondUnit));
        if (secondUnit !== undefined) expect(order.indexOf(secondUnit)).toBe(order.indexOf(firstUnit) + 1);
        expect(shown).toBeLessThanOrEqual(ms);
        // Rounded down: what is left out is less than one of the smallest unit that could have been shown.
        const bound =
          secondUnit !== undefined
            ? size(secondUnit)
            : firstUnit === 's' || firstUnit === 'ms'
              ? size(firstUnit)
              : size(order[order.indexOf(firstUnit) + 1]);
        expect(ms - shown).toBeLessThan(bound);
      }),
      { numRuns: 2000 },
    );
  });
});
