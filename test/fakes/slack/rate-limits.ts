// Slack's Web API rate limits, as the fake enforces them: always on; a test may compress time (`speed`),
// never turn them off.
//
// Source: https://docs.slack.dev/apis/web-api/rate-limits (and each method's page under
// https://docs.slack.dev/reference/methods/). Limits apply "per API method per workspace per app": here,
// per method and token (one token is one app in one workspace). Tiers are "N+ per minute" with bursts
// tolerated; the fake takes N as a hard cap over any sliding 60 s window, the strictest reading.
// - Tier 2: 20/min. Tier 3: 50/min. Tier 4: 100/min.
// - chat.postMessage ("special"): "generally allows posting one message per second per channel, while also
//   maintaining a workspace-wide limit", "short bursts >1 allowed". Modelled as a token bucket per channel:
//   1 per second, bursts of up to POST_BURST; plus a workspace-wide cap (Slack publishes no number: the
//   fake uses POST_WORKSPACE_PER_MINUTE, well above one busy channel's 60/min).
// - conversations.history/replies: Tier 3 for internal (customer-built) apps such as this one; since
//   2025-05-29 commercially distributed non-Marketplace apps get 1/min there instead, which is not modelled.
// - auth.test, chat.getPermalink ("special", no figure published) and apps.connections.open are not limited.
//
// Over a limit: HTTP 429, `{ok:false, error:'ratelimited'}`, `Retry-After` = whole seconds until the
// limit admits the call again (rounded up, at least 1). Refused calls do not use up the budget.
//
// With `speed: k` every window is k times shorter and every rate k times higher. Retry-After stays in
// whole seconds (the real wire format), so under speed it overstates the wait: at speed 10 a postMessage
// refused for 100 ms still says `Retry-After: 1`. A client that honours it is never early, only slower.

export const TIER_2_PER_MINUTE = 20;
export const TIER_3_PER_MINUTE = 50;
export const TIER_4_PER_MINUTE = 100;
/** chat.postMessage: sustained posts per second per channel. */
export const POST_PER_SECOND_PER_CHANNEL = 1;
/** chat.postMessage: how many posts a quiet channel takes at once ("short bursts >1 allowed"; a chosen figure). */
export const POST_BURST = 3;
/** chat.postMessage across all channels (Slack has a workspace-wide limit but publishes no number; a chosen figure). */
export const POST_WORKSPACE_PER_MINUTE = 600;

const MINUTE_MS = 60_000;

export type MethodLimit =
  { kind: 'per-minute'; perMinute: number } | { kind: 'post-message' } | { kind: 'unlimited' };

const tier = (perMinute: number): MethodLimit => ({ kind: 'per-minute', perMinute });

/** Each method's limit; a method not listed here is not limited. */
export const METHOD_LIMITS: Readonly<Record<string, MethodLimit>> = {
  'chat.postMessage': { kind: 'post-message' },
  'chat.update': tier(TIER_3_PER_MINUTE),
  'chat.delete': tier(TIER_3_PER_MINUTE),
  'conversations.join': tier(TIER_3_PER_MINUTE),
  'conversations.info': tier(TIER_3_PER_MINUTE),
  'conversations.history': tier(TIER_3_PER_MINUTE),
  'conversations.replies': tier(TIER_3_PER_MINUTE),
  'usergroups.users.list': tier(TIER_2_PER_MINUTE),
  'chat.postEphemeral': tier(TIER_4_PER_MINUTE),
  'views.open': tier(TIER_4_PER_MINUTE),
  'views.update': tier(TIER_4_PER_MINUTE),
  'files.getUploadURLExternal': tier(TIER_4_PER_MINUTE),
  'files.completeUploadExternal': tier(TIER_4_PER_MINUTE),
  'users.info': tier(TIER_4_PER_MINUTE),
  'auth.test': { kind: 'unlimited' },
  'chat.getPermalink': { kind: 'unlimited' },
  'apps.connections.open': { kind: 'unlimited' },
};

/** At most `limit` admitted calls in any `windowMs`: the times of the admitted ones, oldest first. */
class SlidingWindow {
  private readonly admitted: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Milliseconds until a call would be admitted; 0 when it would be now. */
  waitMs(now: number): number {
    while (this.admitted.length > 0 && this.admitted[0]! <= now - this.windowMs) this.admitted.shift();
    if (this.admitted.length < this.limit) return 0;
    return this.admitted[this.admitted.length - this.limit]! + this.windowMs - now;
  }

  admit(now: number): void {
    this.admitted.push(now);
  }
}

/** `ratePerMs` sustained, `capacity` at once. */
class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity: number,
    private readonly ratePerMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  waitMs(now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.ratePerMs);
    this.updatedAt = now;
    return this.tokens >= 1 ? 0 : (1 - this.tokens) / this.ratePerMs;
  }

  admit(): void {
    this.tokens -= 1;
  }
}

/** Retry-After as Slack sends it: whole seconds, rounded up, at least 1. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

export class SlackRateLimits {
  private readonly windows = new Map<string, SlidingWindow>();
  private readonly buckets = new Map<string, TokenBucket>();

  /** speed: how many times faster than real time the limits run (1 = Slack's own figures). */
  constructor(private readonly speed: number) {
    if (!Number.isFinite(speed) || speed <= 0) {
      throw new Error(`FakeSlackApi: speed must be a positive number, got ${speed}`);
    }
  }

  /**
   * Admits the call (it then counts against the budget) and answers undefined, or refuses it and answers
   * the Retry-After in seconds. `channel` is the channel id, for chat.postMessage.
   */
  take(token: string, method: string, channel: string | undefined, now: number): number | undefined {
    const limit = METHOD_LIMITS[method] ?? { kind: 'unlimited' };
    if (limit.kind === 'unlimited') return undefined;
    if (limit.kind === 'per-minute') {
      const window = this.window(`${token} ${method}`, limit.perMinute);
      const wait = window.waitMs(now);
      if (wait > 0) return retryAfterSeconds(wait);
      window.admit(now);
      return undefined;
    }
    // chat.postMessage: the channel's bucket and the workspace-wide window must both have room.
    const workspace = this.window(`${token} ${method}`, POST_WORKSPACE_PER_MINUTE);
    const bucketKey = `${token} ${method} ${channel ?? ''}`;
    let bucket = this.buckets.get(bucketKey);
    if (!bucket) {
      bucket = new TokenBucket(POST_BURST, (POST_PER_SECOND_PER_CHANNEL * this.speed) / 1000, now);
      this.buckets.set(bucketKey, bucket);
    }
    const wait = Math.max(bucket.waitMs(now), workspace.waitMs(now));
    if (wait > 0) return retryAfterSeconds(wait);
    bucket.admit();
    workspace.admit(now);
    return undefined;
  }

  private window(key: string, perMinute: number): SlidingWindow {
    let window = this.windows.get(key);
    if (!window) {
      window = new SlidingWindow(perMinute, MINUTE_MS / this.speed);
      this.windows.set(key, window);
    }
    return window;
  }
}
