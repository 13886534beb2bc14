// A rollout followed after Apply, on a real Redis: a chain of short delayed jobs (one read and at
// most one edit each) ending with the completed message, never a worker slot held between checks:
// with one worker slot, a /oom diagnosis runs and answers while the rollout is being followed.
// A check waiting in Redis when the bot stops resumes when a bot starts again.
import { randomUUID } from 'node:crypto';
import Bull from 'bull';
import type { RunningBot } from '../../../src/bot/app';
import type { BotJob } from '../../../src/bot/jobs';
import { addApplyPeople, applyDriver, applySpec } from '../../support/apply-driver';
import { startServices, startTestBot, type Services } from '../../support/bot-harness';

jest.setTimeout(60_000);

const POLL_MS = 150;
const ENV = {
  APPLY_ENABLED: 'true',
  APPLY_NAMESPACES: 'shop',
  APPLY_ALLOWED_USERS: 'U0ALICE',
  WORKER_CONCURRENCY: '1',
};

let services: Services;
let bot: RunningBot;
let queueName: string;
let jobs: Bull.Queue<BotJob>;

beforeAll(async () => {
  services = await startServices([applySpec('api-roll'), applySpec('api-other'), applySpec('api-resume')], {
    redis: true,
  });
  addApplyPeople(services);
  queueName = `rollout-${randomUUID()}`;
  ({ bot } = await startTestBot(services, { env: ENV, overrides: { queueName, applyPollMs: POLL_MS } }));
  // The same queue, read straight from Redis: what was queued, with which delay and priority.
  jobs = new Bull<BotJob>(queueName, services.redis!.url);
});

afterAll(async () => {
  await jobs?.close();
  await bot?.stop();
  await services?.stop();
});

const { diagnose, buttonOf, press, modalAfterChecks, submit, texts, threadOf } = applyDriver({
  services: () => services,
  bot: () => bot,
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const deployment = (name: string) =>
  services.cluster.kube.get('Deployment', 'shop', name) as Record<string, any>;

/** The rollout checks of one workload's change, as bull holds them, oldest first. */
async function checksOf(name: string, states: Bull.JobStatus[]): Promise<Array<Bull.Job<BotJob>>> {
  const all = await jobs.getJobs(states);
  return all
    .filter((j) => j?.data.kind === 'rollout-follow' && j.data.workload.name === name)
    .sort((a, b) => (a.data as { check: number }).check - (b.data as { check: number }).check);
}

/** Applies the fix for `app` as Alice and returns a reader of the message that follows the rollout. */
async function applyFix(app: string) {
  const reply = await diagnose(app);
  const apply = buttonOf(reply, 'oom_apply');
  expect(apply).toBeDefined();
  const modal = await modalAfterChecks((await press('oom_apply', apply!.value, reply)).triggerId);
  await submit(modal);
  const rolloutMessage = () => threadOf(reply).find((m) => texts(m).includes('applied the fix to'));
  await services.slack.waitFor(
    () => texts(rolloutMessage()).includes('waiting for the Deployment controller'),
    15_000,
  );
  return rolloutMessage;
}

const completeRollout = (name: string) =>
  services.cluster.kube.setStatus('Deployment', 'shop', name, {
    observedGeneration: deployment(name).metadata.generation,
    replicas: 3,
    updatedReplicas: 3,
    availableReplicas: 3,
  });

it('follows the rollout as a chain of delayed jobs, and a diagnosis runs in between on the one worker slot', async () => {
  const rolloutMessage = await applyFix('api-roll');

  // The rollout is still going (the controller has not picked the change up): a diagnosis asked now
  // is answered, although the only worker slot has a rollout to follow.
  const asked = Date.now();
  await diagnose('api-other');
  const answered = Date.now();
  expect(texts(rolloutMessage())).toContain('waiting for the Deployment controller');
  expect(texts(rolloutMessage())).not.toContain('rolled out');

  // Checks ran before and after the diagnosis: the slot was taken for each check, never held.
  await sleep(POLL_MS * 3);
  const done = await checksOf('api-roll', ['completed']);
  expect(done.some((j) => (j.finishedOn ?? 0) < asked)).toBe(true);
  expect(done.some((j) => (j.processedOn ?? 0) > answered)).toBe(true);
  // Each check after the first was queued with the delay, at background priority, numbered in turn.
  expect(done.map((j) => (j.data as { check: number }).check)).toEqual(done.map((_, i) => i + 1));
  expect(done.slice(1).every((j) => j.opts.delay === POLL_MS)).toBe(true);
  expect(done.every((j) => j.opts.priority === 3)).toBe(true);
  // Between checks, the next one waits in Redis as a delayed job, not in a worker.
  await until(async () => (await checksOf('api-roll', ['delayed'])).length === 1, 'a delayed check');

  completeRollout('api-roll');
  await services.slack.waitFor(
    () => texts(rolloutMessage()).includes('rolled out: 3 of 3 pods updated and available'),
    10_000,
  );
  // The chain ended: nothing more queued, nothing more run.
  await sleep(POLL_MS * 3);
  expect(await checksOf('api-roll', ['delayed', 'waiting', 'active'])).toHaveLength(0);
  const finished = (await checksOf('api-roll', ['completed'])).length;
  await sleep(POLL_MS * 3);
  expect(await checksOf('api-roll', ['completed'])).toHaveLength(finished);
  // One message followed it all.
  expect(services.slack.messages.filter((m) => texts(m).includes('applied the fix to'))).toHaveLength(1);
});

it('a check waiting in Redis when the bot stops resumes when a bot starts again', async () => {
  const rolloutMessage = await applyFix('api-resume');
  await bot.stop();
  const waiting = await checksOf('api-resume', ['delayed', 'waiting']);
  expect(waiting).toHaveLength(1);
  expect(texts(rolloutMessage())).not.toContain('stopped');

  completeRollout('api-resume');
  ({ bot } = await startTestBot(services, { env: ENV, overrides: { queueName, applyPollMs: POLL_MS } }));
  await services.slack.waitFor(
    () => texts(rolloutMessage()).includes('rolled out: 3 of 3 pods updated and available'),
    10_000,
  );
});
