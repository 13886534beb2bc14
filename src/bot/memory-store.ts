// The state store in this process's memory: for one process without REDIS_URL (and for tests).
// Records expire as in Redis, and a sweep drops the expired ones nobody reads again.
import type { SuggestionRecord } from '../apply/types';
import type { Diagnosis } from '../core/types';
import type { GroupThread, WorkloadLine, ReplyRecord, DiagnosedRecord, StateStore } from './store';

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
