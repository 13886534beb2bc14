// The chart's axes: where the byte gridlines go, how far apart the time ticks are, and how times
// are written (UTC throughout).
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from '../core/time';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/**
 * The spacing of the byte gridlines: a power of two or a 1-2-2.5-5 step of a binary unit, so the
 * labels read "128 MiB", "200 MiB", "1.5 GiB"; 4 or 5 lines below the top when possible.
 */
export function byteGridStep(top: number): number {
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
  SECOND_MS,
  2 * SECOND_MS,
  5 * SECOND_MS,
  10 * SECOND_MS,
  15 * SECOND_MS,
  30 * SECOND_MS,
  MINUTE_MS,
  2 * MINUTE_MS,
  5 * MINUTE_MS,
  10 * MINUTE_MS,
  15 * MINUTE_MS,
  30 * MINUTE_MS,
  HOUR_MS,
  2 * HOUR_MS,
  3 * HOUR_MS,
  4 * HOUR_MS,
  6 * HOUR_MS,
  12 * HOUR_MS,
  DAY_MS,
  2 * DAY_MS,
  7 * DAY_MS,
  14 * DAY_MS,
];

/** About 6 tick intervals over the span, on round UTC times. */
export function timeStep(span: number): number {
  for (const step of TIME_STEPS) if (span / step <= 7) return step;
  return Math.ceil(span / 7 / DAY_MS) * DAY_MS;
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}

/** "18:00", or "18:00:30" with seconds. */
export function clock(at: number, seconds = false): string {
  const d = new Date(at);
  const hm = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  return seconds ? `${hm}:${pad2(d.getUTCSeconds())}` : hm;
}

/** "Nov 27". */
export function day(at: number): string {
  const d = new Date(at);
  return `${MONTHS[d.getUTCMonth()] ?? ''} ${d.getUTCDate()}`;
}

/** "Nov 27 18:00", or "Nov 27 18:00:30" when the window is short enough for seconds to matter. */
export function dateTime(at: number, seconds = false): string {
  return `${day(at)} ${clock(at, seconds)}`;
}
