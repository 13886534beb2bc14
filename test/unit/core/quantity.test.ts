import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors';
import { onlyParseErrors, parseErrorOf } from './parse-assertions';
import {
  formatBytes,
  GiB,
  KiB,
  MiB,
  parseQuantity,
  roundUpReadable,
  toQuantity,
} from '../../../src/core/quantity';

const anyText = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom(...'0123456789.eE+-mkKMGTPEi '.split('')), maxLength: 24 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 990, maxLength: 1100 }),
);

describe('parseQuantity', () => {
  it.each<[string, number]>([
    ['0', 0],
    ['1', 1],
    ['1073741824', 1073741824],
    ['64Mi', 64 * MiB],
    ['512Mi', 512 * MiB],
    ['4096Mi', 4 * GiB],
    ['1Gi', GiB],
    ['1.5Gi', 1.5 * GiB],
    ['0.5Gi', 512 * MiB],
    ['.5Gi', 512 * MiB],
    ['5.Gi', 5 * GiB],
    ['830Ki', 830 * KiB],
    ['1Ti', 1024 * GiB],
    ['1Pi', 1024 ** 5],
    ['8Ei', 2 ** 63],
    ['1k', 1000],
    ['256M', 256e6],
    ['2G', 2e9],
    ['1.1G', 1_100_000_000],
    ['1.5G', 1_500_000_000],
    ['3T', 3e12],
    ['1P', 1e15],
    ['1E', 1e18],
    ['100m', 0.1],
    ['1500m', 1.5],
    ['129e6', 129e6],
    ['129E6', 129e6],
    ['1E3', 1000],
    ['1e+3', 1000],
    ['1e-3', 0.001],
    ['1.5e3', 1500],
    ['1e0000000003', 1000],
    ['1e-400', 0],
    ['  512Mi\t', 512 * MiB],
    ['007Mi', 7 * MiB],
  ])('reads %j as %d', (text, expected) => {
    expect(parseQuantity(text)).toBe(expected);
  });

  it('names the field in errors', () => {
    const err = parseErrorOf(() => parseQuantity('lots', '--limit'));
    expect(err.field).toBe('--limit');
    expect(err.message).toBe(
      '--limit "lots" is not valid: use a number with a unit such as 512Mi, 2Gi or 1.5G',
    );
    expect(parseErrorOf(() => parseQuantity('lots')).field).toBe('memory quantity');
  });

  it.each<[string, string]>([
    [
      '12Gb',
      'memory quantity "12Gb" is not valid: use a number with a unit such as 512Mi, 2Gi or 1.5G (here: 12Gi or 12G, units are case-sensitive)',
    ],
    ['512MB', '(here: 512Mi or 512M, units are case-sensitive)'],
    ['1K', '(here: 1Ki or 1k, units are case-sensitive)'],
    ['2gi', '(here: 2Gi or 2G, units are case-sensitive)'],
    ['4g', '(here: 4Gi or 4G, units are case-sensitive)'],
    ['512 Mi', '(here: 512Mi, without the space)'],
    ['1024B', '(here: 1024, a plain number of bytes)'],
    ['-1Gi', 'memory quantity "-1Gi" is negative: use zero or more, such as 512Mi, 2Gi or 1.5G'],
    ['9Ei', 'memory quantity "9Ei" is too large: use at most 8Ei (2^63)'],
    ['1e400', 'memory quantity "1e400" is too large: use at most 8Ei (2^63)'],
    ['1e99999999999999999999', 'is too large'],
    ['10000000000E', 'is too large'],
    ['', 'memory quantity is empty: use a number with a unit such as 512Mi, 2Gi or 1.5G'],
    [' \t ', 'memory quantity is empty'],
    ['1'.repeat(65), 'memory quantity is too long (65 characters, at most 64)'],
    ['512\u0000Mi', 'memory quantity "512\\u{0}Mi" contains U+0000, which is not a plain ASCII character'],
    ['512\u041ci', 'memory quantity "512\\u{41c}i" contains U+041C, which is not a plain ASCII character'],
    ['\uff15\uff11\uff12Mi', 'contains U+FF15'],
    ['512\u00a0Mi', 'contains U+00A0'],
  ])('rejects %j with a clear message', (text, message) => {
    expect(parseErrorOf(() => parseQuantity(text)).message).toContain(message);
  });

  it.each([
    'NaN',
    'Infinity',
    '-Infinity',
    '+1Gi',
    '1e',
    'e3',
    'Gi',
    '.',
    '..5',
    '1..5',
    '1.5.5',
    '1,5Gi',
    '0x10',
    '1 000Mi',
    '1Gi2',
    '1GiGi',
    '1mi',
    '1 Gi',
    '1Kb',
    '1e3Mi',
    '1e3.5',
    '1Gi\u0000',
    '__proto__',
    'constructor',
    'toString',
    '$(rm -rf /)',
    '5\u200bMi',
    '\u{1f4a5}',
    '\ud800',
  ])('rejects %j', (text) => {
    expect(() => parseQuantity(text)).toThrow(ParseError);
  });

  it('rejects a million characters quickly', () => {
    const started = Date.now();
    for (const text of ['9'.repeat(1_000_000), `${'1'.repeat(1_000_000)}x`, ' '.repeat(1_000_000)]) {
      expect(() => parseQuantity(text)).toThrow(ParseError);
    }
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('rejects anything non-string as missing', () => {
    expect(parseErrorOf(() => parseQuantity(undefined as unknown as string)).message).toBe(
      'memory quantity is missing: use a number with a unit such as 512Mi, 2Gi or 1.5G',
    );
  });

  it('throws only ParseError on arbitrary strings, and returns only finite non-negative numbers up to 2^63', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        onlyParseErrors(() => {
          const value = parseQuantity(text);
          expect(Number.isFinite(value)).toBe(true);
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(2 ** 63);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('reads every whole number with every suffix exactly', () => {
    const suffixes: Array<[string, number]> = [
      ['', 1],
      ['k', 1e3],
      ['M', 1e6],
      ['G', 1e9],
      ['Ki', KiB],
      ['Mi', MiB],
      ['Gi', GiB],
      ['Ti', 1024 ** 4],
    ];
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.constantFrom(...suffixes), (n, [suffix, factor]) => {
        expect(parseQuantity(`${n}${suffix}`)).toBe(n * factor);
      }),
    );
  });
});

describe('formatBytes', () => {
  it.each<[number, string]>([
    [0, '0 B'],
    [12, '12 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [830 * KiB, '830 KiB'],
    [1.5 * KiB, '1.5 KiB'],
    [512 * MiB, '512 MiB'],
    [100.4 * MiB, '100 MiB'],
    [12.34 * MiB, '12.3 MiB'],
    [1023.9 * MiB, '1 GiB'],
    [1.94 * GiB, '1.94 GiB'],
    [2083059139, '1.94 GiB'],
    [1.5 * GiB, '1.5 GiB'],
    [2 * GiB, '2 GiB'],
    [9.999 * GiB, '10 GiB'],
    [1024 * GiB, '1 TiB'],
    [2 ** 63, '8 EiB'],
    [-512 * MiB, '-512 MiB'],
    [NaN, 'unknown'],
  ])('formats %d as %j', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });

  it('always gives at most 3 significant digits (4 for 1000-1023) and a binary unit', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 2 ** 63, noNaN: true }), (bytes) => {
        const text = formatBytes(bytes);
        expect(text).toMatch(/^\d+(\.\d+)? (B|KiB|MiB|GiB|TiB|PiB|EiB)$/);
        const digits = (text.split(' ')[0] ?? '').replace('.', '').replace(/^0+/, '');
        const number = Number(text.split(' ')[0]);
        expect(digits.length).toBeLessThanOrEqual(number >= 1000 ? 4 : 3);
        expect(number).toBeLessThan(1024);
      }),
    );
  });
});

describe('toQuantity', () => {
  it.each<[number, string]>([
    [0, '0Gi'],
    [1, '1Mi'],
    [GiB, '1Gi'],
    [2 * GiB, '2Gi'],
    [64 * GiB, '64Gi'],
    [1.5 * GiB, '1536Mi'],
    [1.5 * GiB + 1, '1537Mi'],
    [100 * MiB, '100Mi'],
    [100 * MiB - 1, '100Mi'],
    [2 ** 63, '8589934592Gi'],
  ])('writes %d as %j', (bytes, expected) => {
    expect(toQuantity(bytes)).toBe(expected);
  });

  it.each([-1, NaN, Infinity, 2 ** 64])('refuses %d', (bytes) => {
    expect(() => toQuantity(bytes)).toThrow(RangeError);
  });

  it('round-trips: never below the input, less than 1 MiB above, whole Gi or Mi without decimals', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.double({ min: 0, max: 2 ** 63, noNaN: true })),
        (bytes) => {
          const quantity = toQuantity(bytes);
          expect(quantity).toMatch(/^\d+(Gi|Mi)$/);
          const back = parseQuantity(quantity);
          expect(back).toBeGreaterThanOrEqual(bytes);
          expect(back - bytes).toBeLessThanOrEqual(MiB);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('roundUpReadable', () => {
  it.each<[number, string]>([
    [0, '0Gi'],
    [1, '64Mi'],
    [64 * MiB, '64Mi'],
    [65 * MiB, '128Mi'],
    [1000 * MiB, '1Gi'],
    [GiB - 1, '1Gi'],
    [GiB, '1Gi'],
    [GiB + 1, '1280Mi'],
    [2.3 * GiB, '2560Mi'],
    [2.9 * GiB, '3Gi'],
    [7.9 * GiB, '8Gi'],
    [8 * GiB, '8Gi'],
    [8 * GiB + 1, '9Gi'],
    [31.5 * GiB, '32Gi'],
    [33 * GiB, '36Gi'],
    [100 * GiB, '100Gi'],
  ])('rounds %d up to %s', (bytes, expected) => {
    expect(toQuantity(roundUpReadable(bytes))).toBe(expected);
  });

  it.each([-1, NaN, Infinity])('refuses %d', (bytes) => {
    expect(() => roundUpReadable(bytes)).toThrow(RangeError);
  });

  it('never rounds down, is idempotent, and moves by less than one step', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.nat({ max: 64 * GiB }), fc.double({ min: 0, max: 2 ** 62, noNaN: true })),
        (bytes) => {
          const rounded = roundUpReadable(bytes);
          expect(rounded).toBeGreaterThanOrEqual(bytes);
          expect(roundUpReadable(rounded)).toBe(rounded);
          const step =
            bytes < GiB ? 64 * MiB : bytes < 8 * GiB ? 256 * MiB : bytes < 32 * GiB ? GiB : 4 * GiB;
          expect(rounded - bytes).toBeLessThanOrEqual(step);
          expect(rounded % (64 * MiB)).toBe(0);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
