// In a storm the people still get their answers: while a storm's replies wait their turn in the
// alert channel (Slack allows about one post a second per channel, and the fake enforces it), an
// /oom is answered and an Apply press opens its modal within Slack's 3 s trigger lifetime (the fake
// refuses an older trigger_id with expired_trigger_id). Real Redis, so bull's priorities are the ones
// in play.
import type { RunningBot } from '../../../src/bot/app';
import type { FakeMessage } from '../../fakes/slack-api';
import { addApplyPeople, APPLY_CHANNEL, applyDriver, applySpec } from '../../support/apply-driver';
import {
  ALERT_CHANNEL,
  oomAlert,
  postToSlackEndpoint,
  sendFiringGroup,
  slashCommand,
  startServices,
  startTestBot,
  type Services,
} from '../../support/bot-harness';
import { demoSpecs, type ScenarioSpec } from '../../support/scenarios';

jest.setTimeout(90_000);

/** Workloads in the storm, each in its own namespace: a parent or a storm line, and a reply each. */
const STORM_WORKLOADS = 24;

let services: Services;
let bot: RunningBot;

const stormSpecs = (): ScenarioSpec[] => {
  const base = demoSpecs().filter((s) => s.ending === 'oom');
  return Array.from({ length: STORM_WORKLOADS }, (_, i) => {
    const spec = base[i % base.length] as ScenarioSpec;
    return { ...spec, id: `storm-${i}`, app: `storm-${i}`, namespace: `team-${i}` };
  });
};

beforeAll(async () => {
  services = await startServices([applySpec('api-happy'), applySpec('api-other'), ...stormSpecs()]);
  addApplyPeople(services);
  ({ bot } = await startTestBot(services, {
    env: { APPLY_ENABLED: 'true', APPLY_NAMESPACES: 'shop', APPLY_ALLOWED_USERS: 'U0ALICE' },
    overrides: { closeGraceMs: 500 },
  }));
});

afterAll(async () => {
  await bot?.stop();
  await services?.stop();
});

const driver = applyDriver({ services: () => services, bot: () => bot });
const stormReplies = () =>
  services.slack.messages.filter(
    (m) => m.channel === ALERT_CHANNEL && m.thread_ts && JSON.stringify(m.blocks ?? []).includes('storm-'),
  );

it('while a storm is queued, /oom is answered and Apply opens its modal within 3 s', async () => {
  // A diagnosis to press Apply on, made before the storm.
  const diagnosed: FakeMessage = await driver.diagnose('api-happy');
  const apply = driver.buttonOf(diagnosed, 'oom_apply');
  expect(apply).toBeDefined();

  // The storm: every workload's pod, one Alertmanager group per pod (the flood case).
  for (const scenario of services.cluster.scenarios.filter((s) => s.spec.app.startsWith('storm-')))
    await sendFiringGroup(bot.url, `{}:{pod="${scenario.target.pod}"}`, [oomAlert(scenario.target)]);
  // Its replies are paced at about one a second in the alert channel: wait until it is under way.
  await services.slack.waitFor(() => stormReplies().length >= 2, 30_000);

  // An /oom from a person, in their own channel.
  const other = driver.scenario('api-other').target;
  const asked = Date.now();
  const ack = await postToSlackEndpoint(
    bot.url,
    slashCommand(`${other.namespace}/${other.pod}`, { channel_id: APPLY_CHANNEL }),
  );
  expect(ack.status).toBe(200);
  const answered = () =>
    services.slack.messages.some(
      (m) =>
        m.channel === APPLY_CHANNEL &&
        m.thread_ts &&
        JSON.stringify(m.blocks ?? []).includes(other.pod) &&
        JSON.stringify(m.blocks ?? []).includes('oom_rerun'),
    );
  await services.slack.waitFor(answered, 20_000);
  const repliesWhenAnswered = stormReplies().length;

  // Apply pressed in the middle of the storm: the modal opens on a trigger the fake has not expired.
  const pressed = await driver.press('oom_apply', apply!.value, diagnosed);
  expect(pressed.status).toBe(200);
  const modal = await driver.modalAfterChecks(pressed.triggerId);
  const opened = services.slack.callsTo('views.open').filter((c) => c.args.trigger_id === pressed.triggerId);
  expect(opened.map((c) => c.status)).toEqual([200]);
  expect(services.slack.stats().callsByMethod['views.open']).toBe(1);
  expect(modal.view.submit?.text).toBe('Apply');

  // Both were served while the storm's replies were still going out, not after them.
  expect(repliesWhenAnswered).toBeLessThan(STORM_WORKLOADS);
  console.log(
    `/oom answered ${((Date.now() - asked) / 1000).toFixed(1)} s after it was asked (incl. Apply), with ${repliesWhenAnswered} of ${STORM_WORKLOADS} storm replies out`,
  );
  // And the storm itself still ends with every workload answered once.
  await services.slack.waitFor(() => stormReplies().length >= STORM_WORKLOADS, 60_000);
  const perWorkload = stormSpecs().map(
    (s) => stormReplies().filter((m) => JSON.stringify(m.blocks).includes(`${s.app}-`)).length,
  );
  expect(perWorkload.every((n) => n === 1)).toBe(true);
});
