// Where the bot remembers its threads between jobs and across processes: Redis when configured,
// memory otherwise. Small, typed records; every key expires so nothing grows without bound.
import type { Redis } from 'ioredis';
import type { SuggestionRecord } from '../apply/types';
import type { Diagnosis } from '../core/types';

export interface GroupThread {
  channel: string;
  /** The parent message; '' until it is posted. */
  ts: string;
  title:
    | { kind: 'alert'; alertName: string; clusterName: string }
    | { kind: 'command'; userId: string; text: string };
  status: 'firing' | 'resolved';
  undiagnosable: Array<{ label: string; why: string }>;
  notOomCount: number;
  /** An incident's scope: one namespace, or a storm that folds many (absent for /oom requests). */
  scope?: { kind: 'namespace'; namespace: string } | { kind: 'storm' };
  /** Alerts Alertmanager left out of its deliveries (max_alerts), at most as it last said. */
  truncatedAlerts?: number;
  /** Ids of the incident's alerts still firing: it is resolved when none is left. */
  firing?: string[];
}

export interface WorkloadLine {
  /** The namespace the line is about (a storm's summary counts them). */
  namespace?: string;
  label: string;
  status: string;
  link?: string;
  /** Later kills of the workload after the one diagnosed, shown after its status. */
  repeat?: { kills: number; within: string };
  order: number;
}

export interface ReplyRecord {
  channel: string;
  ts: string;
  /** The thread the reply lives in. */
  threadTs: string;
}

export interface DiagnosedRecord {
  channel: string;
  ts: string;
  threadTs: string;
  link: string | null;
  firstAt: number;
  kills: number;
  label: string;
  /** The reply key of the job that claimed it, so that job's retry knows the claim is its own. */
  claimedBy?: string;
}

export interface StateStore {
  /** Creates the record if absent; returns the one that won (this one or an earlier). */
  claimGroup(groupId: string, create: () => Promise<GroupThread>, ttlMs: number): Promise<GroupThread>;
  getGroup(groupId: string): Promise<GroupThread | null>;
  updateGroup(
    groupId: string,
    change: (group: GroupThread) => GroupThread,
    ttlMs: number,
  ): Promise<GroupThread | null>;
  /** Sets a line of a parent message; with `onlyIfAbsent`, leaves an existing line as it is. */
  setWorkloadLine(
    groupId: string,
    key: string,
    line: WorkloadLine,
    ttlMs: number,
    options?: { onlyIfAbsent?: boolean },
  ): Promise<WorkloadLine[]>;
  /**
   * Replaces a line with `change(current)`, one change at a time per parent (across processes).
   * With `replaces`, that line (a pod's, before its workload was known) gives way to this one and
   * lends it its position when this one is new.
   */
  updateWorkloadLine(
    groupId: string,
    key: string,
    change: (current: WorkloadLine | null) => Omit<WorkloadLine, 'order'>,
    ttlMs: number,
    options?: { replaces?: string },
  ): Promise<void>;
  getWorkloadLines(groupId: string): Promise<WorkloadLine[]>;
  getReply(jobKey: string): Promise<ReplyRecord | null>;
  setReply(jobKey: string, reply: ReplyRecord, ttlMs: number): Promise<void>;
  /** Claims a workload key for one diagnosis within the window; null when this caller won. */
  claimDiagnosed(key: string, record: DiagnosedRecord, ttlMs: number): Promise<DiagnosedRecord | null>;
  /** Updates the record and keeps its expiry; a record that is gone (expired, released) gets `ttlMs`. */
  setDiagnosed(key: string, record: DiagnosedRecord, ttlMs: number): Promise<void>;
  /**
   * Replaces the record with `change(current)` atomically (concurrent kills of one workload all
   * count), keeping its expiry; null when there is no record.
   */
  updateDiagnosed(
    key: string,
    change: (current: DiagnosedRecord) => DiagnosedRecord,
    ttlMs: number,
  ): Promise<DiagnosedRecord | null>;
  releaseDiagnosed(key: string): Promise<void>;
  /** The diagnosis behind a posted reply, so it can be re-rendered (a kill count, a later button). */
  setDiagnosis(channel: string, ts: string, diagnosis: Diagnosis, ttlMs: number): Promise<void>;
  getDiagnosis(channel: string, ts: string): Promise<Diagnosis | null>;
  /** Runs `work` while holding a short lock on `key`, so read-render-update sequences do not interleave. */
  withLock<T>(key: string, work: () => Promise<T>): Promise<T>;
  /** The suggestion behind an Apply button, under its random id; also found by the diagnosis message it belongs to. */
  setSuggestion(id: string, record: SuggestionRecord, ttlMs: number): Promise<void>;
  getSuggestion(id: string): Promise<SuggestionRecord | null>;
  /** The suggestion stored last for a diagnosis message, or null. */
  getSuggestionForMessage(channel: string, ts: string): Promise<SuggestionRecord | null>;
  /**
   * Replaces a suggestion with `change(current)` atomically (one change at a time per id, across
   * processes), keeping its expiry; `change` returns null to leave it as it is. Null when unknown.
   */
  updateSuggestion(
    id: string,
    change: (record: SuggestionRecord) => SuggestionRecord | null,
  ): Promise<{ record: SuggestionRecord; changed: boolean } | null>;
  /** The incident open for a key (cluster, namespace, channel), if any. */
  getIncidentOf(key: string): Promise<string | null>;
  /** Points a key at an incident for `ttlMs` (the incident window, extended by each alert). */
  setIncidentOf(key: string, incidentId: string, ttlMs: number): Promise<void>;
  /** Notes one incident opened in `channel` and says how many were opened there within `windowMs`. */
  countIncidentOpened(channel: string, windowMs: number): Promise<number>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** A lock's life without renewal: how long a crashed holder blocks others. */
const LOCK_TTL_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class MemoryStore implements StateStore {
  private readonly values = new Map<string, { value: unknown; expiresAt: number }>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private writes = 0;

  private read<T>(key: string): T | null {
    const entry = this.values.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      this.values.delete(key);
      return null;
    }
    return structuredClone(entry.value) as T;
  }

  private write(key: string, value: unknown, ttlMs: number): void {
    this.values.set(key, { value: structuredClone(value), expiresAt: Date.now() + ttlMs });
    // Expired records are dropped when read; sweep now and then, so those never read again go too.
    if (++this.writes % 500 === 0) this.sweep();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.values) if (entry.expiresAt <= now) this.values.delete(key);
  }

  /** How many records are held, expired ones included until swept. */
  get size(): number {
    return this.values.size;
  }

  private ttlOf(key: string): number {
    return Math.max(1, (this.values.get(key)?.expiresAt ?? Date.now()) - Date.now());
  }

  async claimGroup(groupId: string, create: () => Promise<GroupThread>, ttlMs: number): Promise<GroupThread> {
    return this.withLock(`group:${groupId}`, async () => {
      const existing = this.read<GroupThread>(`group:${groupId}`);
      if (existing) return existing;
      const group = await create();
      this.write(`group:${groupId}`, group, ttlMs);
      return group;
    });
  }

  async getGroup(groupId: string): Promise<GroupThread | null> {
    return this.read<GroupThread>(`group:${groupId}`);
  }

  async updateGroup(
    groupId: string,
    change: (group: GroupThread) => GroupThread,
    ttlMs: number,
  ): Promise<GroupThread | null> {
    const existing = this.read<GroupThread>(`group:${groupId}`);
    if (!existing) return null;
    const next = change(existing);
    this.write(`group:${groupId}`, next, ttlMs);
    return next;
  }

  async setWorkloadLine(
    groupId: string,
    key: string,
    line: WorkloadLine,
    ttlMs: number,
    options: { onlyIfAbsent?: boolean } = {},
  ): Promise<WorkloadLine[]> {
    const lines = this.read<Record<string, WorkloadLine>>(`lines:${groupId}`) ?? {};
    if (options.onlyIfAbsent && lines[key]) return Object.values(lines).sort((a, b) => a.order - b.order);
    const order = lines[key]?.order ?? this.nextLineOrder(lines);
    lines[key] = { ...line, order };
    this.write(`lines:${groupId}`, lines, ttlMs);
    return Object.values(lines).sort((a, b) => a.order - b.order);
  }

  async updateWorkloadLine(
    groupId: string,
    key: string,
    change: (current: WorkloadLine | null) => Omit<WorkloadLine, 'order'>,
    ttlMs: number,
    options: { replaces?: string } = {},
  ): Promise<void> {
    const lines = this.read<Record<string, WorkloadLine>>(`lines:${groupId}`) ?? {};
    const current = lines[key] ?? null;
    const replaced = options.replaces && options.replaces !== key ? lines[options.replaces] : undefined;
    const order = current?.order ?? replaced?.order ?? this.nextLineOrder(lines);
    if (replaced && options.replaces) delete lines[options.replaces];
    lines[key] = { ...change(current), order };
    this.write(`lines:${groupId}`, lines, ttlMs);
  }

  private nextLineOrder(lines: Record<string, WorkloadLine>): number {
    return Object.values(lines).reduce((max, l) => Math.max(max, l.order + 1), 0);
  }

  async getWorkloadLines(groupId: string): Promise<WorkloadLine[]> {
    return Object.values(this.read<Record<string, WorkloadLine>>(`lines:${groupId}`) ?? {}).sort(
      (a, b) => a.order - b.order,
    );
  }

  async getReply(jobKey: string): Promise<ReplyRecord | null> {
    return this.read<ReplyRecord>(`reply:${jobKey}`);
  }

  async setReply(jobKey: string, reply: ReplyRecord, ttlMs: number): Promise<void> {
    this.write(`reply:${jobKey}`, reply, ttlMs);
  }

  async claimDiagnosed(key: string, record: DiagnosedRecord, ttlMs: number): Promise<DiagnosedRecord | null> {
    const existing = this.read<DiagnosedRecord>(`diagnosed:${key}`);
    if (existing) return existing;
    this.write(`diagnosed:${key}`, record, ttlMs);
    return null;
  }

  async setDiagnosed(key: string, record: DiagnosedRecord, ttlMs: number): Promise<void> {
    // Keeps the expiry: the window slides from the diagnosis, not from later kills.
    const live = this.read<DiagnosedRecord>(`diagnosed:${key}`) !== null;
    this.write(`diagnosed:${key}`, record, live ? this.ttlOf(`diagnosed:${key}`) : ttlMs);
  }

  async updateDiagnosed(
    key: string,
    change: (current: DiagnosedRecord) => DiagnosedRecord,
    ttlMs: number,
  ): Promise<DiagnosedRecord | null> {
    const current = this.read<DiagnosedRecord>(`diagnosed:${key}`);
    if (!current) return null;
    const next = change(current);
    await this.setDiagnosed(key, next, ttlMs);
    return next;
  }

  async releaseDiagnosed(key: string): Promise<void> {
    this.values.delete(`diagnosed:${key}`);
  }

  async setDiagnosis(channel: string, ts: string, diagnosis: Diagnosis, ttlMs: number): Promise<void> {
    this.write(`diagnosis:${channel}:${ts}`, diagnosis, ttlMs);
  }

  async getDiagnosis(channel: string, ts: string): Promise<Diagnosis | null> {
    return this.read<Diagnosis>(`diagnosis:${channel}:${ts}`);
  }

  async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }

  async setSuggestion(id: string, record: SuggestionRecord, ttlMs: number): Promise<void> {
    this.write(`suggestion:${id}`, record, ttlMs);
    this.write(`suggestion-of:${record.message.channel}:${record.message.ts}`, id, ttlMs);
  }

  async getSuggestion(id: string): Promise<SuggestionRecord | null> {
    return this.read<SuggestionRecord>(`suggestion:${id}`);
  }

  async getSuggestionForMessage(channel: string, ts: string): Promise<SuggestionRecord | null> {
    const id = this.read<string>(`suggestion-of:${channel}:${ts}`);
    return id ? this.read<SuggestionRecord>(`suggestion:${id}`) : null;
  }

  async updateSuggestion(
    id: string,
    change: (record: SuggestionRecord) => SuggestionRecord | null,
  ): Promise<{ record: SuggestionRecord; changed: boolean } | null> {
    // No await between the read and the write: atomic in one process.
    const current = this.read<SuggestionRecord>(`suggestion:${id}`);
    if (!current) return null;
    const next = change(structuredClone(current));
    if (!next) return { record: current, changed: false };
    this.write(`suggestion:${id}`, next, this.ttlOf(`suggestion:${id}`));
    return { record: structuredClone(next), changed: true };
  }

  async getIncidentOf(key: string): Promise<string | null> {
    return this.read<string>(`incident-of:${key}`);
  }

  async setIncidentOf(key: string, incidentId: string, ttlMs: number): Promise<void> {
    this.write(`incident-of:${key}`, incidentId, ttlMs);
  }

  async countIncidentOpened(channel: string, windowMs: number): Promise<number> {
    const now = Date.now();
    const recent = (this.read<number[]>(`opened:${channel}`) ?? []).filter((at) => at > now - windowMs);
    recent.push(now);
    this.write(`opened:${channel}`, recent, windowMs);
    return recent.length;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.values.clear();
  }
}

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
