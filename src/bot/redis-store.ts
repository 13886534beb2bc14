// The state store in Redis, shared by every process of the bot: each record under its own key with
// its own expiry, and locks that are renewed while held and released only by their holder.
import type { Redis } from 'ioredis';
import type { SuggestionRecord } from '../apply/types';
import type { Diagnosis } from '../core/types';
import type { GroupThread, WorkloadLine, ReplyRecord, DiagnosedRecord, StateStore } from './store';

/** A lock's life without renewal: how long a crashed holder blocks others. */
const LOCK_TTL_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The lines hash's own counter of positions (workload keys always contain a colon or a slash). */
const SEQUENCE_FIELD = 'seq';

export class RedisStore implements StateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'oomdoctor:',
  ) {}

  private key(name: string): string {
    return `${this.prefix}${name}`;
  }

  private async readJson<T>(name: string): Promise<T | null> {
    const text = await this.redis.get(this.key(name));
    return text ? (JSON.parse(text) as T) : null;
  }

  async claimGroup(groupId: string, create: () => Promise<GroupThread>, ttlMs: number): Promise<GroupThread> {
    return this.withLock(`group:${groupId}`, async () => {
      const existing = await this.readJson<GroupThread>(`group:${groupId}`);
      if (existing) return existing;
      const group = await create();
      await this.redis.set(this.key(`group:${groupId}`), JSON.stringify(group), 'PX', ttlMs);
      return group;
    });
  }

  getGroup(groupId: string): Promise<GroupThread | null> {
    return this.readJson<GroupThread>(`group:${groupId}`);
  }

  async updateGroup(
    groupId: string,
    change: (group: GroupThread) => GroupThread,
    ttlMs: number,
  ): Promise<GroupThread | null> {
    // Under the group's lock: workers on several processes change one incident's record at once.
    return this.withLock(`group:${groupId}`, async () => {
      const existing = await this.readJson<GroupThread>(`group:${groupId}`);
      if (!existing) return null;
      const next = change(existing);
      await this.redis.set(this.key(`group:${groupId}`), JSON.stringify(next), 'PX', ttlMs);
      return next;
    });
  }

  async setWorkloadLine(
    groupId: string,
    key: string,
    line: WorkloadLine,
    ttlMs: number,
    options: { onlyIfAbsent?: boolean } = {},
  ): Promise<WorkloadLine[]> {
    const hash = this.key(`lines:${groupId}`);
    const current = await this.redis.hget(hash, key);
    if (options.onlyIfAbsent && current) return this.getWorkloadLines(groupId);
    // A counter, not the hash's length: two new lines written at once must not share a position.
    const order = current
      ? (JSON.parse(current) as WorkloadLine).order
      : (await this.redis.hincrby(hash, SEQUENCE_FIELD, 1)) - 1;
    await this.redis
      .multi()
      .hset(hash, key, JSON.stringify({ ...line, order }))
      .pexpire(hash, ttlMs)
      .exec();
    return this.getWorkloadLines(groupId);
  }

  async updateWorkloadLine(
    groupId: string,
    key: string,
    change: (current: WorkloadLine | null) => Omit<WorkloadLine, 'order'>,
    ttlMs: number,
    options: { replaces?: string } = {},
  ): Promise<void> {
    const hash = this.key(`lines:${groupId}`);
    const replaces = options.replaces && options.replaces !== key ? options.replaces : null;
    await this.withLock(`lines:${groupId}`, async () => {
      const [currentText, replacedText] = await this.redis.hmget(hash, key, replaces ?? key);
      const current = currentText ? (JSON.parse(currentText) as WorkloadLine) : null;
      const replaced = replaces && replacedText ? (JSON.parse(replacedText) as WorkloadLine) : null;
      const order =
        current?.order ?? replaced?.order ?? (await this.redis.hincrby(hash, SEQUENCE_FIELD, 1)) - 1;
      const write = this.redis.multi().hset(hash, key, JSON.stringify({ ...change(current), order }));
      if (replaced && replaces) write.hdel(hash, replaces);
      await write.pexpire(hash, ttlMs).exec();
    });
  }

  async getWorkloadLines(groupId: string): Promise<WorkloadLine[]> {
    const all = await this.redis.hgetall(this.key(`lines:${groupId}`));
    delete all[SEQUENCE_FIELD];
    return Object.values(all)
      .map((text) => JSON.parse(text) as WorkloadLine)
      .sort((a, b) => a.order - b.order);
  }

  getReply(jobKey: string): Promise<ReplyRecord | null> {
    return this.readJson<ReplyRecord>(`reply:${jobKey}`);
  }

  async setReply(jobKey: string, reply: ReplyRecord, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(`reply:${jobKey}`), JSON.stringify(reply), 'PX', ttlMs);
  }

  async claimDiagnosed(key: string, record: DiagnosedRecord, ttlMs: number): Promise<DiagnosedRecord | null> {
    const won = await this.redis.set(this.key(`diagnosed:${key}`), JSON.stringify(record), 'PX', ttlMs, 'NX');
    if (won === 'OK') return null;
    return (await this.readJson<DiagnosedRecord>(`diagnosed:${key}`)) ?? null;
  }

  async setDiagnosed(key: string, record: DiagnosedRecord, ttlMs: number): Promise<void> {
    // The window slides from the diagnosis, not from later kills: keep the expiry of a live record.
    // A record that is gone gets a fresh one; a plain KEEPTTL would create a key that never expires.
    await this.redis.eval(
      "if redis.call('exists', KEYS[1]) == 1 then return redis.call('set', KEYS[1], ARGV[1], 'KEEPTTL') else return redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) end",
      1,
      this.key(`diagnosed:${key}`),
      JSON.stringify(record),
      String(ttlMs),
    );
  }

  async updateDiagnosed(
    key: string,
    change: (current: DiagnosedRecord) => DiagnosedRecord,
    ttlMs: number,
  ): Promise<DiagnosedRecord | null> {
    return this.withLock(`diagnosed:${key}`, async () => {
      const current = await this.readJson<DiagnosedRecord>(`diagnosed:${key}`);
      if (!current) return null;
      const next = change(current);
      await this.setDiagnosed(key, next, ttlMs);
      return next;
    });
  }

  async releaseDiagnosed(key: string): Promise<void> {
    await this.redis.del(this.key(`diagnosed:${key}`));
  }

  async setDiagnosis(channel: string, ts: string, diagnosis: Diagnosis, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(`diagnosis:${channel}:${ts}`), JSON.stringify(diagnosis), 'PX', ttlMs);
  }

  getDiagnosis(channel: string, ts: string): Promise<Diagnosis | null> {
    return this.readJson<Diagnosis>(`diagnosis:${channel}:${ts}`);
  }

  async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const lockKey = this.key(`lock:${key}`);
    const token = `${process.pid}-${Math.random().toString(36).slice(2)}`;
    for (let attempt = 0; ; attempt++) {
      const won = await this.redis.set(lockKey, token, 'PX', LOCK_TTL_MS, 'NX');
      if (won === 'OK') break;
      if (attempt > 300) throw new Error(`could not take the lock ${key} in time`);
      await sleep(20 + Math.random() * 30);
    }
    // Renewed while the work runs, so a slow step never lets the lock lapse and a second holder in.
    const renew = setInterval(() => {
      void this.redis
        .eval(
          "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
          1,
          lockKey,
          token,
          LOCK_TTL_MS,
        )
        .catch(() => undefined);
    }, LOCK_TTL_MS / 3);
    try {
      return await work();
    } finally {
      clearInterval(renew);
      // Release only our own lock (a compare-and-delete, atomic in Lua).
      await this.redis.eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
        1,
        lockKey,
        token,
      );
    }
  }

  async setSuggestion(id: string, record: SuggestionRecord, ttlMs: number): Promise<void> {
    await this.redis
      .multi()
      .set(this.key(`suggestion:${id}`), JSON.stringify(record), 'PX', ttlMs)
      .set(this.key(`suggestion-of:${record.message.channel}:${record.message.ts}`), id, 'PX', ttlMs)
      .exec();
  }

  getSuggestion(id: string): Promise<SuggestionRecord | null> {
    return this.readJson<SuggestionRecord>(`suggestion:${id}`);
  }

  async getSuggestionForMessage(channel: string, ts: string): Promise<SuggestionRecord | null> {
    const id = await this.redis.get(this.key(`suggestion-of:${channel}:${ts}`));
    return id ? this.getSuggestion(id) : null;
  }

  async updateSuggestion(
    id: string,
    change: (record: SuggestionRecord) => SuggestionRecord | null,
  ): Promise<{ record: SuggestionRecord; changed: boolean } | null> {
    // The lock makes read-change-write one step for every process sharing this Redis.
    return this.withLock(`suggestion:${id}`, async () => {
      const current = await this.readJson<SuggestionRecord>(`suggestion:${id}`);
      if (!current) return null;
      const next = change(JSON.parse(JSON.stringify(current)) as SuggestionRecord);
      if (!next) return { record: current, changed: false };
      await this.redis.set(this.key(`suggestion:${id}`), JSON.stringify(next), 'KEEPTTL');
      return { record: next, changed: true };
    });
  }

  async getIncidentOf(key: string): Promise<string | null> {
    return this.redis.get(this.key(`incident-of:${key}`));
  }

  async setIncidentOf(key: string, incidentId: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(`incident-of:${key}`), incidentId, 'PX', ttlMs);
  }

  async countIncidentOpened(channel: string, windowMs: number): Promise<number> {
    const key = this.key(`opened:${channel}`);
    const now = Date.now();
    const results = await this.redis
      .multi()
      .zremrangebyscore(key, 0, now - windowMs)
      .zadd(key, now, `${now}-${Math.random().toString(36).slice(2)}`)
      .zcard(key)
      .pexpire(key, windowMs)
      .exec();
    return Number(results?.[2]?.[1] ?? 0);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
