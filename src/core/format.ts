// Small wording helpers shared by the classifier, the recommender and the renderers.
import { HOUR_MS } from './time';

/** "2026-11-28 11:02 UTC": the one time format in evidence lines; Slack rewrites it into the reader's zone. */
export function formatTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export const EVIDENCE_TIME_PATTERN = /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) UTC/g;

export function percent(part: number, whole: number): string {
  return `${Math.round((part / whole) * 100)}%`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Rounds a confidence to two decimals and keeps it inside [0,1]. */
export function clampConfidence(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.round(Math.min(1, Math.max(0, value)) * 100) / 100;
}

/** A look-back window as people say it: "24 h", "6 h", "7 d". */
export function formatWindow(ms: number): string {
  const hours = ms / HOUR_MS;
  if (hours <= 48 && Number.isInteger(hours)) return `${hours} h`;
  const days = hours / 24;
  if (Number.isInteger(days)) return `${days} d`;
  return `${Math.round(hours)} h`;
}
