// The look-back window of one diagnosis, the same for the CLI's --window and the bot's DIAGNOSIS_WINDOW.
import { DAY_MS } from '../core/time';

export const DEFAULT_DIAGNOSIS_WINDOW_MS = DAY_MS;

/** Prometheus rarely keeps more, and a chart of a longer span says little. */
export const MAX_DIAGNOSIS_WINDOW_MS = 31 * DAY_MS;

/** The one line for a window over the maximum, `what` naming where it was set ("window 40d", "DIAGNOSIS_WINDOW 40d"). */
export function windowTooLong(what: string): string {
  return `${what} is longer than 31d; Prometheus rarely keeps more, and the chart would say little`;
}
