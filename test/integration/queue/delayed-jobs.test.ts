// Delayed jobs, on BullJobQueue (a real Redis) and MemoryJobQueue alike: a delayed job runs no
// earlier than its delay and takes no worker slot while it waits; once due, a rollout check runs
// after the diagnoses already waiting. Only the in-memory queue runs a waiting job at close().
import { randomUUID } from 'node:crypto';
import type { BotJob } from '../../../src/bot/jobs';
import { BullJobQueue, MemoryJobQueue, type JobQueue } from '../../../src/bot/queue';
import { startRedis, type RunningRedis } from '../../support/redis';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let redis: RunningRedis;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

const command = (text: string): BotJob => ({
  kind: 'command',
  receivedAt: 0,
  channel: 'C0123ABCD',
  userId: 'U0123ABCD',
  text,
  responseUrl: null,
});

const diagnosis = (pod: string): BotJob => ({
  kind: 'diagnose-alert',
  receivedAt: 0,
  groupId: 'g1',
  target: {
    id: pod,
    alertname: 'KubePodOOMKilled',
    namespace: 'shop',
    pod,
    container: null,
    channel: null,
    startsAt: '2026-12-05T12:00:00Z',
    crashLoop: false,
  },
});

const rolloutCheck = (check: number): BotJob => ({
  kind: 'rollout-follow',
  receivedAt: 0,
  suggestionId: 'sugg-0123456789abcdef',
  op: 'apply',
  workload: { kind: 'Deployment', namespace: 'shop', name: 'api' },
  container: 'api',
  generation: 5,
  since: 0,
  message: { channel: 'C0123ABCD', ts: '1.5' },
  changedBy: 'U0ALICE',
  identity: null,
  diff: [],
  check,
  shown: '',
});

const nameOf = (job: BotJob) =>
  job.kind === 'command'
    ? job.text
    : job.kind === 'diagnose-alert'
      ? job.target.pod
      : `check-${job.kind === 'rollout-follow' ? job.check : '?'}`;

async function until(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function describeDelays(name: string, durable: boolean, makeQueue: () => JobQueue): void {
  describe(`${name}: delayed jobs`, () => {
    let queue: JobQueue;
    let ran: Array<{ name: string; at: number }>;

    beforeEach(() => {
      ran = [];
      queue = makeQueue();
    });

    afterEach(async () => {
      await queue.close();
    });

    it(`says whether its jobs outlive the process (${durable})`, () => {
      expect(queue.durable).toBe(durable);
    });

    it('runs a delayed job no earlier than its delay, and a job added after it runs first on the one slot', async () => {
      queue.process(1, async (job) => {
        ran.push({ name: nameOf(job), at: Date.now() });
      });
      const added = Date.now();
      await expect(queue.add(rolloutCheck(1), `check-${randomUUID()}`, { delayMs: 400 })).resolves.toBe(
        'added',
      );
      await queue.add(command('now'), `cmd-${randomUUID()}`);
      await until(() => ran.length === 2, 'both jobs');
      expect(ran.map((r) => r.name)).toEqual(['now', 'check-1']);
      expect(ran[1]!.at - added).toBeGreaterThanOrEqual(390);
    });

    it('once due, a rollout check waits behind the diagnoses already queued', async () => {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      queue.process(1, async (job) => {
        ran.push({ name: nameOf(job), at: Date.now() });
        if (nameOf(job) === 'first') await gate; // holds the one slot while the rest queue up
      });
      await queue.add(command('first'), `cmd-${randomUUID()}`);
      await until(() => ran.length === 1, 'the first job');
      await queue.add(rolloutCheck(2), `check-${randomUUID()}`, { delayMs: 50 });
      await sleep(300); // the check is due now, and waiting for the slot
      await queue.add(diagnosis('pod-a'), `alert-${randomUUID()}`);
      await queue.add(diagnosis('pod-b'), `alert-${randomUUID()}`);
      release();
      await until(() => ran.length === 4, 'every job');
      expect(ran.map((r) => r.name)).toEqual(['first', 'pod-a', 'pod-b', 'check-2']);
    });
  });
}

describeDelays('BullJobQueue', true, () => new BullJobQueue(redis.url, `delays-${randomUUID()}`));
describeDelays('MemoryJobQueue', false, () => new MemoryJobQueue(10));

describe('close() with a delayed job still waiting', () => {
  it('the in-memory queue runs it at once, so it can say the process stopped', async () => {
    const queue = new MemoryJobQueue(10);
    const ran: string[] = [];
    queue.process(1, async (job) => {
      ran.push(nameOf(job));
    });
    await queue.add(rolloutCheck(3), 'check-3', { delayMs: 60_000 });
    await queue.close();
    expect(ran).toEqual(['check-3']);
  });

  it('bull leaves it in Redis, where a queue opened later runs it', async () => {
    const name = `delays-${randomUUID()}`;
    const first = new BullJobQueue(redis.url, name);
    const ran: string[] = [];
    first.process(1, async (job) => {
      ran.push(`first:${nameOf(job)}`);
    });
    // A first job run shows the worker is fully started (closing bull while it starts is another matter).
    await first.add(command('warm-up'), 'warm-up');
    await until(() => ran.length === 1, 'the warm-up job');
    await first.add(rolloutCheck(4), 'check-4', { delayMs: 300 });
    await first.close();
    expect(ran).toEqual(['first:warm-up']);
    const second = new BullJobQueue(redis.url, name);
    try {
      second.process(1, async (job) => {
        ran.push(`second:${nameOf(job)}`);
      });
      await until(() => ran.length === 2, 'the resumed job');
      expect(ran).toEqual(['first:warm-up', 'second:check-4']);
    } finally {
      await second.close();
    }
  });
});
