// Slack's Web API rate limits, and the budget that keeps every process of the bot inside them.
//
// Figures: Slack's "Rate limits" page (docs.slack.dev/apis/web-api/rate-limits) and each method's
// page. Limits apply per method, per workspace, per app: Tier 2 about 20 a minute, Tier 3 about 50,
// Tier 4 about 100, with short bursts tolerated; chat.postMessage about 1 a second per channel.
// Over a limit Slack answers HTTP 429 with Retry-After (seconds), for that method only.
//
// The budget is a generic cell rate algorithm (GCRA): per bucket one "theoretical arrival time".
// A call may go when TAT - now <= (burst - 1) * interval, and then moves TAT on by one interval.
// With burst B and interval T no 60 s window ever holds more than B - 1 + 60 / T calls, so the
// pair is chosen to stay under the documented per-minute figure whatever the timing.

import { MINUTE_MS } from '../core/time';

export type SlackTier = 2 | 3 | 4;

/** How urgent a write is; lower waits behind higher and keeps some headroom free for them. */
export type WritePriority = 'interactive' | 'reply' | 'background' | 'cosmetic';

export const PRIORITY_ORDER: Record<WritePriority, number> = {
  interactive: 0,
  reply: 1,
  background: 2,
  cosmetic: 3,
};

export interface MethodLimit {
  /** The budget is per channel (chat.postMessage) or per workspace (everything else). */
  scope: 'channel' | 'workspace';
  /** Time between calls once the burst is spent. */
  intervalMs: number;
  /** Calls that may go at once after a quiet spell. */
  burst: number;
}

function tier(perMinute: number): MethodLimit {
  const burst = Math.max(1, Math.floor(perMinute / 5));
  // burst - 1 + 60 s / interval <= perMinute, with a little slack for clock and network jitter.
  const intervalMs = Math.ceil(MINUTE_MS / (perMinute - burst + 1)) + 50;
  return { scope: 'workspace', intervalMs, burst };
}

const TIERS: Record<SlackTier, MethodLimit> = { 2: tier(20), 3: tier(50), 4: tier(100) };

const METHOD_TIERS: Record<string, SlackTier> = {
  'chat.update': 3,
  'chat.delete': 3,
  'conversations.join': 3,
  'conversations.info': 3,
  'conversations.history': 3,
  'conversations.replies': 3,
  'usergroups.users.list': 2,
  'chat.postEphemeral': 4,
  'chat.getPermalink': 4,
  'views.open': 4,
  'views.update': 4,
  'files.getUploadURLExternal': 4,
  'files.completeUploadExternal': 4,
  'users.info': 4,
  // auth.test is "special" and generous; Tier 4 is well inside it.
  'auth.test': 4,
};

/** chat.postMessage: about one a second per channel (Slack allows short bursts; we do not rely on them). */
const POST_MESSAGE: MethodLimit = { scope: 'channel', intervalMs: 1_050, burst: 1 };

export function limitOf(method: string): MethodLimit {
  if (method === 'chat.postMessage') return POST_MESSAGE;
  return TIERS[METHOD_TIERS[method] ?? 3];
}

/** The budget bucket a call draws from: the method, and the channel where the limit is per channel. */
export function bucketOf(method: string, channel: string | null): string {
  return limitOf(method).scope === 'channel' && channel ? `${method}:${channel}` : method;
}

/**
 * Burst tokens a priority may use. Lower priorities leave some for higher ones, so a storm of
 * parent re-renders can never take the last chat.update an Apply confirmation needs.
 */
export function usableBurst(limit: MethodLimit, priority: WritePriority): number {
  const reserve = Math.ceil(limit.burst / 5);
  switch (priority) {
    case 'interactive':
      return limit.burst;
    case 'reply':
      return Math.max(1, limit.burst - Math.ceil(reserve / 2));
    case 'background':
    case 'cosmetic':
      return Math.max(1, limit.burst - reserve);
  }
}

/** One GCRA step, pure: given the bucket's TAT, may a call go now, and what is the new TAT? */
export function gcraStep(
  tat: number,
  now: number,
  intervalMs: number,
  usable: number,
): { allowed: true; tat: number } | { allowed: false; waitMs: number } {
  const base = Math.max(tat, now);
  const earliest = base - (usable - 1) * intervalMs;
  if (earliest <= now) return { allowed: true, tat: base + intervalMs };
  return { allowed: false, waitMs: Math.ceil(earliest - now) };
}
