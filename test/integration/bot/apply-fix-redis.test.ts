// "Apply fix" across processes: a web role that answers Slack and a worker role that talks to
// Kubernetes, sharing one real Redis (bull's queue and the RedisStore). Two people confirming at once
// still make one change; the suggestion's claim is held in Redis.
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { RunningBot } from '../../../src/bot/app';
import { addApplyPeople, applyDriver, applySpec } from '../../support/apply-driver';
import { startServices, startTestBot, type Services } from '../../support/bot-harness';

jest.setTimeout(30_000);

let services: Services;
let web: RunningBot;
let worker: RunningBot;
const audit: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  services = await startServices([applySpec('api-split')], { redis: true });
  addApplyPeople(services);
  const env = {
    APPLY_ENABLED: 'true',
    APPLY_NAMESPACES: 'shop',
    APPLY_ALLOWED_USERS: 'U0ALICE',
    APPLY_ALLOWED_GROUPS: 'S0ONCALL',
  };
  const queueName = `apply-${randomUUID()}`;
  const logger = (role: string) =>
    pino(
      { level: 'info', base: { role } },
      { write: (line: string) => audit.push(JSON.parse(line) as Record<string, unknown>) },
    );
  ({ bot: web } = await startTestBot(services, {
    role: 'web',
    env,
    overrides: { queueName, logger: logger('web') },
  }));
  ({ bot: worker } = await startTestBot(services, {
    role: 'worker',
    env,
    overrides: { queueName, logger: logger('worker'), applyPollMs: 40 },
  }));
});

afterAll(async () => {
  await web?.stop();
  await worker?.stop();
  await services?.stop();
});

const { diagnose, buttonOf, press, modalAfterChecks, submit, patches, texts, threadOf } = applyDriver({
  services: () => services,
  bot: () => web,
});

it('the web role opens the modal, the worker checks, dry-runs and applies; two people at once make one change', async () => {
  const reply = await diagnose('api-split');
  const apply = buttonOf(reply, 'oom_apply');
  expect(apply).toBeDefined();
  const alice = await modalAfterChecks((await press('oom_apply', apply!.value, reply, 'U0ALICE')).triggerId);
  const bob = await modalAfterChecks((await press('oom_apply', apply!.value, reply, 'U0BOB')).triggerId);
  expect(JSON.stringify(alice.view.blocks)).toContain('`limits.memory`: `512Mi` → `768Mi`');
  expect(patches('api-split', true)).toHaveLength(2);

  const [a, b] = await Promise.all([submit(alice), submit(bob, 'U0BOB')]);
  expect(a.body.response_action).toBe('update');
  expect(b.body.response_action).toBe('update');
  await services.slack.waitFor(() => audit.some((l) => l.audit === true && l.code === 'duplicate'), 15_000);
  await services.slack.waitFor(
    () => threadOf(reply).some((m) => texts(m).includes('applied the fix to')),
    10_000,
  );
  expect(patches('api-split', false)).toHaveLength(1);
  expect(
    (services.cluster.kube.get('Deployment', 'shop', 'api-split') as Record<string, any>).spec.template.spec
      .containers[0].resources.limits.memory,
  ).toBe('768Mi');
  // Audit lines come from both roles: the press in web, the change in the worker.
  await services.slack.waitFor(() => audit.some((l) => l.audit === true && l.event === 'applied'), 10_000);
  const lines = audit.filter((l) => l.audit === true);
  expect(lines.filter((l) => l.event === 'requested').every((l) => l.role === 'web')).toBe(true);
  expect(lines.find((l) => l.event === 'applied')?.role).toBe('worker');
  expect((await worker.store.getSuggestion(apply!.value))?.state).toBe('applied');
});
