// What the Slack outbox shares between the bot's processes: the rate budgets, the version of each
// message delivered last, the throttle of each message, and the record of each keyed post (so a
// retried job finds what it posted before). Redis when configured, memory otherwise.
import type { Redis } from 'ioredis';
import { DAY_MS, WEEK_MS } from '../core/time';
import { gcraStep } from './slack-limits';

/** A post the outbox made or is making under a key: the ts once Slack has answered. */
export interface PostRecord {
  channel: string;
  threadTs: string | null;
  /** When the first attempt began (ms), to bound the history a lookup reads. */
  since: number;
  ts: string | null;
}

/** A file upload under a key: the file id once Slack issued it, `done` once it is in the thread. */
export interface UploadRecord {
  fileId: string | null;
  done: boolean;
}

export interface OutboxState {
  /** Reserves one call from a bucket: 0 when reserved, else how long to wait before asking again. */
  reserve(bucket: string, intervalMs: number, usable: number): Promise<number>;
  /** After a 429: no call draws from the bucket for `ms`. */
  block(bucket: string, ms: number): Promise<void>;
  /** A number larger than any handed out before for this message. */
  nextVersion(message: string): Promise<number>;
  /** False when a newer version than `version` is already on Slack (so this one must not be sent). */
  isCurrent(message: string, version: number): Promise<boolean>;
  /** Records `version` as the one Slack shows, unless a newer one is recorded. */
  markDelivered(message: string, version: number): Promise<void>;
  /** A short lock on one message, held only for the HTTP call that edits it: a token, or null when taken. */
  tryLock(message: string, ms: number): Promise<string | null>;
  unlock(message: string, token: string): Promise<void>;
  /** 0 when the caller may send now (and the next may in `ms`), else the time left to wait. */
  throttle(message: string, ms: number): Promise<number>;
  getPost(key: string): Promise<PostRecord | null>;
  setPost(key: string, record: PostRecord): Promise<void>;
  getUpload(key: string): Promise<UploadRecord | null>;
  setUpload(key: string, record: UploadRecord): Promise<void>;
}

/** How long the records live: longer than any retry of a job, shorter than forever. */
const RECORD_TTL_MS = WEEK_MS;
const VERSION_TTL_MS = DAY_MS;

export class MemoryOutboxState implements OutboxState {
  private readonly tats = new Map<string, number>();
  private readonly blocked = new Map<string, number>();
  private readonly versions = new Map<string, number>();
  private readonly delivered = new Map<string, number>();
  private readonly throttles = new Map<string, number>();
  private readonly posts = new Map<string, PostRecord>();
  private readonly uploads = new Map<string, UploadRecord>();
  private readonly locks = new Map<string, { token: string; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async reserve(bucket: string, intervalMs: number, usable: number): Promise<number> {
    const now = this.now();
    const blockedUntil = this.blocked.get(bucket) ?? 0;
    if (blockedUntil > now) return blockedUntil - now;
    const step = gcraStep(this.tats.get(bucket) ?? 0, now, intervalMs, usable);
    if (!step.allowed) return step.waitMs;
    this.tats.set(bucket, step.tat);
    return 0;
  }

  async block(bucket: string, ms: number): Promise<void> {
    const until = this.now() + ms;
    this.blocked.set(bucket, Math.max(this.blocked.get(bucket) ?? 0, until));
  }

  async nextVersion(message: string): Promise<number> {
    const next = (this.versions.get(message) ?? 0) + 1;
    this.versions.set(message, next);
    return next;
  }

  async isCurrent(message: string, version: number): Promise<boolean> {
    return (this.delivered.get(message) ?? 0) < version;
  }

  async markDelivered(message: string, version: number): Promise<void> {
    this.delivered.set(message, Math.max(this.delivered.get(message) ?? 0, version));
  }

  async tryLock(message: string, ms: number): Promise<string | null> {
    const now = this.now();
    const held = this.locks.get(message);
    if (held && held.until > now) return null;
    const token = `${now}-${Math.random().toString(36).slice(2)}`;
    this.locks.set(message, { token, until: now + ms });
    return token;
  }

  async unlock(message: string, token: string): Promise<void> {
    if (this.locks.get(message)?.token === token) this.locks.delete(message);
  }

  async throttle(message: string, ms: number): Promise<number> {
    const now = this.now();
    const until = this.throttles.get(message) ?? 0;
    if (until > now) return until - now;
    this.throttles.set(message, now + ms);
    return 0;
  }

  async getPost(key: string): Promise<PostRecord | null> {
    return this.posts.get(key) ?? null;
  }

  async setPost(key: string, record: PostRecord): Promise<void> {
    this.posts.set(key, { ...record });
  }

  async getUpload(key: string): Promise<UploadRecord | null> {
    return this.uploads.get(key) ?? null;
  }

  async setUpload(key: string, record: UploadRecord): Promise<void> {
    this.uploads.set(key, { ...record });
  }
}

// Redis's own clock (TIME) decides, so processes on machines with skewed clocks share one budget.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then return blocked - now end
local interval = tonumber(ARGV[1])
local usable = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local base = math.max(tat, now)
local earliest = base - (usable - 1) * interval
if earliest <= now then
  redis.call('SET', KEYS[1], base + interval, 'PX', math.ceil(base + interval - now) + 60000)
  return 0
end
return math.ceil(earliest - now)
`;

const BLOCK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > current then redis.call('SET', KEYS[1], until_, 'PX', tonumber(ARGV[1]) + 1000) end
return 0
`;

const MARK_DELIVERED = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local version = tonumber(ARGV[1])
if version > current then redis.call('SET', KEYS[1], version, 'PX', tonumber(ARGV[2])) end
return 0
`;

const UNLOCK =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

const THROTTLE = `
local ok = redis.call('SET', KEYS[1], '1', 'PX', tonumber(ARGV[1]), 'NX')
if ok then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then return 0 end
return left
`;

export class RedisOutboxState implements OutboxState {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'oomdoctor:outbox:',
  ) {}

  private key(name: string): string {
    return `${this.prefix}${name}`;
  }

  async reserve(bucket: string, intervalMs: number, usable: number): Promise<number> {
    const wait = await this.redis.eval(
      RESERVE,
      2,
      this.key(`tat:${bucket}`),
      this.key(`blocked:${bucket}`),
      intervalMs,
      usable,
    );
    return Number(wait);
  }

  async block(bucket: string, ms: number): Promise<void> {
    await this.redis.eval(BLOCK, 1, this.key(`blocked:${bucket}`), Math.max(1, Math.ceil(ms)));
  }

  async nextVersion(message: string): Promise<number> {
    const key = this.key(`version:${message}`);
    const [[, version]] = (await this.redis.multi().incr(key).pexpire(key, VERSION_TTL_MS).exec()) as [
      [Error | null, number],
    ];
    return Number(version);
  }

  async isCurrent(message: string, version: number): Promise<boolean> {
    return Number((await this.redis.get(this.key(`delivered:${message}`))) ?? 0) < version;
  }

  async markDelivered(message: string, version: number): Promise<void> {
    await this.redis.eval(MARK_DELIVERED, 1, this.key(`delivered:${message}`), version, VERSION_TTL_MS);
  }

  async tryLock(message: string, ms: number): Promise<string | null> {
    const token = `${process.pid}-${Math.random().toString(36).slice(2)}`;
    const won = await this.redis.set(this.key(`lock:${message}`), token, 'PX', ms, 'NX');
    return won === 'OK' ? token : null;
  }

  async unlock(message: string, token: string): Promise<void> {
    await this.redis.eval(UNLOCK, 1, this.key(`lock:${message}`), token);
  }

  async throttle(message: string, ms: number): Promise<number> {
    return Number(await this.redis.eval(THROTTLE, 1, this.key(`throttle:${message}`), Math.max(1, ms)));
  }

  async getPost(key: string): Promise<PostRecord | null> {
    const text = await this.redis.get(this.key(`post:${key}`));
    return text ? (JSON.parse(text) as PostRecord) : null;
  }

  async setPost(key: string, record: PostRecord): Promise<void> {
    await this.redis.set(this.key(`post:${key}`), JSON.stringify(record), 'PX', RECORD_TTL_MS);
  }

  async getUpload(key: string): Promise<UploadRecord | null> {
    const text = await this.redis.get(this.key(`upload:${key}`));
    return text ? (JSON.parse(text) as UploadRecord) : null;
  }

  async setUpload(key: string, record: UploadRecord): Promise<void> {
    await this.redis.set(this.key(`upload:${key}`), JSON.stringify(record), 'PX', RECORD_TTL_MS);
  }
}
