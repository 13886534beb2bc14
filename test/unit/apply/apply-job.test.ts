// The apply job's edges, with an in-memory cluster and Slack: a 409 retried, a job retried after its
// patch went through, passing trouble keeping the claim, the rollout handed to delayed checks (each
// check's outcomes are in test/unit/jobs/apply-rollout.test.ts).
import pino from 'pino';
import { handleApply } from '../../../jobs/apply-change';
import type { ApplyDeps } from '../../../jobs/apply-job';
import { handleApplyPreview } from '../../../jobs/apply-preview';
import { checkRollout } from '../../../jobs/apply-rollout';
import { ConflictError, type ClusterWriter } from '../../../src/adapters/cluster-writer';
import type { SlackPoster } from '../../../src/adapters/slack';
import type { SlackInteractive } from '../../../src/adapters/slack-interactive';
import { AuditLog } from '../../../src/apply/audit';
import { APPLY_DISABLED } from '../../../src/config/apply';
import type { SuggestionRecord } from '../../../src/apply/types';
import { snapshotOf } from '../../../src/apply/workload';
import type { BotConfig } from '../../../src/config/bot';
import type { ApplyJob } from '../../../src/bot/jobs';
import { MemoryStore } from '../../../src/bot/memory-store';
import { QueueUnavailableError } from '../../../src/bot/queue';
import { RecordingJobQueue } from '../../fakes/job-queue';
import { applyStrategicMergePatch } from '../../fakes/strategic-merge';
import { suggestion } from '../../support/state-store-contract';

function deployment(): Record<string, any> {
  return {
    metadata: {
      name: 'ledger',
      namespace: 'payments',
      generation: 4,
      resourceVersion: '10',
      labels: { app: 'ledger' },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'ledger' } },
      template: {
        spec: {
          containers: [
            {
              name: 'ledger',
              image: 'l:1',
              resources: { requests: { memory: '2Gi' }, limits: { memory: '2Gi' } },
            },
          ],
        },
      },
    },
    status: { observedGeneration: 4, replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
  };
}

/** A cluster of one Deployment: patches merge, bump generation and resourceVersion, honour the precondition. */
class MemoryWriter implements ClusterWriter {
  readonly description = 'memory';
  obj = deployment();
  patches: Array<Record<string, any>> = [];
  failNext: Error[] = [];
  pods: Array<Record<string, any>> = [];
  onRead: (obj: Record<string, any>) => void = () => undefined;

  async read() {
    this.onRead(this.obj);
    return structuredClone(this.obj);
  }
  async patch(_w: unknown, body: Record<string, any>, options: { dryRun: boolean }) {
    this.patches.push({ body, dryRun: options.dryRun });
    const failure = this.failNext.shift();
    if (failure) throw failure;
    if (body.metadata?.resourceVersion && body.metadata.resourceVersion !== this.obj.metadata.resourceVersion)
      throw new ConflictError('changed');
    const { metadata: _m, ...rest } = body;
    const next = applyStrategicMergePatch(this.obj, rest) as Record<string, any>;
    next.metadata.generation += 1;
    next.metadata.resourceVersion = String(Number(next.metadata.resourceVersion) + 1);
    if (!options.dryRun) this.obj = next;
    return structuredClone(next);
  }
  async canI() {
    return { allowed: true, reason: null };
  }
  async listPods() {
    return this.pods;
  }
}

class Recorder implements SlackPoster {
  posts: Array<{ channel: string; text: string; blocks?: unknown[]; ts: string }> = [];
  updates: Array<{ ts: string; text: string; blocks?: unknown[] }> = [];
  ephemerals: string[] = [];
  async post(channel: string, message: { text: string; blocks?: unknown[] }) {
    const ts = `1700000001.${String(this.posts.length).padStart(6, '0')}`;
    this.posts.push({ channel, ...message, ts });
    return { channel, ts };
  }
  async update(_c: string, ts: string, message: { text: string; blocks?: unknown[] }) {
    this.updates.push({ ts, ...message });
  }
  async ephemeral(_c: string, _u: string, message: { text: string }) {
    this.ephemerals.push(message.text);
  }
  async upload() {}
  async respond() {}
  async postedUnder() {
    return null;
  }
  async show(
    _key: string,
    channel: string,
    _thread: string | null,
    message: { text: string; blocks?: unknown[] },
  ) {
    return this.post(channel, message);
  }
  async permalink() {
    return null;
  }
  async authTest() {
    return true;
  }
  lastUpdateOf(ts: string) {
    return JSON.stringify([...this.updates].reverse().find((u) => u.ts === ts)?.blocks ?? []);
  }
}

const views: SlackInteractive = {
  openView: async () => ({ id: 'V1' }),
  updateView: async () => undefined,
  usergroupMembers: async () => [],
};

async function setup(overrides: { timeoutMs?: number } = {}) {
  const writer = new MemoryWriter();
  const slack = new Recorder();
  const store = new MemoryStore();
  const record: SuggestionRecord = suggestion({
    id: 'sugg-0123456789abcdef',
    message: { channel: 'C0APPLY', ts: '1.1', threadTs: '1.0' },
    change: { requestsMemory: '2Gi', limitsMemory: '3Gi', env: [], args: null },
    snapshot: snapshotOf('Deployment', deployment(), 'ledger')!,
  });
  await store.setSuggestion(record.id, record, 60_000);
  const stopping = new AbortController();
  const queue = new RecordingJobQueue();
  const config = {
    clusterName: 'prod',
    apply: { ...APPLY_DISABLED, enabled: true, rolloutTimeoutMs: overrides.timeoutMs ?? 60_000 },
  } as unknown as BotConfig;
  const deps: ApplyDeps = {
    config,
    store,
    slack,
    writer,
    interactive: views,
    audit: await AuditLog.open(pino({ level: 'silent' }), null),
    logger: pino({ level: 'silent' }),
    queue,
    pollMs: 5,
    stopping: stopping.signal,
    refreshDiagnosis: async () => undefined,
  };
  const job: ApplyJob = {
    kind: 'apply',
    receivedAt: 0,
    suggestionId: record.id,
    op: 'apply',
    userId: 'U0ALICE',
    userGroups: [],
    viewId: null,
  };
  return { writer, slack, store, deps, job, stopping, record, queue };
}

const meta = (attempt = 1) => ({ id: 'job-1', attempt, maxAttempts: 4 });

/** Runs the queued rollout checks one after another, as the worker would, until none is left. */
async function followToEnd(queue: RecordingJobQueue, deps: ApplyDeps): Promise<number> {
  let checks = 0;
  while (queue.queued.length > 0 && checks < 100) {
    const { job, id } = queue.take();
    if (job.kind !== 'rollout-follow') throw new Error(`unexpected ${job.kind} job`);
    await checkRollout(job, { id, attempt: 1, maxAttempts: 4 }, deps);
    checks += 1;
  }
  return checks;
}

it('retries after a 409 from a status update in between, and applies once', async () => {
  const { writer, deps, job, store, slack, queue } = await setup();
  writer.failNext.push(new ConflictError('the object has been modified'));
  // The rollout completes at once (the controller observed the new generation).
  writer.onRead = (obj) => {
    obj.status.observedGeneration = obj.metadata.generation;
  };
  await handleApply(job, meta(), deps);
  expect(writer.patches).toHaveLength(2);
  expect(writer.obj.spec.template.spec.containers[0].resources.limits.memory).toBe('3Gi');
  expect((await store.getSuggestion(job.suggestionId))?.state).toBe('applied');
  // The job ended with the first check queued, not with the rollout followed.
  expect(queue.queued.map((q) => [q.job.kind, q.delayMs])).toEqual([['rollout-follow', 0]]);
  expect(queue.queued[0]?.job).toMatchObject({
    generation: 5,
    check: 1,
    message: { ts: slack.posts[0]!.ts },
  });
  expect(await followToEnd(queue, deps)).toBe(1);
  expect(slack.lastUpdateOf(slack.posts[0]!.ts)).toContain('rolled out: 2 of 2 pods updated and available');
});

it('says in the message when the rollout checks cannot be queued, and still records the change', async () => {
  const { deps, job, store, slack, queue } = await setup();
  queue.failNext.push(new QueueUnavailableError('Redis did not store the job in time'));
  await handleApply(job, meta(), deps);
  expect((await store.getSuggestion(job.suggestionId))?.state).toBe('applied');
  expect(queue.queued).toHaveLength(0);
  const shown = slack.lastUpdateOf(slack.posts[0]!.ts);
  expect(shown).toContain(
    'oomdoctor could not queue its checks of the rollout (Redis did not store the job in time)',
  );
  expect(shown).toContain('kubectl -n payments rollout status deployment/ledger');
});

it('keeps its claim through passing trouble, and a retry after the patch went through records it without patching again', async () => {
  const { writer, deps, job, store, queue } = await setup();
  writer.onRead = (obj) => {
    obj.status.observedGeneration = obj.metadata.generation;
  };
  writer.failNext.push(new Error('socket hang up'));
  await expect(handleApply(job, meta(1), deps)).rejects.toThrow('socket hang up');
  expect((await store.getSuggestion(job.suggestionId))?.state).toBe('applying');
  // Someone else cannot take it meanwhile.
  await handleApply({ ...job, userId: 'U0BOB' }, { ...meta(1), id: 'job-2' }, deps);
  expect(writer.patches).toHaveLength(1);

  // The retry goes on; simulate that its first attempt's patch had in fact reached the API.
  const before = { ...writer.obj };
  writer.obj = applyStrategicMergePatch(before, {
    spec: {
      template: { spec: { containers: [{ name: 'ledger', resources: { limits: { memory: '3Gi' } } }] } },
    },
  }) as Record<string, any>;
  writer.obj.metadata.generation = 5;
  await handleApply(job, meta(2), deps);
  expect(writer.patches).toHaveLength(1); // nothing sent again
  const applied = await store.getSuggestion(job.suggestionId);
  expect(applied?.state).toBe('applied');
  expect(applied?.applied?.before.limitsMemory).toBe('2Gi');
  // The rollout of the generation the first attempt's patch made is the one followed.
  expect(queue.queued.map((q) => q.id)).toEqual([`rollout-${job.suggestionId}-g5-1`]);
});

it('gives the suggestion back when it finally fails, so it can be tried again', async () => {
  const { writer, deps, job, store, slack } = await setup();
  writer.failNext.push(new Error('socket hang up'));
  await handleApply(job, meta(4), deps);
  expect((await store.getSuggestion(job.suggestionId))?.state).toBe('open');
  expect(JSON.stringify(slack.posts[0]?.blocks)).toContain('socket hang up');
});

it('tells the modal when the checks give up, instead of "Checking…" for ever', async () => {
  const { deps, writer, record } = await setup();
  const updates: string[] = [];
  deps.interactive = { ...views, updateView: async (_id, view) => void updates.push(JSON.stringify(view)) };
  writer.read = async () => {
    throw new Error('cannot reach the Kubernetes API at https://k8s.example (ECONNREFUSED)');
  };
  const job = {
    kind: 'apply-preview' as const,
    receivedAt: 0,
    suggestionId: record.id,
    op: 'apply' as const,
    userId: 'U0ALICE',
    userGroups: [],
    viewId: 'V1',
  };
  await expect(handleApplyPreview(job, meta(1), deps)).rejects.toThrow('ECONNREFUSED');
  expect(updates).toHaveLength(0);
  await expect(handleApplyPreview(job, meta(4), deps)).rejects.toThrow('ECONNREFUSED');
  expect(updates[0]).toContain('The checks could not run');
  expect(updates[0]).toContain('ECONNREFUSED');
});
