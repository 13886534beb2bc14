// What /metrics reports about the queue: its backlog read at scrape time, and each job run counted
// by kind and outcome (completed, retried after a passing failure, failed for good).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BotJob } from '../../../src/bot/jobs';
import { ForbiddenError, NotFoundError } from '../../../src/adapters/errors';
import {
  countingFailures,
  jobsTotal,
  kubernetesErrorsTotal,
  metricsEndpoint,
  metricsRegistry,
  observeQueueBacklog,
} from '../../../src/bot/metrics';
import { errorCodeOf } from '../../../src/core/errors';
import { MAX_ATTEMPTS, MemoryJobQueue, PermanentJobError } from '../../../src/bot/queue';

const command = (text: string): BotJob => ({
  kind: 'command',
  receivedAt: 0,
  channel: 'C0123',
  userId: 'U0123',
  text,
  responseUrl: null,
});

async function count(outcome: string): Promise<number> {
  const metric = await jobsTotal.get();
  return metric.values.find((v) => v.labels.kind === 'command' && v.labels.outcome === outcome)?.value ?? 0;
}

/** GET /metrics through the endpoint, as text. */
function scrape(): Promise<string> {
  return new Promise((resolve) => {
    let status = 0;
    const res = {
      writeHead(code: number) {
        status = code;
        return res;
      },
      end(text: string) {
        expect(status).toBe(200);
        resolve(text);
      },
    };
    metricsEndpoint()({} as IncomingMessage, res as unknown as ServerResponse);
  });
}

afterEach(() => observeQueueBacklog(null));

it('reports how many jobs wait and how long the oldest has waited', async () => {
  const queue = new MemoryJobQueue(10);
  observeQueueBacklog(() => queue.backlog());
  expect(await queue.backlog()).toEqual({ waiting: 0, oldestWaitingMs: null });
  expect(await scrape()).toMatch(/^oomdoctor_queue_oldest_waiting_seconds 0$/m);
  await queue.add(command('a'), 'a');
  await new Promise((resolve) => setTimeout(resolve, 30));
  await queue.add(command('b'), 'b');
  const backlog = await queue.backlog();
  expect(backlog.waiting).toBe(2);
  expect(backlog.oldestWaitingMs).toBeGreaterThanOrEqual(25);
  const text = await scrape();
  expect(text).toMatch(/^oomdoctor_queue_waiting_jobs 2$/m);
  const age = Number(/^oomdoctor_queue_oldest_waiting_seconds (\S+)$/m.exec(text)?.[1]);
  expect(age).toBeGreaterThanOrEqual(0.025);
  await queue.close(0);
});

// prom-client writes "Nan"; Prometheus parses NaN in any case.
it('reports NaN rather than a wrong figure when the queue cannot be read', async () => {
  observeQueueBacklog(() => Promise.reject(new Error('Redis is down')));
  expect(await scrape()).toMatch(/^oomdoctor_queue_waiting_jobs nan$/im);
});

it('counts each run of a job by kind and outcome', async () => {
  const before = {
    completed: await count('completed'),
    retried: await count('retried'),
    failed: await count('failed'),
  };
  const queue = new MemoryJobQueue(1);
  const attempts = new Map<string, number>();
  const settled = new Set<string>();
  queue.process(2, async (job, meta) => {
    if (job.kind !== 'command') return;
    attempts.set(job.text, meta.attempt);
    const last = () => settled.add(job.text);
    if (job.text === 'ok') return void last();
    if (job.text === 'flaky' && meta.attempt === 2) return void last();
    if (job.text === 'gone') {
      last();
      throw new PermanentJobError('no such pod');
    }
    if (meta.attempt === MAX_ATTEMPTS) last();
    throw new Error('the API is briefly down');
  });
  for (const text of ['ok', 'flaky', 'gone', 'down']) await queue.add(command(text), text);
  for (let i = 0; i < 200 && settled.size < 4; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  await new Promise((resolve) => setTimeout(resolve, 10));
  expect(attempts).toEqual(
    new Map([
      ['ok', 1],
      ['flaky', 2],
      ['gone', 1],
      ['down', MAX_ATTEMPTS],
    ]),
  );
  // ok and flaky (second try) completed; flaky once and down three times retried; gone and down failed.
  expect((await count('completed')) - before.completed).toBe(2);
  expect((await count('retried')) - before.retried).toBe(1 + (MAX_ATTEMPTS - 1));
  expect((await count('failed')) - before.failed).toBe(2);
  expect(await metricsRegistry.getSingleMetricAsString('oomdoctor_jobs_total')).toContain(
    'oomdoctor_jobs_total{kind="command",outcome="failed"}',
  );
  await queue.close(0);
});

describe('request errors of the Kubernetes and Prometheus adapters', () => {
  it('counts each failed call by its error code, and passes answers and errors through unchanged', async () => {
    const reader = {
      description: 'https://127.0.0.1:6443',
      calls: 0,
      async readPod(name: string) {
        this.calls += 1;
        if (name === 'gone') throw new NotFoundError('pod shop/gone not found');
        if (name === 'secret') throw new ForbiddenError('cannot get pods in kube-system');
        return { metadata: { name } };
      },
    };
    const before = async (reason: string) =>
      (await kubernetesErrorsTotal.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
    const [notFound, forbidden] = [await before('not-found'), await before('kube-forbidden')];
    const counted = countingFailures(reader, kubernetesErrorsTotal, errorCodeOf);
    expect(counted.description).toBe('https://127.0.0.1:6443');
    expect(await counted.readPod('api-1')).toEqual({ metadata: { name: 'api-1' } });
    await expect(counted.readPod('gone')).rejects.toBeInstanceOf(NotFoundError);
    await expect(counted.readPod('gone')).rejects.toThrow('not found');
    await expect(counted.readPod('secret')).rejects.toBeInstanceOf(ForbiddenError);
    expect(reader.calls).toBe(4); // `this` is the real object
    expect(await before('not-found')).toBe(notFound + 2);
    expect(await before('kube-forbidden')).toBe(forbidden + 1);
  });
});
