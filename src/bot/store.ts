// Where the bot remembers its threads between jobs and across processes: Redis when configured
// (redis-store.ts), memory otherwise (memory-store.ts). Small, typed records; every key expires so
// nothing grows without bound.
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
