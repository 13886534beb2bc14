// The memory chart posted to Slack: the working set over the window as a filled area, the limit and
// request as horizontal lines, kills as red markers. memoryChartSvg is pure and deterministic (same
// input, same string); renderMemoryChartPng rasterises it with resvg and the DejaVu fonts, named
// explicitly because resvg draws text in a serif face, or not at all, without them.
import fs from 'node:fs';
import path from 'node:path';
import { Resvg, renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';
import { formatBytes, MiB } from '../core/quantity';

export interface MemoryChartInput {
  /** Shown at the top left, e.g. "shop/checkout-7d9f8b6c4-x2x9z · api". Any text: it is escaped. */
  title: string;
  /** [unix ms, bytes], oldest first; may have gaps (restarts). Points outside the window are not drawn. */
  points: Array<[number, number]>;
  limitBytes: number | null;
  requestBytes: number | null;
  kills: Array<{ at: number; reason: string }>;
  /** The window, unix ms. */
  start: number;
  end: number;
  /** Spacing of the points; a gap of more than 2.5 steps breaks the line. */
  stepMs: number;
}

export interface MemoryChartSize {
  width?: number;
  height?: number;
}

export const DEFAULT_CHART_WIDTH = 1200;
export const DEFAULT_CHART_HEIGHT = 520;

export const FONT_DIR = '/usr/share/fonts/truetype/dejavu';
const FONT_REGULAR = 'DejaVuSans.ttf';
const FONT_BOLD = 'DejaVuSans-Bold.ttf';
const FONT_FAMILY = 'DejaVu Sans';

const COLOR = {
  background: '#ffffff',
  title: '#111827',
  text: '#374151',
  muted: '#6b7280',
  grid: '#e5e7eb',
  axis: '#9ca3af',
  workingSet: '#2563eb',
  limit: '#dc2626',
  request: '#6b7280',
  kill: '#dc2626',
} as const;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** Kills are labelled with their time only when there are this many or fewer in the window. */
const MAX_KILL_LABELS = 6;

// ---------------------------------------------------------------------------------------------
// Text

// Characters XML 1.0 forbids (resvg would refuse the whole document), C1 controls and lone surrogates.
const INVALID_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// Bidirectional overrides and isolates, which could make a pod name read as something else.
const BIDI_CONTROLS = /[\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** One line of displayable text: no line breaks, no characters XML forbids, no bidi overrides. */
function cleanText(text: string): string {
  return text
    .replace(/[\t\n\r\u2028\u2029]+/g, ' ')
    .replace(INVALID_XML, '\uFFFD')
    .replace(BIDI_CONTROLS, '');
}

/** Text for an XML element or attribute. */
export function escapeXml(text: string): string {
  return cleanText(text).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** An estimate of a character's advance in DejaVu Sans, in em, on the generous side. */
function charWidth(c: string): number {
  if (/[ijl|!.,:;'`]/.test(c)) return 0.32;
  if (/[ frt\-/()[\]{}"·]/.test(c)) return 0.42;
  if (/[mw]/.test(c)) return 0.98;
  if (/[MW@%]/.test(c)) return 1.02;
  if (/[A-Z]/.test(c)) return 0.78;
  if (c.charCodeAt(0) < 0x80) return 0.66;
  return 1; // accented letters, CJK, symbols: at most a full em
}

/** The estimated width of one line of text (no font metrics in the pure part). */
function textWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const c of text) em += charWidth(c);
  return em * fontSize * (bold ? 1.1 : 1);
}

/**
 * Shortens text with "…" in the middle so its estimated width fits: the end of a title (the pod's
 * hash and the container) tells pods apart as much as the start.
 */
function fitText(text: string, maxWidth: number, fontSize: number, bold = false): string {
  if (textWidth(text, fontSize, bold) <= maxWidth) return text;
  const chars = Array.from(text);
  // No title that fits is longer than a few hundred characters; start there, whatever the input.
  let head = Math.min(Math.ceil(chars.length / 2), 200);
  let tail = Math.min(chars.length - head, 200);
  const candidate = (): string =>
    `${chars.slice(0, head).join('').trimEnd()}…${chars
      .slice(chars.length - tail)
      .join('')
      .trimStart()}`;
  while (head + tail > 0 && textWidth(candidate(), fontSize, bold) > maxWidth) {
    if (head >= tail) head -= 1;
    else tail -= 1;
  }
  return candidate();
}

/** A coordinate rounded to 0.1, without "-0". */
function n(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

// ---------------------------------------------------------------------------------------------
// Scales

/**
 * The spacing of the byte gridlines: a power of two or a 1-2-2.5-5 step of a binary unit, so the
 * labels read "128 MiB", "200 MiB", "1.5 GiB"; 4 or 5 lines below the top when possible.
 */
function byteGridStep(top: number): number {
  const powersOfTwo = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
  const decimal = [5, 10, 20, 25, 50, 100, 200, 250, 500];
  let best = { step: top, score: Infinity };
  for (let unit = 0; unit <= 6; unit++) {
    const size = 1024 ** unit;
    for (const [multipliers, penalty] of [
      [powersOfTwo, 0],
      [decimal, 0.5],
    ] as const) {
      for (const multiplier of multipliers) {
        const step = multiplier * size;
        const lines = Math.floor(top / step + 1e-9);
        const fit = lines >= 4 && lines <= 5 ? 0 : lines === 3 || lines === 6 ? 2 : 10 + Math.abs(lines - 5);
        const score = fit + penalty;
        if (score < best.score) best = { step, score };
      }
    }
  }
  return best.step;
}

const TIME_STEPS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  4 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
];

/** About 6 tick intervals over the span, on round UTC times. */
function timeStep(span: number): number {
  for (const step of TIME_STEPS) if (span / step <= 7) return step;
  return Math.ceil(span / 7 / DAY) * DAY;
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}

function clock(at: number, seconds = false): string {
  const d = new Date(at);
  const hm = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  return seconds ? `${hm}:${pad2(d.getUTCSeconds())}` : hm;
}

function day(at: number): string {
  const d = new Date(at);
  return `${MONTHS[d.getUTCMonth()] ?? ''} ${d.getUTCDate()}`;
}

/** "Nov 27 18:00", or "Nov 27 18:00:30" when the window is short enough for seconds to matter. */
function dateTime(at: number, seconds = false): string {
  return `${day(at)} ${clock(at, seconds)}`;
}

// ---------------------------------------------------------------------------------------------
// Data

type Point = [number, number];

/** The in-window points in time order, split where a gap of more than 2.5 steps breaks the line. */
function segments(input: MemoryChartInput): Point[][] {
  const inWindow: Point[] = [];
  for (const point of input.points) {
    const [at, value] = point;
    if (!Number.isFinite(at) || !Number.isFinite(value) || at < input.start || at > input.end) continue;
    inWindow.push([at, Math.max(0, value)]);
  }
  inWindow.sort((a, b) => a[0] - b[0]);
  const gap = Number.isFinite(input.stepMs) && input.stepMs > 0 ? input.stepMs * 2.5 : Infinity;
  const out: Point[][] = [];
  let current: Point[] = [];
  for (const point of inWindow) {
    const last = current[current.length - 1];
    if (last && point[0] - last[0] > gap) {
      out.push(current);
      current = [];
    }
    current.push(point);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Keeps the lowest and the highest point of each pixel column, in time order, so spikes survive. */
function downsample(points: Point[], column: (at: number) => number): Point[] {
  const out: Point[] = [];
  let col = NaN;
  let low: Point | undefined;
  let high: Point | undefined;
  const flush = (): void => {
    if (!low || !high) return;
    if (low === high) out.push(low);
    else if (low[0] <= high[0]) out.push(low, high);
    else out.push(high, low);
  };
  for (const point of points) {
    const c = column(point[0]);
    if (c !== col) {
      flush();
      col = c;
      low = point;
      high = point;
    } else {
      if (low && point[1] < low[1]) low = point;
      if (high && point[1] > high[1]) high = point;
    }
  }
  flush();
  return out;
}

function positive(value: number | null): number | null {
  return value !== null && Number.isFinite(value) && value > 0 ? value : null;
}

function size(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 100 || value > 8000) {
    throw new RangeError(`chart ${what} must be between 100 and 8000 pixels, got ${value}`);
  }
  return Math.round(value);
}

// ---------------------------------------------------------------------------------------------
// The SVG

/** The chart as an SVG document. Pure and deterministic; every number rounded to 0.1. */
export function memoryChartSvg(input: MemoryChartInput, options: MemoryChartSize = {}): string {
  const width = size(options.width, DEFAULT_CHART_WIDTH, 'width');
  const height = size(options.height, DEFAULT_CHART_HEIGHT, 'height');
  // Everything is laid out for 1200×520 and scaled, so a smaller image looks the same, only smaller.
  const s = Math.min(width / DEFAULT_CHART_WIDTH, height / DEFAULT_CHART_HEIGHT);
  const px = (value: number): number => value * s;

  const start = Number.isFinite(input.start) ? input.start : 0;
  const end = Number.isFinite(input.end) && input.end > start ? input.end : start + HOUR;
  const span = end - start;
  const chart: MemoryChartInput = { ...input, start, end };

  const titleSize = px(28);
  const legendSize = px(19);
  const tickSize = px(19);
  const labelSize = px(18);
  const killLabelSize = px(17);
  const margin = px(24);

  const plot = {
    left: px(112),
    right: width - margin,
    top: px(120),
    bottom: height - px(52),
  };
  const plotWidth = plot.right - plot.left;
  const plotHeight = plot.bottom - plot.top;

  const limit = positive(input.limitBytes);
  const request = positive(input.requestBytes);
  const runs = segments(chart);
  const pointCount = runs.reduce((sum, run) => sum + run.length, 0);
  const peak = runs.reduce((max, run) => run.reduce((m, [, v]) => Math.max(m, v), max), 0);
  const reference = Math.max(peak, limit ?? 0, request ?? 0);
  const top = (reference > 0 ? reference : MiB) * 1.1;
  const hasScale = pointCount > 0 || limit !== null || request !== null;

  const xOf = (at: number): number => plot.left + ((at - start) / span) * plotWidth;
  const yOf = (bytes: number): number => plot.bottom - (Math.min(bytes, top) / top) * plotHeight;
  const multiDay = span > 36 * HOUR;
  const withSeconds = span < 10 * MINUTE;

  const out: string[] = [];
  const text = (x: number, y: number, content: string, attrs: string): void => {
    out.push(`<text x="${n(x)}" y="${n(y)}" ${attrs}>${escapeXml(content)}</text>`);
  };
  const halo = `stroke="${COLOR.background}" stroke-width="${n(px(5))}" stroke-linejoin="round" paint-order="stroke"`;

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}, sans-serif">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="${COLOR.background}"/>`);

  // Title, then the legend on the left and the window on the right.
  const title = fitText(cleanText(input.title), width - 2 * margin, titleSize, true);
  if (title !== '')
    text(
      margin,
      px(42),
      title,
      `class="title" font-size="${n(titleSize)}" font-weight="bold" fill="${COLOR.title}"`,
    );

  const windowText = `${dateTime(start, withSeconds)} – ${dateTime(end, withSeconds)} UTC`;
  const legendY = px(80);
  text(
    width - margin,
    legendY,
    windowText,
    `font-size="${n(legendSize)}" fill="${COLOR.muted}" text-anchor="end"`,
  );

  const kills = input.kills
    .filter((kill) => Number.isFinite(kill.at) && kill.at >= start && kill.at <= end)
    .sort((a, b) => a.at - b.at);
  const legend: Array<{ label: string; swatch: (x: number, y: number) => string }> = [
    {
      label: 'working set',
      swatch: (x, y) =>
        `<rect x="${n(x)}" y="${n(y - px(6))}" width="${n(px(28))}" height="${n(px(12))}" fill="${COLOR.workingSet}" fill-opacity="0.18"/>` +
        `<path d="M${n(x)},${n(y - px(6))}H${n(x + px(28))}" stroke="${COLOR.workingSet}" stroke-width="${n(px(3))}"/>`,
    },
  ];
  if (limit !== null) {
    legend.push({
      label: 'limit',
      swatch: (x, y) =>
        `<path d="M${n(x)},${n(y)}H${n(x + px(28))}" stroke="${COLOR.limit}" stroke-width="${n(px(2.5))}" stroke-dasharray="${n(px(8))} ${n(px(5))}"/>`,
    });
  }
  if (request !== null) {
    legend.push({
      label: 'request',
      swatch: (x, y) =>
        `<path d="M${n(x + px(2))},${n(y)}H${n(x + px(28))}" stroke="${COLOR.request}" stroke-width="${n(px(2.5))}" stroke-linecap="round" stroke-dasharray="0 ${n(px(6))}"/>`,
    });
  }
  if (kills.length > 0) {
    const oomOnly = kills.every((kill) => /oom/i.test(kill.reason));
    legend.push({
      label: oomOnly ? 'OOM kill' : 'kill',
      swatch: (x, y) => `<path d="${triangle(x + px(14), y + px(3), px(7))}" fill="${COLOR.kill}"/>`,
    });
  }
  let legendX = margin;
  out.push(`<g class="legend" font-size="${n(legendSize)}" fill="${COLOR.text}">`);
  for (const item of legend) {
    out.push(item.swatch(legendX, legendY - legendSize * 0.35));
    text(legendX + px(36), legendY, item.label, '');
    legendX += px(36) + textWidth(item.label, legendSize) + px(22);
  }
  out.push('</g>');

  // Gridlines and their labels.
  out.push(`<g class="grid" font-size="${n(tickSize)}" fill="${COLOR.muted}" text-anchor="end">`);
  const labelX = plot.left - px(12);
  const gridStep = byteGridStep(top);
  if (hasScale) text(labelX, plot.bottom + tickSize * 0.35, '0', '');
  for (let i = 1; i * gridStep < top * (1 - 1e-9); i++) {
    const y = yOf(i * gridStep);
    out.push(
      `<path d="M${n(plot.left)},${n(y)}H${n(plot.right)}" stroke="${COLOR.grid}" stroke-width="${n(px(1))}"/>`,
    );
    if (hasScale) text(labelX, y + tickSize * 0.35, formatBytes(i * gridStep), '');
  }
  out.push('</g>');

  // The working set: one filled area and one line per unbroken run.
  const column = (at: number): number => Math.floor(xOf(at));
  const thin = pointCount > 2 * plotWidth;
  const pixelRuns: Point[][] = [];
  for (const run of runs) {
    const drawn = thin ? downsample(run, column) : run;
    const first = drawn[0];
    const last = drawn[drawn.length - 1];
    if (!first || !last) continue;
    if (drawn.length === 1) {
      pixelRuns.push([[xOf(first[0]), yOf(first[1])]]);
      out.push(
        `<circle class="ws-dot" cx="${n(xOf(first[0]))}" cy="${n(yOf(first[1]))}" r="${n(px(4))}" fill="${COLOR.workingSet}"/>`,
      );
      continue;
    }
    pixelRuns.push(drawn.map(([at, v]) => [xOf(at), yOf(v)]));
    const coords = drawn.map(([at, v]) => `${n(xOf(at))},${n(yOf(v))}`);
    out.push(
      `<path class="ws-area" d="M${n(xOf(first[0]))},${n(plot.bottom)}L${coords.join(' ')} ${n(xOf(last[0]))},${n(plot.bottom)}Z" fill="${COLOR.workingSet}" fill-opacity="0.15"/>`,
    );
    out.push(
      `<path class="ws-line" d="M${coords[0] ?? ''}L${coords.slice(1).join(' ')}" fill="none" stroke="${COLOR.workingSet}" stroke-width="${n(px(3))}" stroke-linejoin="round" stroke-linecap="round"/>`,
    );
  }

  // The x axis.
  out.push(
    `<path d="M${n(plot.left)},${n(plot.bottom)}H${n(plot.right)}" stroke="${COLOR.axis}" stroke-width="${n(px(1.5))}"/>`,
  );

  // Request and limit: dotted and dashed lines across the plot, labelled further down.
  const lineLabels: Array<{ y: number; text: string; color: string; cls: string }> = [];
  if (request !== null) {
    const y = yOf(request);
    out.push(
      `<path class="request" d="M${n(plot.left)},${n(y)}H${n(plot.right)}" stroke="${COLOR.request}" stroke-width="${n(px(2.5))}" stroke-linecap="round" stroke-dasharray="0 ${n(px(7))}"/>`,
    );
    lineLabels.push({
      y,
      text: `request ${formatBytes(request)}`,
      color: COLOR.request,
      cls: 'request-label',
    });
  }
  if (limit !== null) {
    const y = yOf(limit);
    out.push(
      `<path class="limit" d="M${n(plot.left)},${n(y)}H${n(plot.right)}" stroke="${COLOR.limit}" stroke-width="${n(px(2.5))}" stroke-dasharray="${n(px(12))} ${n(px(7))}"/>`,
    );
    lineLabels.push({ y, text: `limit ${formatBytes(limit)}`, color: COLOR.limit, cls: 'limit-label' });
  }

  // Kills: a red line and a marker at the top, with the time when there are few.
  const killTime = (at: number): string => (multiDay ? dateTime(at, withSeconds) : clock(at, withSeconds));
  let killLabelRight = -Infinity;
  for (const kill of kills) {
    const x = xOf(kill.at);
    out.push(
      `<g class="kill"><path d="M${n(x)},${n(plot.top)}V${n(plot.bottom)}" stroke="${COLOR.kill}" stroke-width="${n(px(2))}" stroke-opacity="0.8"/>` +
        `<path d="${triangle(x, plot.top - px(1), px(8))}" fill="${COLOR.kill}"/></g>`,
    );
    if (kills.length <= MAX_KILL_LABELS) {
      const label = killTime(kill.at);
      const half = textWidth(label, killLabelSize) / 2;
      const cx = Math.min(Math.max(x, half + px(2)), width - half - px(2));
      if (cx - half < killLabelRight + px(6)) continue;
      killLabelRight = cx + half;
      text(
        cx,
        plot.top - px(15),
        label,
        `class="kill-label" font-size="${n(killLabelSize)}" fill="${COLOR.kill}" text-anchor="middle"`,
      );
    }
  }

  // Line labels last, with a white halo: at the right end, above or below their line, wherever the
  // working set crosses them least; further left only when the two labels would overlap.
  const placed: Box[] = [];
  for (const label of lineLabels.reverse()) {
    const w = textWidth(label.text, labelSize);
    const rights = [plot.right - px(8), ...placed.map((other) => other.left - px(16))];
    let best: { box: Box; score: number } | undefined;
    for (const [i, right] of rights.entries()) {
      for (const [j, baseline] of [label.y - px(7), label.y + labelSize + px(4)].entries()) {
        const box = {
          left: right - w,
          right,
          top: baseline - labelSize * 0.8,
          bottom: baseline + labelSize * 0.2,
        };
        let score = lineOverlap(pixelRuns, box) + j * 3 + i * 100;
        if (box.top < plot.top || box.bottom > plot.bottom || box.left < plot.left) score += 1000;
        if (placed.some((other) => overlaps(box, other))) score += 1000;
        if (!best || score < best.score) best = { box, score };
      }
    }
    if (!best) continue;
    placed.push(best.box);
    const baseline = best.box.bottom - labelSize * 0.2;
    text(
      best.box.right,
      baseline,
      label.text,
      `class="${label.cls}" font-size="${n(labelSize)}" fill="${label.color}" text-anchor="end" ${halo}`,
    );
  }

  // Time ticks, after the "UTC" note in the label column; labels that would overlap are dropped.
  out.push(`<g class="time" font-size="${n(tickSize)}" fill="${COLOR.muted}" text-anchor="middle">`);
  const tickY = plot.bottom + px(29);
  text(margin, tickY, 'UTC', 'text-anchor="start"');
  const step = timeStep(span);
  const seconds = step < MINUTE;
  let right = margin + textWidth('UTC', tickSize);
  for (let at = Math.ceil(start / step) * step; at <= end; at += step) {
    const x = xOf(at);
    out.push(
      `<path d="M${n(x)},${n(plot.bottom)}v${n(px(6))}" stroke="${COLOR.axis}" stroke-width="${n(px(1.5))}"/>`,
    );
    const label = multiDay ? (step >= DAY ? day(at) : dateTime(at)) : clock(at, seconds);
    const half = textWidth(label, tickSize) / 2;
    const cx = Math.min(x, width - px(4) - half);
    if (cx - half < right + px(10)) continue;
    right = cx + half;
    text(cx, tickY, label, '');
  }
  out.push('</g>');

  if (pointCount === 0) {
    text(
      (plot.left + plot.right) / 2,
      (plot.top + plot.bottom) / 2,
      'no memory history',
      `class="empty" font-size="${n(px(22))}" fill="${COLOR.muted}" text-anchor="middle" ${halo}`,
    );
  }

  out.push('</svg>');
  return out.join('\n');
}

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function overlaps(a: Box, b: Box): boolean {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/** How many pixels of the box's height the drawn line (or a lone dot) passes through, within its width. */
function lineOverlap(runs: Point[][], box: Box): number {
  let low = Infinity;
  let high = -Infinity;
  const see = (y: number): void => {
    low = Math.min(low, y);
    high = Math.max(high, y);
  };
  for (const run of runs) {
    const only = run.length === 1 ? run[0] : undefined;
    if (only && only[0] >= box.left && only[0] <= box.right) see(only[1]);
    for (let i = 1; i < run.length; i++) {
      const [x0, y0] = run[i - 1] as Point;
      const [x1, y1] = run[i] as Point;
      if (x1 < box.left || x0 > box.right) continue;
      const at = (x: number): number => (x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0));
      see(at(Math.max(x0, box.left)));
      see(at(Math.min(x1, box.right)));
    }
  }
  return Math.max(0, Math.min(high, box.bottom) - Math.max(low, box.top));
}

/** A downward triangle whose tip is at (x, tipY). */
function triangle(x: number, tipY: number, half: number): string {
  return `M${n(x - half)},${n(tipY - half * 1.5)}H${n(x + half)}L${n(x)},${n(tipY)}Z`;
}

// ---------------------------------------------------------------------------------------------
// The PNG

/** The DejaVu fonts resvg must be given; throws when they are not installed. */
function fontFiles(): string[] {
  const regular = path.join(FONT_DIR, FONT_REGULAR);
  if (!fs.existsSync(regular)) {
    throw new Error(
      `the chart needs the DejaVu Sans font (${regular} is missing): install the fonts: apt-get install -y fonts-dejavu-core`,
    );
  }
  const bold = path.join(FONT_DIR, FONT_BOLD);
  return fs.existsSync(bold) ? [regular, bold] : [regular];
}

function resvgOptions(): ResvgRenderOptions {
  return {
    background: COLOR.background,
    fitTo: { mode: 'original' },
    font: {
      fontFiles: fontFiles(),
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    logLevel: 'off',
  };
}

/** The chart as a PNG, rasterised with resvg on an opaque white background. */
export function renderMemoryChartPng(input: MemoryChartInput, options: MemoryChartSize = {}): Buffer {
  return new Resvg(memoryChartSvg(input, options), resvgOptions()).render().asPng();
}

/**
 * The same, rasterised on libuv's thread pool: about 70 ms of work that would otherwise hold up the
 * event loop, and with it the webhook's acknowledgements, in a process that serves both.
 */
export async function renderMemoryChartPngAsync(
  input: MemoryChartInput,
  options: MemoryChartSize = {},
): Promise<Buffer> {
  // One render at a time: each holds its own font database and pixmap, and a burst of kills would
  // otherwise hold several at once.
  const turn = renderQueue.then(async () =>
    (await renderAsync(memoryChartSvg(input, options), resvgOptions())).asPng(),
  );
  renderQueue = turn.then(
    () => undefined,
    () => undefined,
  );
  return turn;
}

let renderQueue: Promise<void> = Promise.resolve();
