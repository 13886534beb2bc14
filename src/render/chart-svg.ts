// The memory chart as an SVG document: the working set over the window as a filled area, the limit
// and request as horizontal lines, kills as red markers. Pure and deterministic (same input, same
// string, every number rounded to 0.1); each part of the picture is drawn by a function of its own,
// in the order they are painted.
import { formatBytes, MiB } from '../core/quantity';
import { HOUR_MS, MINUTE_MS, DAY_MS } from '../core/time';
import {
  downsample,
  positive,
  segments,
  type MemoryChartInput,
  type MemoryChartSize,
  type Point,
} from './chart-data';
import { byteGridStep, clock, dateTime, day, timeStep } from './chart-scales';
import { cleanText, fitText, num, textElement, textWidth } from './chart-text';

export const DEFAULT_CHART_WIDTH = 1200;
export const DEFAULT_CHART_HEIGHT = 520;
export const FONT_FAMILY = 'DejaVu Sans';

export const COLOR = {
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

/** Kills are labelled with their time only when there are this many or fewer in the window. */
const MAX_KILL_LABELS = 6;

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Where everything goes, computed once from the input and the size. */
interface Frame {
  width: number;
  height: number;
  /** Scales a length laid out for 1200×520 to this image. */
  px: (value: number) => number;
  margin: number;
  plot: Box;
  fontSize: { title: number; legend: number; tick: number; label: number; killLabel: number };
  /** The window, unix ms, made valid. */
  start: number;
  end: number;
  span: number;
  /** The top of the byte scale. */
  top: number;
  xOf: (at: number) => number;
  yOf: (bytes: number) => number;
  multiDay: boolean;
  withSeconds: boolean;
  /** A white outline behind text drawn over the plot. */
  halo: string;
}

/** A limit or request line's label, placed once every line is drawn. */
interface LineLabel {
  y: number;
  text: string;
  color: string;
  cls: string;
}

function size(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 100 || value > 8000) {
    throw new RangeError(`chart ${what} must be between 100 and 8000 pixels, got ${value}`);
  }
  return Math.round(value);
}

function frameOf(options: MemoryChartSize, start: number, end: number, top: number): Frame {
  const width = size(options.width, DEFAULT_CHART_WIDTH, 'width');
  const height = size(options.height, DEFAULT_CHART_HEIGHT, 'height');
  // Everything is laid out for 1200×520 and scaled, so a smaller image looks the same, only smaller.
  const s = Math.min(width / DEFAULT_CHART_WIDTH, height / DEFAULT_CHART_HEIGHT);
  const px = (value: number): number => value * s;
  const margin = px(24);
  const plot = { left: px(112), right: width - margin, top: px(120), bottom: height - px(52) };
  const plotWidth = plot.right - plot.left;
  const plotHeight = plot.bottom - plot.top;
  const span = end - start;
  return {
    width,
    height,
    px,
    margin,
    plot,
    fontSize: { title: px(28), legend: px(19), tick: px(19), label: px(18), killLabel: px(17) },
    start,
    end,
    span,
    top,
    xOf: (at) => plot.left + ((at - start) / span) * plotWidth,
    yOf: (bytes) => plot.bottom - (Math.min(bytes, top) / top) * plotHeight,
    multiDay: span > 36 * HOUR_MS,
    withSeconds: span < 10 * MINUTE_MS,
    halo: `stroke="${COLOR.background}" stroke-width="${num(px(5))}" stroke-linejoin="round" paint-order="stroke"`,
  };
}

/** The chart as an SVG document. Pure and deterministic; every number rounded to 0.1. */
export function memoryChartSvg(input: MemoryChartInput, options: MemoryChartSize = {}): string {
  const start = Number.isFinite(input.start) ? input.start : 0;
  const end = Number.isFinite(input.end) && input.end > start ? input.end : start + HOUR_MS;
  const limit = positive(input.limitBytes);
  const request = positive(input.requestBytes);
  const runs = segments({ ...input, start, end });
  const pointCount = runs.reduce((sum, run) => sum + run.length, 0);
  const peak = runs.reduce((max, run) => run.reduce((m, [, v]) => Math.max(m, v), max), 0);
  const reference = Math.max(peak, limit ?? 0, request ?? 0);
  const frame = frameOf(options, start, end, (reference > 0 ? reference : MiB) * 1.1);
  const hasScale = pointCount > 0 || limit !== null || request !== null;
  const kills = input.kills
    .filter((kill) => Number.isFinite(kill.at) && kill.at >= start && kill.at <= end)
    .sort((a, b) => a.at - b.at);

  const { width, height } = frame;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="${COLOR.background}"/>`,
  ];
  drawHeader(out, frame, input.title, { limit, request, kills });
  drawGrid(out, frame, hasScale);
  const pixelRuns = drawWorkingSet(out, frame, runs, pointCount);
  out.push(
    `<path d="M${num(frame.plot.left)},${num(frame.plot.bottom)}H${num(frame.plot.right)}" stroke="${COLOR.axis}" stroke-width="${num(frame.px(1.5))}"/>`,
  );
  const lineLabels = drawLimitAndRequest(out, frame, limit, request);
  drawKills(out, frame, kills);
  drawLineLabels(out, frame, lineLabels, pixelRuns);
  drawTimeAxis(out, frame);
  if (pointCount === 0) {
    const { plot, px } = frame;
    out.push(
      textElement(
        (plot.left + plot.right) / 2,
        (plot.top + plot.bottom) / 2,
        'no memory history',
        `class="empty" font-size="${num(px(22))}" fill="${COLOR.muted}" text-anchor="middle" ${frame.halo}`,
      ),
    );
  }
  out.push('</svg>');
  return out.join('\n');
}

/** The title, then the legend on the left and the window on the right. */
function drawHeader(
  out: string[],
  frame: Frame,
  rawTitle: string,
  shown: { limit: number | null; request: number | null; kills: MemoryChartInput['kills'] },
): void {
  const { px, margin, width, fontSize } = frame;
  const title = fitText(cleanText(rawTitle), width - 2 * margin, fontSize.title, true);
  if (title !== '')
    out.push(
      textElement(
        margin,
        px(42),
        title,
        `class="title" font-size="${num(fontSize.title)}" font-weight="bold" fill="${COLOR.title}"`,
      ),
    );

  const windowText = `${dateTime(frame.start, frame.withSeconds)} – ${dateTime(frame.end, frame.withSeconds)} UTC`;
  const legendY = px(80);
  out.push(
    textElement(
      width - margin,
      legendY,
      windowText,
      `font-size="${num(fontSize.legend)}" fill="${COLOR.muted}" text-anchor="end"`,
    ),
  );

  const legend: Array<{ label: string; swatch: (x: number, y: number) => string }> = [
    {
      label: 'working set',
      swatch: (x, y) =>
        `<rect x="${num(x)}" y="${num(y - px(6))}" width="${num(px(28))}" height="${num(px(12))}" fill="${COLOR.workingSet}" fill-opacity="0.18"/>` +
        `<path d="M${num(x)},${num(y - px(6))}H${num(x + px(28))}" stroke="${COLOR.workingSet}" stroke-width="${num(px(3))}"/>`,
    },
  ];
  if (shown.limit !== null) {
    legend.push({
      label: 'limit',
      swatch: (x, y) =>
        `<path d="M${num(x)},${num(y)}H${num(x + px(28))}" stroke="${COLOR.limit}" stroke-width="${num(px(2.5))}" stroke-dasharray="${num(px(8))} ${num(px(5))}"/>`,
    });
  }
  if (shown.request !== null) {
    legend.push({
      label: 'request',
      swatch: (x, y) =>
        `<path d="M${num(x + px(2))},${num(y)}H${num(x + px(28))}" stroke="${COLOR.request}" stroke-width="${num(px(2.5))}" stroke-linecap="round" stroke-dasharray="0 ${num(px(6))}"/>`,
    });
  }
  if (shown.kills.length > 0) {
    const oomOnly = shown.kills.every((kill) => /oom/i.test(kill.reason));
    legend.push({
      label: oomOnly ? 'OOM kill' : 'kill',
      swatch: (x, y) => `<path d="${triangle(x + px(14), y + px(3), px(7))}" fill="${COLOR.kill}"/>`,
    });
  }
  let legendX = margin;
  out.push(`<g class="legend" font-size="${num(fontSize.legend)}" fill="${COLOR.text}">`);
  for (const item of legend) {
    out.push(item.swatch(legendX, legendY - fontSize.legend * 0.35));
    out.push(textElement(legendX + px(36), legendY, item.label, ''));
    legendX += px(36) + textWidth(item.label, fontSize.legend) + px(22);
  }
  out.push('</g>');
}

/** Gridlines and their byte labels. */
function drawGrid(out: string[], frame: Frame, hasScale: boolean): void {
  const { plot, px, fontSize, top } = frame;
  out.push(`<g class="grid" font-size="${num(fontSize.tick)}" fill="${COLOR.muted}" text-anchor="end">`);
  const labelX = plot.left - px(12);
  const gridStep = byteGridStep(top);
  if (hasScale) out.push(textElement(labelX, plot.bottom + fontSize.tick * 0.35, '0', ''));
  for (let i = 1; i * gridStep < top * (1 - 1e-9); i++) {
    const y = frame.yOf(i * gridStep);
    out.push(
      `<path d="M${num(plot.left)},${num(y)}H${num(plot.right)}" stroke="${COLOR.grid}" stroke-width="${num(px(1))}"/>`,
    );
    if (hasScale) out.push(textElement(labelX, y + fontSize.tick * 0.35, formatBytes(i * gridStep), ''));
  }
  out.push('</g>');
}

/** The working set: one filled area and one line per unbroken run. Returns the runs in pixels. */
function drawWorkingSet(out: string[], frame: Frame, runs: Point[][], pointCount: number): Point[][] {
  const { plot, px, xOf, yOf } = frame;
  const column = (at: number): number => Math.floor(xOf(at));
  const thin = pointCount > 2 * (plot.right - plot.left);
  const pixelRuns: Point[][] = [];
  for (const run of runs) {
    const drawn = thin ? downsample(run, column) : run;
    const first = drawn[0];
    const last = drawn[drawn.length - 1];
    if (!first || !last) continue;
    if (drawn.length === 1) {
      pixelRuns.push([[xOf(first[0]), yOf(first[1])]]);
      out.push(
        `<circle class="ws-dot" cx="${num(xOf(first[0]))}" cy="${num(yOf(first[1]))}" r="${num(px(4))}" fill="${COLOR.workingSet}"/>`,
      );
      continue;
    }
    pixelRuns.push(drawn.map(([at, v]) => [xOf(at), yOf(v)]));
    const coords = drawn.map(([at, v]) => `${num(xOf(at))},${num(yOf(v))}`);
    out.push(
      `<path class="ws-area" d="M${num(xOf(first[0]))},${num(plot.bottom)}L${coords.join(' ')} ${num(xOf(last[0]))},${num(plot.bottom)}Z" fill="${COLOR.workingSet}" fill-opacity="0.15"/>`,
    );
    out.push(
      `<path class="ws-line" d="M${coords[0] ?? ''}L${coords.slice(1).join(' ')}" fill="none" stroke="${COLOR.workingSet}" stroke-width="${num(px(3))}" stroke-linejoin="round" stroke-linecap="round"/>`,
    );
  }
  return pixelRuns;
}

/** Request and limit: dotted and dashed lines across the plot. Their labels are placed last. */
function drawLimitAndRequest(
  out: string[],
  frame: Frame,
  limit: number | null,
  request: number | null,
): LineLabel[] {
  const { plot, px } = frame;
  const labels: LineLabel[] = [];
  if (request !== null) {
    const y = frame.yOf(request);
    out.push(
      `<path class="request" d="M${num(plot.left)},${num(y)}H${num(plot.right)}" stroke="${COLOR.request}" stroke-width="${num(px(2.5))}" stroke-linecap="round" stroke-dasharray="0 ${num(px(7))}"/>`,
    );
    labels.push({ y, text: `request ${formatBytes(request)}`, color: COLOR.request, cls: 'request-label' });
  }
  if (limit !== null) {
    const y = frame.yOf(limit);
    out.push(
      `<path class="limit" d="M${num(plot.left)},${num(y)}H${num(plot.right)}" stroke="${COLOR.limit}" stroke-width="${num(px(2.5))}" stroke-dasharray="${num(px(12))} ${num(px(7))}"/>`,
    );
    labels.push({ y, text: `limit ${formatBytes(limit)}`, color: COLOR.limit, cls: 'limit-label' });
  }
  return labels;
}

/** Kills: a red line and a marker at the top, with the time when there are few. */
function drawKills(out: string[], frame: Frame, kills: MemoryChartInput['kills']): void {
  const { plot, px, width, fontSize, multiDay, withSeconds } = frame;
  const killTime = (at: number): string => (multiDay ? dateTime(at, withSeconds) : clock(at, withSeconds));
  let labelRight = -Infinity;
  for (const kill of kills) {
    const x = frame.xOf(kill.at);
    out.push(
      `<g class="kill"><path d="M${num(x)},${num(plot.top)}V${num(plot.bottom)}" stroke="${COLOR.kill}" stroke-width="${num(px(2))}" stroke-opacity="0.8"/>` +
        `<path d="${triangle(x, plot.top - px(1), px(8))}" fill="${COLOR.kill}"/></g>`,
    );
    if (kills.length > MAX_KILL_LABELS) continue;
    const label = killTime(kill.at);
    const half = textWidth(label, fontSize.killLabel) / 2;
    const cx = Math.min(Math.max(x, half + px(2)), width - half - px(2));
    if (cx - half < labelRight + px(6)) continue;
    labelRight = cx + half;
    out.push(
      textElement(
        cx,
        plot.top - px(15),
        label,
        `class="kill-label" font-size="${num(fontSize.killLabel)}" fill="${COLOR.kill}" text-anchor="middle"`,
      ),
    );
  }
}

/**
 * The limit and request labels, with a white halo: at the right end, above or below their line,
 * wherever the working set crosses them least; further left only when the two would overlap.
 */
function drawLineLabels(out: string[], frame: Frame, labels: LineLabel[], pixelRuns: Point[][]): void {
  const { plot, px } = frame;
  const labelSize = frame.fontSize.label;
  const placed: Box[] = [];
  for (const label of [...labels].reverse()) {
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
    out.push(
      textElement(
        best.box.right,
        baseline,
        label.text,
        `class="${label.cls}" font-size="${num(labelSize)}" fill="${label.color}" text-anchor="end" ${frame.halo}`,
      ),
    );
  }
}

/** Time ticks, after the "UTC" note in the label column; labels that would overlap are dropped. */
function drawTimeAxis(out: string[], frame: Frame): void {
  const { plot, px, margin, width, fontSize, start, end } = frame;
  out.push(`<g class="time" font-size="${num(fontSize.tick)}" fill="${COLOR.muted}" text-anchor="middle">`);
  const tickY = plot.bottom + px(29);
  out.push(textElement(margin, tickY, 'UTC', 'text-anchor="start"'));
  const step = timeStep(frame.span);
  const seconds = step < MINUTE_MS;
  let right = margin + textWidth('UTC', fontSize.tick);
  for (let at = Math.ceil(start / step) * step; at <= end; at += step) {
    const x = frame.xOf(at);
    out.push(
      `<path d="M${num(x)},${num(plot.bottom)}v${num(px(6))}" stroke="${COLOR.axis}" stroke-width="${num(px(1.5))}"/>`,
    );
    const label = frame.multiDay ? (step >= DAY_MS ? day(at) : dateTime(at)) : clock(at, seconds);
    const half = textWidth(label, fontSize.tick) / 2;
    const cx = Math.min(x, width - px(4) - half);
    if (cx - half < right + px(10)) continue;
    right = cx + half;
    out.push(textElement(cx, tickY, label, ''));
  }
  out.push('</g>');
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
  return `M${num(x - half)},${num(tipY - half * 1.5)}H${num(x + half)}L${num(x)},${num(tipY)}Z`;
}
