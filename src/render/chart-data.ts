// What the chart is drawn from, and the working set made ready for drawing: the points in the
// window, split at gaps, and thinned to what a pixel column can show.

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

/** [unix ms, bytes], or [x, y] in pixels once placed. */
export type Point = [number, number];

/** The in-window points in time order, split where a gap of more than 2.5 steps breaks the line. */
export function segments(input: MemoryChartInput): Point[][] {
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
export function downsample(points: Point[], column: (at: number) => number): Point[] {
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

/** A limit or request worth drawing: a finite, positive number of bytes. */
export function positive(value: number | null): number | null {
  return value !== null && Number.isFinite(value) && value > 0 ? value : null;
}
