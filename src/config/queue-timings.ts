// How fast a dead worker's job is taken over: the defaults of QUEUE_LOCK_DURATION and
// QUEUE_STALLED_INTERVAL, which the bull queue (src/bot/queue.ts) also falls back on.
import { SECOND_MS } from '../core/time';

/**
 * A running job's lock is renewed every `lockRenewMs`; once a dead worker's lock lapses (at most
 * `lockDurationMs` after it died), the next stalled check (every `stalledIntervalMs`, run by every
 * live worker) hands the job to another worker: about lockDuration + stalledInterval at worst, 15 s
 * with these defaults, where bull's own (30 s and 30 s, a job seen twice) took 92 s. Shorter means
 * more Redis calls, and a worker whose event loop is blocked for longer than the lock loses its job
 * to another, which runs it again; the jobs are idempotent, so that costs time, not a second message.
 */
export const QUEUE_TIMING_DEFAULTS = {
  lockDurationMs: 10 * SECOND_MS,
  lockRenewMs: 5 * SECOND_MS,
  stalledIntervalMs: 5 * SECOND_MS,
} as const;

/** A running job renews its lock every half of it; below this the renewals crowd Redis. */
export const MIN_LOCK_DURATION_MS = 2 * SECOND_MS;
