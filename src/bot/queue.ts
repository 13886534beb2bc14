// The job queue: bull on Redis (durable, shared by web and worker processes), or an in-process queue
// for trying the bot out. Jobs are keyed, so a re-delivered alert is not a second diagnosis.
import { OomdoctorError, type OomdoctorErrorOptions } from '../core/errors';
import { QUEUE_TIMING_DEFAULTS } from '../config/queue-timings';
import { DAY_MS } from '../core/time';
import Bull from 'bull';
import type { BotJob } from './jobs';
import { jobsTotal, type QueueBacklog } from './metrics';

export interface JobMeta {
  id: string;
  /** 1 on the first try. */
  attempt: number;
  maxAttempts: number;
}

export type JobHandler = (job: BotJob, meta: JobMeta) => Promise<void>;

/**
 * A job the queue failed for good without the handler having seen the failure (bull gave up on a
 * job that stalled more than `maxStalledCount` times): nobody was told yet. `job` is the stored
 * data, not validated. The listener says so to the user, and logs and counts its own failures.
 */
export type FailedOutsideHandler = (job: unknown, meta: JobMeta, reason: string) => Promise<void>;

export interface AddOptions {
  /** Runs the job no earlier than this from now; no worker slot is taken meanwhile. */
  delayMs?: number;
}

export interface JobQueue {
  /** True when queued jobs outlive this process (Redis): a delayed job then resumes after a restart. */
  readonly durable: boolean;
  /** Resolves once the job is durably stored; 'duplicate' when a job with that id is already known. */
  add(job: BotJob, id: string, options?: AddOptions): Promise<'added' | 'duplicate'>;
  process(concurrency: number, handler: JobHandler): void;
  /** Where a job that failed outside the handler goes (see FailedOutsideHandler); one listener. */
  onFailedOutsideHandler(listener: FailedOutsideHandler): void;
  ready(): Promise<boolean>;
  /** How many jobs wait and for how long the oldest has: /metrics reads it at each scrape. */
  backlog(): Promise<QueueBacklog>;
  /** Stops taking jobs, lets running ones finish (for at most `graceMs`), and disconnects. */
  close(graceMs?: number): Promise<void>;
}

/** A failure that retrying will not fix (no such pod, a channel that does not exist). */
export class PermanentJobError extends OomdoctorError {
  constructor(message: string, options: OomdoctorErrorOptions = {}) {
    super('job-permanent', message, options);
    this.name = 'PermanentJobError';
  }
}

/** The queue cannot store jobs now (Redis down): the webhook answers 503 so Alertmanager retries. */
export class QueueUnavailableError extends OomdoctorError {
  constructor(message: string, options: OomdoctorErrorOptions = {}) {
    super('queue-unavailable', message, options);
    this.name = 'QueueUnavailableError';
  }
}

/**
 * Bull's priority (1 runs first): someone waiting on a command, a button or a modal is served
 * before the diagnoses a storm queued, so a storm cannot starve /oom and Apply; a rollout's next
 * check is background work and comes after the diagnoses.
 */
export function priorityOf(job: BotJob): number {
  switch (job.kind) {
    case 'command':
    case 'rerun':
    case 'apply-preview':
    case 'apply':
      return 1;
    case 'alert-group':
    case 'diagnose-alert':
      return 2;
    case 'rollout-follow':
      return 3;
  }
}

export const MAX_ATTEMPTS = 4;

// How fast a dead worker's job is taken over, and why: src/config/queue-timings.ts.
export { QUEUE_TIMING_DEFAULTS };

export interface QueueTimings {
  lockDurationMs?: number;
  lockRenewMs?: number;
  stalledIntervalMs?: number;
}
const KEEP_DONE_MS = DAY_MS;

export class BullJobQueue implements JobQueue {
  readonly durable = true;
  private readonly queue: Bull.Queue<BotJob>;
  /** What the handler threw: bull's 'failed' event for these needs no word from us (the handler said it). */
  private readonly handlerFailures = new WeakSet<object>();
  private failedOutsideHandler: FailedOutsideHandler | null = null;
  /** Users being told of such failures: close() lets them finish. */
  private readonly telling = new Set<Promise<void>>();

  constructor(
    redisUrl: string,
    name = 'oomdoctor-diagnoses',
    options: { backoffMs?: number } & QueueTimings = {},
  ) {
    this.queue = new Bull<BotJob>(name, redisUrl, {
      defaultJobOptions: {
        attempts: MAX_ATTEMPTS,
        backoff: { type: 'exponential', delay: options.backoffMs ?? 2000 },
        // Kept for a day, so a re-sent alert with the same id is recognised and ignored.
        removeOnComplete: { age: KEEP_DONE_MS / 1000 },
        removeOnFail: { age: (7 * KEEP_DONE_MS) / 1000 },
      },
      // A worker that dies mid-job leaves it "stalled": see QUEUE_TIMING_DEFAULTS.
      settings: {
        stalledInterval: options.stalledIntervalMs ?? QUEUE_TIMING_DEFAULTS.stalledIntervalMs,
        lockDuration: options.lockDurationMs ?? QUEUE_TIMING_DEFAULTS.lockDurationMs,
        lockRenewTime:
          options.lockRenewMs ??
          (options.lockDurationMs ? options.lockDurationMs / 2 : QUEUE_TIMING_DEFAULTS.lockRenewMs),
        maxStalledCount: 2,
      },
    });
    this.queue.on('error', () => undefined); // Connection errors surface through ready() and add().
    // Emitted where the stalled check ran, i.e. in a worker: the handler never saw these failures.
    this.queue.on('failed', (job: Bull.Job<BotJob> | null, error: Error) => {
      if (!job || this.handlerFailures.has(error)) return;
      const kind = (job.data as { kind?: unknown } | undefined)?.kind;
      jobsTotal.inc({ kind: typeof kind === 'string' ? kind : 'unknown', outcome: 'failed' });
      const listener = this.failedOutsideHandler;
      if (!listener) return;
      const meta = {
        id: String(job.id),
        attempt: job.attemptsMade + 1,
        maxAttempts: job.opts.attempts ?? MAX_ATTEMPTS,
      };
      // The listener logs and counts a failure to tell; nothing more to do with it here.
      const told = listener(job.data, meta, error.message).catch(() => undefined);
      this.telling.add(told);
      void told.finally(() => this.telling.delete(told));
    });
  }

  onFailedOutsideHandler(listener: FailedOutsideHandler): void {
    this.failedOutsideHandler = listener;
  }

  async add(job: BotJob, id: string, options: AddOptions = {}): Promise<'added' | 'duplicate'> {
    if (this.queue.client.status !== 'ready') {
      await Promise.race([this.queue.isReady(), timeout(2000, 'Redis is not reachable')]).catch(
        (error: Error) => {
          throw new QueueUnavailableError(error.message);
        },
      );
    }
    try {
      const existing = await Promise.race([
        this.queue.getJob(id),
        timeout(2000, 'Redis did not answer in time'),
      ]);
      if (existing) return 'duplicate';
      await Promise.race([
        this.queue.add(job, {
          jobId: id,
          priority: priorityOf(job),
          ...(options.delayMs && options.delayMs > 0 ? { delay: options.delayMs } : {}),
        }),
        timeout(3000, 'Redis did not store the job in time'),
      ]);
      return 'added';
    } catch (error) {
      throw new QueueUnavailableError((error as Error).message);
    }
  }

  process(concurrency: number, handler: JobHandler): void {
    void this.queue.process(concurrency, async (job) => {
      const maxAttempts = job.opts.attempts ?? MAX_ATTEMPTS;
      try {
        await handler(job.data, { id: String(job.id), attempt: job.attemptsMade + 1, maxAttempts });
        jobsTotal.inc({ kind: job.data.kind, outcome: 'completed' });
      } catch (error) {
        const last = error instanceof PermanentJobError || job.attemptsMade + 1 >= maxAttempts;
        jobsTotal.inc({ kind: job.data.kind, outcome: last ? 'failed' : 'retried' });
        if (error instanceof PermanentJobError) await job.discard();
        if (typeof error === 'object' && error !== null) this.handlerFailures.add(error);
        throw error;
      }
    });
  }

  async backlog(): Promise<QueueBacklog> {
    // The oldest job is at one end of the wait list; which end depends on how it was added.
    const [waiting, first, last] = await Promise.race([
      Promise.all([this.queue.getWaitingCount(), this.queue.getWaiting(0, 0), this.queue.getWaiting(-1, -1)]),
      timeout(2000, 'Redis did not answer in time'),
    ]);
    const stamps = [...first, ...last].map((job) => job.timestamp);
    return { waiting, oldestWaitingMs: stamps.length ? Date.now() - Math.min(...stamps) : null };
  }

  async ready(): Promise<boolean> {
    try {
      return (await Promise.race([this.queue.client.ping(), timeout(1000, 'timeout')])) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Waits up to `graceMs` for running jobs; a job still running then is left to be taken over as stalled. */
  async close(graceMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.telling),
      new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
    ]);
    const graceful = this.queue.close().then(() => 'closed' as const);
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    if ((await Promise.race([graceful, late])) === 'late') {
      // Give up on the running job (bull hands it to another worker as stalled) and on a dead connection.
      await Promise.race([
        this.queue.close(true).catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 2000).unref()),
      ]);
      // Only those still open: ioredis arms a 2 s timer at each disconnect() that only the socket's
      // close clears, so disconnecting a closed client again would hold the process for 2 s.
      for (const client of this.queue.clients) if (client.status !== 'end') client.disconnect();
    }
    clearTimeout(timer);
  }
}

function timeout(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

interface MemoryEntry {
  job: BotJob;
  id: string;
  attempt: number;
  queuedAt: number;
}

/**
 * The embedded queue for trying oomdoctor out: same retry and dedupe rules, no durability. Jobs
 * queued when the process dies are lost, which is why start-up warns when it is in use. A delayed
 * job still waiting at close() runs then, at once: lost otherwise, it can at least see the process
 * stopping and say so (a followed rollout's message does).
 */
export class MemoryJobQueue implements JobQueue {
  readonly durable = false;
  private readonly known = new Map<string, number>();
  private readonly pending: MemoryEntry[] = [];
  private readonly delayed = new Map<NodeJS.Timeout, MemoryEntry>();
  private handler: JobHandler | null = null;
  private concurrency = 1;
  private running = 0;
  private closed = false;
  private readonly idle: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly backoffMs = 2000) {}

  async add(job: BotJob, id: string, options: AddOptions = {}): Promise<'added' | 'duplicate'> {
    if (this.closed) throw new QueueUnavailableError('the queue is shutting down');
    const now = Date.now();
    for (const [key, at] of this.known) if (now - at > KEEP_DONE_MS) this.known.delete(key);
    if (this.known.has(id)) return 'duplicate';
    this.known.set(id, now);
    const entry = { job: structuredClone(job), id, attempt: 1, queuedAt: now };
    if (options.delayMs && options.delayMs > 0) {
      const timer = setTimeout(() => {
        this.delayed.delete(timer);
        this.enqueue({ ...entry, queuedAt: Date.now() });
        this.pump();
      }, options.delayMs);
      // Neither a delayed job nor a retry's backoff keeps the process alive: close() runs or drops them.
      timer.unref();
      this.delayed.set(timer, entry);
      return 'added';
    }
    this.enqueue(entry);
    this.pump();
    return 'added';
  }

  private enqueue(entry: MemoryEntry): void {
    // Interactive jobs go before every queued diagnosis, as with bull's priorities.
    const after = this.pending.findIndex((p) => priorityOf(p.job) > priorityOf(entry.job));
    if (after === -1) this.pending.push(entry);
    else this.pending.splice(after, 0, entry);
  }

  /** Nothing fails a job here but its handler (no locks, no stalls): the listener is never called. */
  onFailedOutsideHandler(): void {}

  process(concurrency: number, handler: JobHandler): void {
    this.concurrency = concurrency;
    this.handler = handler;
    this.pump();
  }

  private pump(): void {
    while (this.handler && !this.closed && this.running < this.concurrency && this.pending.length > 0) {
      const next = this.pending.shift();
      if (!next) break;
      this.run(this.handler, next);
    }
  }

  private run(handler: JobHandler, next: MemoryEntry): void {
    this.running++;
    void handler(next.job, { id: next.id, attempt: next.attempt, maxAttempts: MAX_ATTEMPTS })
      .then(() => jobsTotal.inc({ kind: next.job.kind, outcome: 'completed' }))
      .catch((error: unknown) => {
        const last = error instanceof PermanentJobError || next.attempt >= MAX_ATTEMPTS;
        jobsTotal.inc({ kind: next.job.kind, outcome: last ? 'failed' : 'retried' });
        if (last || this.closed) return;
        const timer = setTimeout(
          () => {
            this.timers.delete(timer);
            this.pending.push({ ...next, attempt: next.attempt + 1, queuedAt: Date.now() });
            this.pump();
          },
          this.backoffMs * 2 ** (next.attempt - 1),
        );
        timer.unref();
        this.timers.add(timer);
      })
      .finally(() => {
        this.running--;
        if (this.running === 0) this.idle.splice(0).forEach((resolve) => resolve());
        this.pump();
      });
  }

  async ready(): Promise<boolean> {
    return !this.closed;
  }

  async backlog(): Promise<QueueBacklog> {
    const oldest = this.pending[0];
    return { waiting: this.pending.length, oldestWaitingMs: oldest ? Date.now() - oldest.queuedAt : null };
  }

  async close(graceMs = 10_000): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    const due = [...this.delayed];
    this.delayed.clear();
    for (const [timer, entry] of due) {
      clearTimeout(timer);
      if (this.handler) this.run(this.handler, entry);
    }
    if (this.running === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idle.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }
}
