// BullJobQueue (on a real Redis) and MemoryJobQueue held to one contract: keyed jobs run once,
// passing failures are retried with attempt numbers, permanent ones are not, concurrency is bounded,
// and close() lets a running job finish.
import { randomUUID } from 'node:crypto';
import type { BotJob } from '../../../src/bot/jobs';
import {
  BullJobQueue,
  MAX_ATTEMPTS,
  MemoryJobQueue,
  PermanentJobError,
  QueueUnavailableError,
  type JobMeta,
  type JobQueue,
} from '../../../src/bot/queue';
import { startRedis, type RunningRedis } from '../../support/redis';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const BACKOFF_MS = 10;

let redis: RunningRedis;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

function commandJob(text = 'shop/api-1'): BotJob {
  return {
    kind: 'command',
    receivedAt: 1_700_000_000_000,
    channel: 'C0123ABCD',
    userId: 'U0123ABCD',
    text,
    responseUrl: null,
  };
}

/** Resolves when `predicate` holds, polling; rejects with `what` after `ms`. */
async function until(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Call {
  id: string;
  attempt: number;
  maxAttempts: number;
  text: string;
}

function describeJobQueue(name: string, makeQueue: (backoffMs: number) => JobQueue): void {
  describe(`${name}: the JobQueue contract`, () => {
    let queue: JobQueue;
    let calls: Call[];
    const record = (job: BotJob, meta: JobMeta) =>
      calls.push({
        id: meta.id,
        attempt: meta.attempt,
        maxAttempts: meta.maxAttempts,
        text: job.kind === 'command' ? job.text : job.kind,
      });

    beforeEach(() => {
      calls = [];
      queue = makeQueue(BACKOFF_MS);
    });

    afterEach(async () => {
      await queue.close();
    });

    it('is ready while open', async () => {
      await expect(queue.ready()).resolves.toBe(true);
    });

    it('processes a job once, with its data and attempt 1', async () => {
      const seen: BotJob[] = [];
      queue.process(2, async (job, meta) => {
        seen.push(job);
        record(job, meta);
      });
      await expect(queue.add(commandJob(), 'job-1')).resolves.toBe('added');
      await until(() => calls.length >= 1, 'the job to run');
      await sleep(150);
      expect(calls).toEqual([{ id: 'job-1', attempt: 1, maxAttempts: MAX_ATTEMPTS, text: 'shop/api-1' }]);
      expect(seen).toEqual([commandJob()]);
    });

    it('serves a /oom command before the diagnoses a storm queued ahead of it', async () => {
      const alertJob = (n: number): BotJob => ({
        kind: 'diagnose-alert',
        receivedAt: 1_700_000_000_000,
        groupId: 'g1',
        target: {
          id: `a${n}`,
          alertname: 'ContainerOOMKilled',
          namespace: 'shop',
          pod: `api-${n}`,
          container: null,
          channel: null,
          startsAt: '2026-12-05T10:00:00Z',
          crashLoop: false,
        },
      });
      for (let n = 0; n < 5; n++) await queue.add(alertJob(n), `alert-${n}`);
      await queue.add(commandJob('urgent'), 'command-1');
      queue.process(1, async (job, meta) => {
        record(job, meta);
      });
      await until(() => calls.length >= 6, 'all six jobs to run');
      expect(calls[0]?.text).toBe('urgent');
    });

    it('runs jobs added before process() is called', async () => {
      await queue.add(commandJob('early'), 'early');
      queue.process(1, async (job, meta) => {
        record(job, meta);
      });
      await until(() => calls.length >= 1, 'the early job to run');
      expect(calls[0]?.text).toBe('early');
    });

    it('an id already known is a duplicate: while it waits, and after it completed; it is not processed again', async () => {
      expect(await queue.add(commandJob('first'), 'same-id')).toBe('added');
      expect(await queue.add(commandJob('second'), 'same-id')).toBe('duplicate');
      queue.process(1, async (job, meta) => {
        record(job, meta);
      });
      await until(() => calls.length >= 1, 'the job to run');
      await sleep(100); // let it complete
      expect(await queue.add(commandJob('third'), 'same-id')).toBe('duplicate');
      await sleep(150);
      expect(calls.map((c) => c.text)).toEqual(['first']);
      // Another id is another job.
      expect(await queue.add(commandJob('other'), 'other-id')).toBe('added');
      await until(() => calls.length >= 2, 'the other job to run');
      expect(calls.map((c) => c.text)).toEqual(['first', 'other']);
    });

    it(`retries a failing job up to MAX_ATTEMPTS (${MAX_ATTEMPTS}), with attempts 1..${MAX_ATTEMPTS}, then stops`, async () => {
      expect(MAX_ATTEMPTS).toBe(4);
      queue.process(1, async (job, meta) => {
        record(job, meta);
        throw new Error('Prometheus did not answer');
      });
      await queue.add(commandJob(), 'flaky');
      await until(() => calls.length >= MAX_ATTEMPTS, 'every attempt');
      await sleep(300); // 8x the last backoff: time enough for a fifth attempt, were there one
      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3, 4]);
      expect(new Set(calls.map((c) => c.id))).toEqual(new Set(['flaky']));
      expect(calls.every((c) => c.maxAttempts === MAX_ATTEMPTS)).toBe(true);
      // A failed job is still known: a re-delivery does not start it again.
      expect(await queue.add(commandJob(), 'flaky')).toBe('duplicate');
    });

    it('stops retrying once an attempt succeeds', async () => {
      queue.process(1, async (job, meta) => {
        record(job, meta);
        if (meta.attempt < 2) throw new Error('passing failure');
      });
      await queue.add(commandJob(), 'recovers');
      await until(() => calls.length >= 2, 'the second attempt');
      await sleep(200);
      expect(calls.map((c) => c.attempt)).toEqual([1, 2]);
    });

    it('does not retry a PermanentJobError', async () => {
      queue.process(1, async (job, meta) => {
        record(job, meta);
        throw new PermanentJobError('no such pod shop/api-1');
      });
      await queue.add(commandJob(), 'permanent');
      await until(() => calls.length >= 1, 'the first attempt');
      await sleep(300);
      expect(calls.map((c) => c.attempt)).toEqual([1]);
    });

    it('respects the concurrency bound: with 2, never more than 2 handlers at once, and 2 are used', async () => {
      let running = 0;
      let most = 0;
      let done = 0;
      queue.process(2, async () => {
        running += 1;
        most = Math.max(most, running);
        await sleep(40);
        running -= 1;
        done += 1;
      });
      await Promise.all(Array.from({ length: 7 }, (_, i) => queue.add(commandJob(`job ${i}`), `c-${i}`)));
      await until(() => done === 7, 'all seven jobs');
      expect(most).toBe(2);
    });

    it('close() waits for a running job to finish', async () => {
      let started = false;
      let finished = false;
      queue.process(1, async () => {
        started = true;
        await sleep(300);
        finished = true;
      });
      await queue.add(commandJob(), 'long');
      await until(() => started, 'the job to start');
      await queue.close();
      expect(finished).toBe(true);
    });
  });
}

// First on purpose: closing a queue whose Redis is gone leaves ioredis a 2 s timer to destroy its
// socket, which runs out while the other tests run instead of holding jest open at the end.
describe('BullJobQueue against a Redis that stops', () => {
  let lonely: RunningRedis | undefined;
  let queue: BullJobQueue | undefined;

  afterEach(async () => {
    await lonely?.stop();
    await queue?.close();
  });

  it('add rejects with QueueUnavailableError within about 5 s, so the webhook can answer 503', async () => {
    lonely = await startRedis();
    queue = new BullJobQueue(lonely.url, `test-${randomUUID()}`, { backoffMs: BACKOFF_MS });
    expect(await queue.add(commandJob(), 'before')).toBe('added');
    expect(await queue.ready()).toBe(true);
    await lonely.stop();

    const started = Date.now();
    const error = await queue.add(commandJob(), 'after').then(
      () => null,
      (e: unknown) => e,
    );
    const took = Date.now() - started;
    expect(error).toBeInstanceOf(QueueUnavailableError);
    expect(took).toBeLessThan(5500);
    // Readiness says so too, within its own bound.
    const readyStarted = Date.now();
    expect(await queue.ready()).toBe(false);
    expect(Date.now() - readyStarted).toBeLessThan(1500);
  }, 15_000);
});

describeJobQueue('MemoryJobQueue', (backoffMs) => new MemoryJobQueue(backoffMs));
describeJobQueue(
  'BullJobQueue',
  (backoffMs) => new BullJobQueue(redis.url, `test-${randomUUID()}`, { backoffMs }),
);

describe('MemoryJobQueue specifics', () => {
  it('refuses new jobs once closing, with QueueUnavailableError', async () => {
    const queue = new MemoryJobQueue(BACKOFF_MS);
    await queue.close();
    await expect(queue.add(commandJob(), 'late')).rejects.toBeInstanceOf(QueueUnavailableError);
    await expect(queue.ready()).resolves.toBe(false);
  });

  it('keeps its own copy of the job data', async () => {
    const queue = new MemoryJobQueue(BACKOFF_MS);
    const seen: string[] = [];
    try {
      const job = commandJob('original');
      await queue.add(job, 'copy');
      if (job.kind === 'command') job.text = 'changed after add';
      queue.process(1, async (j) => {
        if (j.kind === 'command') seen.push(j.text);
      });
      await until(() => seen.length === 1, 'the job to run');
      expect(seen).toEqual(['original']);
    } finally {
      await queue.close();
    }
  });
});
