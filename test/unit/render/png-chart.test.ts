// The Slack memory chart: the SVG is deterministic and escaped, shows the limit, kills and gaps; the
// PNG has the requested size and really contains text (resvg draws none without the fonts).
import fs from 'node:fs';
import * as zlib from 'node:zlib';
import { memoryChartSvg, renderMemoryChartPng, type MemoryChartInput } from '../../../src/render/chart';

const MiB = 2 ** 20;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.parse('2026-11-27T12:00:00Z');
const SAMPLE_PATH = '/tmp/oomdoctor-chart-sample.png';

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** Deterministic noise in [0, 1). */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A small fixed input: one hour, a restart gap, one kill. */
function small(): MemoryChartInput {
  const points: Array<[number, number]> = [];
  for (let i = 0; i <= 60; i += 5) {
    if (i === 35 || i === 40) continue; // the container was down
    points.push([START + i * MINUTE, (200 + (i % 35) * 8) * MiB]);
  }
  return {
    title: 'shop/checkout-7d9f8b6c4-x2x9z · api',
    points,
    limitBytes: 512 * MiB,
    requestBytes: 256 * MiB,
    kills: [{ at: START + 32 * MINUTE, reason: 'OOMKilled' }],
    start: START,
    end: START + HOUR,
    stepMs: 5 * MINUTE,
  };
}

/** A leak over 24 hours: the working set climbs to the limit, is killed, restarts, three times. */
function leak(): MemoryChartInput {
  const random = rng(42);
  const step = MINUTE;
  const limit = 512 * MiB;
  const points: Array<[number, number]> = [];
  const kills: Array<{ at: number; reason: string }> = [];
  let base = START;
  let value = 170 * MiB;
  for (let at = START; at <= START + 24 * HOUR; at += step) {
    if (at < base) continue;
    value += (0.55 + random() * 0.2) * MiB + (random() - 0.5) * 6 * MiB;
    if (random() < 0.01) value += 12 * MiB * random();
    if (value >= limit) {
      kills.push({ at, reason: 'OOMKilled' });
      base = at + 4 * step; // back-off before the restart
      value = (160 + random() * 20) * MiB;
      continue;
    }
    points.push([at, Math.round(value)]);
  }
  return {
    title: 'shop/checkout-7d9f8b6c4-x2x9z · api',
    points,
    limitBytes: limit,
    requestBytes: 256 * MiB,
    kills,
    start: START,
    end: START + 24 * HOUR,
    stepMs: step,
  };
}

/** Decodes an 8-bit RGBA, non-interlaced PNG (what resvg writes) to its pixels. */
function decodePng(png: Buffer): { width: number; height: number; pixels: Buffer } {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  expect([png[24], png[25], png[28]]).toEqual([8, 6, 0]);
  const idat: Buffer[] = [];
  for (let offset = 8; offset < png.length;) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    if (type === 'IDAT') idat.push(png.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const byte = raw[y * (stride + 1) + 1 + x] ?? 0;
      const a = x >= 4 ? (pixels[y * stride + x - 4] ?? 0) : 0;
      const b = y > 0 ? (pixels[(y - 1) * stride + x] ?? 0) : 0;
      const c = x >= 4 && y > 0 ? (pixels[(y - 1) * stride + x - 4] ?? 0) : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = Math.floor((a + b) / 2);
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = (byte + predictor) & 0xff;
    }
  }
  return { width, height, pixels };
}

/** Pixels darker than `below` (the sum of R, G and B) in a rectangle. */
function darkPixels(
  image: { width: number; pixels: Buffer },
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  below = 300,
): number {
  let dark = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * image.width + x) * 4;
      const sum = (image.pixels[i] ?? 255) + (image.pixels[i + 1] ?? 255) + (image.pixels[i + 2] ?? 255);
      if (sum < below) dark += 1;
    }
  }
  return dark;
}

describe('memoryChartSvg', () => {
  it('is deterministic', () => {
    const svg = memoryChartSvg(small());
    expect(memoryChartSvg(small())).toBe(svg);
    expect(svg).toMatchSnapshot();
  });

  it('keeps numbers to one decimal', () => {
    const svg = memoryChartSvg(small(), { width: 777, height: 333 });
    expect(svg.replace(/opacity="[\d.]+"/g, '')).not.toMatch(/\d\.\d\d/);
  });

  it('labels the limit and the request with their sizes', () => {
    const svg = memoryChartSvg(small());
    expect(svg).toContain('>limit 512 MiB</text>');
    expect(svg).toContain('>request 256 MiB</text>');
    expect(memoryChartSvg({ ...small(), limitBytes: 1.5 * 1024 * MiB })).toContain('>limit 1.5 GiB</text>');
  });

  it('leaves out the limit and the request when they are not set', () => {
    const svg = memoryChartSvg({ ...small(), limitBytes: null, requestBytes: null });
    expect(svg).not.toContain('limit');
    expect(svg).not.toContain('request');
  });

  it('escapes a hostile title', async () => {
    const svg = memoryChartSvg({ ...small(), title: 'x<script>alert("&")</script>\'\u0000\u202e' });
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('x&lt;script&gt;alert(&quot;&amp;&quot;)&lt;/script&gt;&apos;\uFFFD</text>');
    expect(svg).not.toContain('\u0000');
    expect(svg).not.toContain('\u202e');
    expect(
      (await renderMemoryChartPng({ ...small(), title: '<script>&"\u0000\uD800' })).readUInt32BE(16),
    ).toBe(1200); // still valid XML
  });

  it('shortens a very long title', () => {
    const svg = memoryChartSvg({ ...small(), title: `${'a'.repeat(100_000)}-7d9f8b6c4-x2x9z · api` });
    expect(svg).toMatch(/>a+…a+-7d9f8b6c4-x2x9z · api<\/text>/);
    expect(svg).not.toContain('a'.repeat(100));
  });

  it('draws one marker per kill in the window and labels few kills with their time', () => {
    const kills = [0, 3, 7, 11].map((h) => ({ at: START + h * HOUR + 14 * MINUTE, reason: 'OOMKilled' }));
    const outside = { at: START - HOUR, reason: 'OOMKilled' };
    const svg = memoryChartSvg({ ...leak(), kills: [...kills, outside] });
    expect(count(svg, '<g class="kill">')).toBe(4);
    expect(count(svg, 'class="kill-label"')).toBe(4);
    expect(svg).toContain('>15:14</text>');
    expect(svg).toContain('>OOM kill</text>');

    const many = Array.from({ length: 9 }, (_, i) => ({ at: START + i * 2 * HOUR, reason: 'OOMKilled' }));
    const crowded = memoryChartSvg({ ...leak(), kills: many });
    expect(count(crowded, '<g class="kill">')).toBe(9);
    expect(count(crowded, 'class="kill-label"')).toBe(0);
  });

  it('breaks the line at a gap of more than 2.5 steps', () => {
    const svg = memoryChartSvg(small());
    expect(count(svg, 'class="ws-line"')).toBe(2);
    expect(count(svg, 'class="ws-area"')).toBe(2);
    const steady = memoryChartSvg({ ...small(), stepMs: 15 * MINUTE });
    expect(count(steady, 'class="ws-line"')).toBe(1);
  });

  it('draws the axes and a note when there are no points', () => {
    const svg = memoryChartSvg({ ...small(), points: [], kills: [] });
    expect(svg).toContain('>no memory history</text>');
    expect(svg).toContain('>UTC</text>');
    expect(svg).toContain('>limit 512 MiB</text>');
    expect(svg).not.toContain('ws-line');
    const bare = memoryChartSvg({ ...small(), points: [], kills: [], limitBytes: null, requestBytes: null });
    expect(bare).toContain('>no memory history</text>');
    expect(bare).not.toContain('MiB');
  });

  it('draws a single point as a dot', () => {
    const svg = memoryChartSvg({ ...small(), points: [[START + 10 * MINUTE, 300 * MiB]] });
    expect(count(svg, 'class="ws-dot"')).toBe(1);
    expect(svg).not.toContain('ws-line');
  });

  it('copes with all-zero values', () => {
    const points: Array<[number, number]> = [0, 1, 2, 3].map((i) => [START + i * MINUTE, 0]);
    const svg = memoryChartSvg({ ...small(), points, limitBytes: null, requestBytes: null, stepMs: MINUTE });
    expect(svg).not.toContain('NaN');
    expect(svg).not.toContain('Infinity');
    expect(count(svg, 'class="ws-line"')).toBe(1);
  });

  it('scales the y axis to the peak when the working set is above the limit, with round gridlines', () => {
    const points: Array<[number, number]> = [
      [START, 100 * MiB],
      [START + 5 * MINUTE, 2000 * MiB],
    ];
    const svg = memoryChartSvg({ ...small(), points });
    expect(svg).toContain('>512 MiB</text>');
    expect(svg).toContain('>2 GiB</text>');
    expect(svg).not.toContain('NaN');
  });

  it('leaves out points outside the window', () => {
    const input = small();
    const svg = memoryChartSvg({
      ...input,
      points: [[START - HOUR, 900 * MiB], ...input.points, [START + 2 * HOUR, 900 * MiB]],
    });
    expect(svg).toBe(memoryChartSvg(input));
  });

  it('shows dates on the time axis of a 7-day window', () => {
    const points: Array<[number, number]> = [];
    for (let at = START - 6 * 24 * HOUR; at <= START + 24 * HOUR; at += 5 * MINUTE)
      points.push([at, 300 * MiB]);
    const svg = memoryChartSvg({
      ...small(),
      points,
      kills: [],
      start: START - 6 * 24 * HOUR,
      end: START + 24 * HOUR,
      stepMs: 5 * MINUTE,
    });
    expect(svg).toContain('>Nov 25</text>');
    expect(svg).toContain('>Nov 21 12:00 – Nov 28 12:00 UTC</text>');
  });

  it('keeps spikes when thinning 10 000 points', () => {
    const points: Array<[number, number]> = [];
    for (let i = 0; i < 10_000; i++) points.push([START + i * 10_000, (i === 5_000 ? 480 : 200) * MiB]);
    const input: MemoryChartInput = {
      ...small(),
      points,
      kills: [],
      start: START,
      end: START + 100_000_000,
      stepMs: 10_000,
    };
    const svg = memoryChartSvg(input);
    const line = /class="ws-line" d="([^"]*)"/.exec(svg)?.[1] ?? '';
    const ys = line
      .replace(/[ML]/g, ' ')
      .trim()
      .split(/\s+/)
      .map((pair) => Number(pair.split(',')[1]));
    expect(ys.length).toBeLessThan(2_500);
    const spikeY = Math.min(...ys);
    expect(spikeY).toBeLessThan(Math.max(...ys) - 100); // the 480 MiB spike is still drawn
  });
});

describe('renderMemoryChartPng', () => {
  it('writes a PNG of the requested size', async () => {
    const png = await renderMemoryChartPng(small(), { width: 640, height: 300 });
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(640);
    expect(png.readUInt32BE(20)).toBe(300);
    const defaults = await renderMemoryChartPng(small());
    expect([defaults.readUInt32BE(16), defaults.readUInt32BE(20)]).toEqual([1200, 520]);
  });

  it('draws an opaque background', async () => {
    const image = decodePng(
      await renderMemoryChartPng({ ...small(), points: [] }, { width: 300, height: 130 }),
    );
    for (let i = 3; i < image.pixels.length; i += 4)
      if (image.pixels[i] !== 255) throw new Error(`pixel ${i} is transparent`);
  });

  it('really draws text', async () => {
    const withTitle = decodePng(await renderMemoryChartPng(small()));
    const without = decodePng(await renderMemoryChartPng({ ...small(), title: '' }));
    expect(darkPixels(without, 0, 0, 600, 50)).toBe(0);
    expect(darkPixels(withTitle, 0, 0, 600, 50)).toBeGreaterThan(500);
    // The grey gridline labels left of the plot are text too.
    expect(darkPixels(withTitle, 0, 100, 95, 480, 500)).toBeGreaterThan(200);
  });

  it('renders 10 000 points', async () => {
    const points: Array<[number, number]> = [];
    const random = rng(7);
    for (let i = 0; i < 10_000; i++) points.push([START + i * 60_000, (200 + random() * 250) * MiB]);
    const png = await renderMemoryChartPng({
      ...small(),
      points,
      kills: [],
      start: START,
      end: START + 10_000 * 60_000,
      stepMs: 60_000,
    });
    expect(png.readUInt32BE(16)).toBe(1200);
  });

  it('says how to install the fonts when they are missing', async () => {
    const spy = jest.spyOn(fs, 'existsSync').mockReturnValue(false);
    try {
      await expect(renderMemoryChartPng(small())).rejects.toThrow(
        'install the fonts: apt-get install -y fonts-dejavu-core',
      );
    } finally {
      spy.mockRestore();
    }
  });

  it('writes a sample of a leak over 24 hours', async () => {
    const input = leak();
    expect(input.kills).toHaveLength(3);
    const png = await renderMemoryChartPng(input);
    fs.writeFileSync(SAMPLE_PATH, png);
    fs.writeFileSync(
      SAMPLE_PATH.replace('.png', '-small.png'),
      await renderMemoryChartPng(input, { width: 600, height: 260 }),
    );
    expect(png.readUInt32BE(16)).toBe(1200);
  });
});
