// One check of a followed rollout, each outcome: still progressing (one edit, the next check queued
// with a delay), unchanged (no edit), complete, stuck with its reason, the deadline, an unreadable
// workload, undone meanwhile, the process stopping (with and without a durable queue), and a queue
// that refuses. Then a chain of checks through the in-memory queue, and its close() mid-chain.
import pino from 'pino';
import type { ApplyDeps } from '../../../jobs/apply-job';
import { checkRollout, firstRolloutCheck, rolloutCheckId } from '../../../jobs/apply-rollout';
import type { ClusterWriter } from '../../../src/adapters/cluster-writer';
import type { SlackPoster } from '../../../src/adapters/slack';
import type { EditOptions } from '../../../src/adapters/slack-outbox';
import type { SuggestionRecord } from '../../../src/apply/types';
import { botJobSchema, type RolloutFollowJob } from '../../../src/bot/jobs';
import { MemoryJobQueue, QueueUnavailableError } from '../../../src/bot/queue';
import { MemoryStore } from '../../../src/bot/memory-store';
import { APPLY_DISABLED } from '../../../src/config/apply';
import type { BotConfig } from '../../../src/config/bot';
import type { AppliedProps } from '../../../src/slack/apply-blocks';
import { RecordingJobQueue } from '../../fakes/job-queue';
import { suggestion } from '../../support/state-store-contract';

const SINCE = 1_700_000_000_000;
const TIMEOUT_MS = 10 * 60_000;
const POLL_MS = 5000;

/** The Deployment after the change (generation 5), with the status a test gives it. */
function deployment(status: Record<string, unknown>): Record<string, any> {
  return {
    metadata: { name: 'ledger', namespace: 'payments', generation: 5 },
    spec: { replicas: 3, selector: { matchLabels: { app: 'ledger' } } },
    status,
  };
}

class StubWriter implements ClusterWriter {
  readonly description = 'stub';
  obj: Record<string, any> | null = deployment({ observedGeneration: 4 });
  readError: Error | null = null;
  pods: Array<Record<string, any>> = [];
  reads = 0;
  async read() {
    this.reads += 1;
    if (this.readError) throw this.readError;
    return this.obj ? structuredClone(this.obj) : null;
  }
  async patch(): Promise<never> {
    throw new Error('a rollout check never patches');
  }
  async canI(): Promise<never> {
    throw new Error('a rollout check never asks for permissions');
  }
  async listPods() {
    return this.pods;
  }
}

/** Records the edits; a rollout check makes no other Slack call. */
class EditRecorder implements SlackPoster {
  edits: Array<{ channel: string; ts: string; text: string; blocks: string; options: EditOptions }> = [];
  failEdits: Error | null = null;
  async update(channel: string, ts: string, message: unknown, options: EditOptions = {}) {
    const m = message as { text: string; blocks?: unknown[] };
    this.edits.push({ channel, ts, text: m.text, blocks: JSON.stringify(m.blocks ?? []), options });
    if (this.failEdits) throw this.failEdits;
  }
  last(): string {
    const edit = this.edits.at(-1);
    if (!edit) throw new Error('no edit was made');
    return edit.blocks;
  }
  private none(): never {
    throw new Error('a rollout check only edits its message');
  }
  async post() {
    return this.none();
  }
  async show() {
    return this.none();
  }
  async postedUnder() {
    return this.none();
  }
  async ephemeral() {
    return this.none();
  }
  async upload() {
    return this.none();
  }
  async respond() {
    return this.none();
  }
  async permalink() {
    return this.none();
  }
  async authTest() {
    return this.none();
  }
}

const record: SuggestionRecord = suggestion({
  id: 'sugg-0123456789abcdef',
  message: { channel: 'C0APPLY', ts: '1.1', threadTs: '1.0' },
  state: 'applied',
});

const props: AppliedProps = {
  op: 'apply',
  userId: 'U0ALICE',
  at: SINCE,
  workload: record.workload,
  container: 'ledger',
  diff: [{ field: 'limits.memory', before: '2Gi', after: '3Gi' }],
  identity: null,
  rollout: { phase: 'progressing', summary: 'starting…' },
  undoId: record.id,
};

async function setup(options: { durable?: boolean; state?: SuggestionRecord['state'] } = {}) {
  const writer = new StubWriter();
  const slack = new EditRecorder();
  const store = new MemoryStore();
  await store.setSuggestion(record.id, { ...record, state: options.state ?? 'applied' }, 60_000);
  const queue = new RecordingJobQueue(options.durable ?? true);
  const stopping = new AbortController();
  const clock = { now: SINCE + 1000 };
  const deps: ApplyDeps = {
    config: {
      clusterName: 'prod',
      apply: { ...APPLY_DISABLED, enabled: true, rolloutTimeoutMs: TIMEOUT_MS },
    } as unknown as BotConfig,
    store,
    slack,
    writer,
    queue,
    interactive: {
      openView: async () => ({ id: 'V1' }),
      updateView: async () => undefined,
      usergroupMembers: async () => [],
    },
    audit: null as unknown as ApplyDeps['audit'],
    logger: pino({ level: 'silent' }),
    pollMs: POLL_MS,
    stopping: stopping.signal,
    refreshDiagnosis: async () => undefined,
    now: () => clock.now,
  };
  const first = firstRolloutCheck(record, 'apply', props, '1.5', 5);
  return { writer, slack, store, queue, stopping, clock, deps, first };
}

const meta = (job: RolloutFollowJob, attempt = 1) => ({ id: rolloutCheckId(job), attempt, maxAttempts: 4 });

/** The job a check queued next, checked against the schema the worker validates with. */
function nextOf(queue: RecordingJobQueue): RolloutFollowJob {
  const { job } = queue.take();
  const parsed = botJobSchema.parse(job);
  if (parsed.kind !== 'rollout-follow') throw new Error(`a ${parsed.kind} job was queued`);
  return parsed;
}

describe('one check of a followed rollout', () => {
  it('while it progresses: one edit through the outbox, and the next check queued with a delay', async () => {
    const { slack, queue, deps, first, writer } = await setup();
    await checkRollout(first, meta(first), deps);
    expect(writer.reads).toBe(1);
    expect(slack.edits).toHaveLength(1);
    expect(slack.edits[0]).toMatchObject({
      channel: 'C0APPLY',
      ts: '1.5',
      options: { priority: 'background' },
    });
    expect(slack.last()).toContain(
      'waiting for the Deployment controller to pick up the change (generation 5)',
    );
    expect(slack.last()).toContain('oom_undo'); // the fix stands: Undo is offered
    expect(queue.queued).toHaveLength(1);
    expect(queue.queued[0]).toMatchObject({ id: `rollout-${record.id}-g5-2`, delayMs: POLL_MS });
    const next = nextOf(queue);
    expect(next).toMatchObject({
      check: 2,
      generation: 5,
      since: SINCE,
      message: { channel: 'C0APPLY', ts: '1.5' },
    });
    expect(next.shown).not.toBe('');
  });

  it('sends no edit when the state is the one already shown, and keeps checking', async () => {
    const { slack, queue, deps, first } = await setup();
    await checkRollout(first, meta(first), deps);
    const second = nextOf(queue);
    await checkRollout(second, meta(second), deps);
    expect(slack.edits).toHaveLength(1);
    expect(nextOf(queue).check).toBe(3);
  });

  it('edits again when the rollout moves on', async () => {
    const { slack, queue, deps, first, writer } = await setup();
    await checkRollout(first, meta(first), deps);
    writer.obj = deployment({ observedGeneration: 5, replicas: 4, updatedReplicas: 1, availableReplicas: 3 });
    const second = nextOf(queue);
    await checkRollout(second, meta(second), deps);
    expect(slack.edits).toHaveLength(2);
    expect(slack.last()).toContain('1 of 3 pods updated');
  });

  it('ends when the rollout completes: the final line, and no next check', async () => {
    const { slack, queue, deps, first, writer } = await setup();
    writer.obj = deployment({ observedGeneration: 5, replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    await checkRollout(first, meta(first), deps);
    expect(slack.last()).toContain('rolled out: 3 of 3 pods updated and available');
    expect(slack.edits[0]?.text).toContain('rollout complete');
    expect(queue.queued).toHaveLength(0);
  });

  it('ends when the rollout is stuck, with the reason from the Deployment and its new pods', async () => {
    const { slack, queue, deps, first, writer } = await setup();
    writer.obj = deployment({
      observedGeneration: 5,
      replicas: 3,
      updatedReplicas: 1,
      availableReplicas: 2,
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: 'ReplicaSet "ledger-5d" has timed out progressing.',
        },
      ],
    });
    writer.pods = [
      // An old pod, created before the change: not this rollout's trouble.
      {
        metadata: { name: 'ledger-4c-old', creationTimestamp: new Date(SINCE - 3_600_000).toISOString() },
        status: {
          containerStatuses: [{ name: 'ledger', state: { waiting: { reason: 'ImagePullBackOff' } } }],
        },
      },
      {
        metadata: { name: 'ledger-5d-x', creationTimestamp: new Date(SINCE + 5000).toISOString() },
        status: {
          containerStatuses: [
            {
              name: 'ledger',
              state: { waiting: { reason: 'CrashLoopBackOff' } },
              lastState: { terminated: { reason: 'OOMKilled' } },
            },
          ],
        },
      },
    ];
    await checkRollout(first, meta(first), deps);
    expect(slack.last()).toContain('stuck: ReplicaSet \\"ledger-5d\\" has timed out progressing.');
    expect(slack.last()).toContain(
      'pod ledger-5d-x, container ledger: CrashLoopBackOff (last exit: OOMKilled)',
    );
    expect(slack.last()).not.toContain('ledger-4c-old');
    expect(queue.queued).toHaveLength(0);
  });

  it('ends at APPLY_ROLLOUT_TIMEOUT, counted from the change, and says where it was', async () => {
    const { slack, queue, deps, first, clock } = await setup();
    clock.now = SINCE + TIMEOUT_MS - 1;
    await checkRollout(first, meta(first), deps);
    expect(queue.queued).toHaveLength(1); // a millisecond before the deadline: still followed
    clock.now = SINCE + TIMEOUT_MS;
    const second = nextOf(queue);
    await checkRollout(second, meta(second), deps);
    expect(slack.last()).toContain('still rolling out after 10 min');
    expect(slack.last()).toContain('waiting for the Deployment controller');
    expect(slack.last()).toContain('kubectl -n payments rollout status deployment/ledger');
    expect(slack.last()).toContain('oom_undo');
    expect(queue.queued).toHaveLength(0);
  });

  it('keeps checking, without an edit, while the workload cannot be read; at the deadline says so', async () => {
    const { slack, queue, deps, first, writer, clock } = await setup();
    writer.readError = new Error('cannot reach the Kubernetes API (ECONNREFUSED)');
    await checkRollout(first, meta(first), deps);
    expect(slack.edits).toHaveLength(0);
    const second = nextOf(queue);
    clock.now = SINCE + TIMEOUT_MS + 1;
    await checkRollout(second, meta(second), deps);
    expect(slack.last()).toContain('the Deployment could not be read for 10 min');
    expect(queue.queued).toHaveLength(0);
  });

  it('stops, without an edit, once the fix was undone: the undo follows its own rollout', async () => {
    const { slack, queue, deps, first } = await setup({ state: 'undone' });
    await checkRollout(first, meta(first), deps);
    expect(slack.edits).toHaveLength(0);
    expect(queue.queued).toHaveLength(0);
  });

  it("follows an undo's rollout without an Undo button", async () => {
    const { slack, deps } = await setup({ state: 'undone' });
    const undo = firstRolloutCheck(record, 'undo', { ...props, op: 'undo', undoId: null }, '1.7', 6);
    await checkRollout(undo, meta(undo), deps);
    expect(slack.edits[0]?.text).toContain('Fix undone on');
    expect(slack.last()).not.toContain('oom_undo');
  });

  it('when the process stops and the queue is in memory: says oomdoctor stopped following, queues nothing', async () => {
    const { slack, queue, deps, first, stopping } = await setup({ durable: false });
    stopping.abort();
    await checkRollout(first, meta(first), deps);
    expect(slack.last()).toContain('oomdoctor stopped before the rollout finished');
    expect(slack.last()).toContain('kubectl -n payments rollout status deployment/ledger');
    expect(queue.queued).toHaveLength(0);
  });

  it('when the process stops and the queue is on Redis: the next check is queued and resumes after the restart', async () => {
    const { slack, queue, deps, first, stopping } = await setup({ durable: true });
    stopping.abort();
    await checkRollout(first, meta(first), deps);
    expect(slack.last()).not.toContain('stopped');
    expect(queue.queued).toHaveLength(1);
  });

  it('a rollout that completed by the time the process stops is shown complete, not stopped', async () => {
    const { slack, deps, first, stopping, writer } = await setup({ durable: false });
    writer.obj = deployment({ observedGeneration: 5, replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    stopping.abort();
    await checkRollout(first, meta(first), deps);
    expect(slack.last()).toContain('rolled out: 3 of 3 pods updated');
  });

  it('a queue that refuses the next check: retried by the queue, and said in the message on the last attempt', async () => {
    const { slack, queue, deps, first } = await setup();
    queue.failNext.push(new QueueUnavailableError('Redis is not reachable'));
    await expect(checkRollout(first, meta(first, 1), deps)).rejects.toThrow('Redis is not reachable');
    expect(slack.last()).not.toContain('could not queue');
    queue.failNext.push(new QueueUnavailableError('Redis is not reachable'));
    await expect(checkRollout(first, meta(first, 4), deps)).rejects.toThrow('Redis is not reachable');
    expect(slack.last()).toContain(
      'oomdoctor could not queue its next check of the rollout (Redis is not reachable)',
    );
  });

  it('a failed edit does not fail the check: it is cosmetic, and the next check is queued', async () => {
    const { slack, queue, deps, first } = await setup();
    slack.failEdits = new Error('message_not_found');
    await checkRollout(first, meta(first), deps);
    await new Promise((resolve) => setImmediate(resolve));
    expect(slack.edits).toHaveLength(1);
    expect(queue.queued).toHaveLength(1);
  });

  it("carries a diff cut to the job schema's limits", async () => {
    const huge = Array.from({ length: 600 }, (_, i) => ({
      field: `args[${i}]`,
      before: 'x'.repeat(5000),
      after: 'y',
    }));
    const job = firstRolloutCheck(record, 'apply', { ...props, diff: huge }, '1.5', 5);
    const parsed = botJobSchema.parse(job);
    if (parsed.kind !== 'rollout-follow') throw new Error('wrong kind');
    expect(parsed.diff).toHaveLength(500);
    expect(parsed.diff[0]?.before).toHaveLength(1000);
  });
});

describe('a chain of checks through the in-memory queue', () => {
  const until = async (predicate: () => boolean, ms = 3000) => {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  async function chain() {
    const ctx = await setup({ durable: false });
    const queue = new MemoryJobQueue(10);
    const deps: ApplyDeps = { ...ctx.deps, queue, pollMs: 20, now: () => Date.now() };
    const first = firstRolloutCheck(record, 'apply', { ...props, at: Date.now() }, '1.5', 5);
    queue.process(1, async (job, m) => {
      if (job.kind !== 'rollout-follow') throw new Error(`unexpected ${job.kind}`);
      await checkRollout(job, m, deps);
    });
    await queue.add(first, rolloutCheckId(first));
    return { ...ctx, queue, deps };
  }

  it('follows to the end, one check per delay, and ends with the completed message', async () => {
    const { queue, slack, writer } = await chain();
    await until(() => writer.reads >= 3);
    const backlog = await queue.backlog();
    expect(backlog.waiting).toBe(0); // between checks nothing waits for a slot
    writer.obj = deployment({ observedGeneration: 5, replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    await until(() => slack.edits.some((e) => e.blocks.includes('rolled out: 3 of 3')));
    const reads = writer.reads;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(writer.reads).toBe(reads); // over: no more checks
    expect(slack.edits).toHaveLength(2); // "waiting for the controller", then "rolled out"
    await queue.close();
  });

  it('close() runs a check that was waiting, which says oomdoctor stopped following', async () => {
    const { queue, slack, writer, stopping } = await chain();
    await until(() => writer.reads >= 2);
    stopping.abort();
    await queue.close();
    expect(slack.last()).toContain('oomdoctor stopped before the rollout finished');
  });
});
