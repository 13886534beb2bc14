// Driving "Apply fix" as Slack does, for the end-to-end tests: /oom to get a diagnosis, correctly
// signed block_actions and view_submission payloads (form-encoded, one field `payload` holding JSON),
// and what the fakes saw.
import type { RunningBot } from '../../src/bot/app';
import type { FakeMessage } from '../fakes/slack-api';
import { postToSlackEndpoint, slashCommand, type Services } from './bot-harness';
import { demoSpecs, type ScenarioSpec } from './scenarios';

export const APPLY_CHANNEL = 'C0APPLY';
const base = demoSpecs()[0] as ScenarioSpec; // a plateau just under a 512Mi limit: raise the limit

/** A scenario like the demo's "limit too small", for its own workload. */
export const applySpec = (
  app: string,
  namespace = 'shop',
  workloadKind: ScenarioSpec['workloadKind'] = 'Deployment',
): ScenarioSpec => ({ ...base, id: app, app, namespace, sidecar: false, workloadKind });

/** The people of the tests, and a channel they are all in (ephemerals need membership). */
export function addApplyPeople(services: Services): void {
  services.slack.addUser({ id: 'U0BOB', name: 'bob', groups: ['S0ONCALL'] });
  services.slack.addUser({ id: 'U0MALLORY', name: 'mallory' });
  services.slack.addChannel({
    id: APPLY_CHANNEL,
    name: 'apply',
    members: ['U0BOT', 'U0ALICE', 'U0BOB', 'U0MALLORY'],
  });
}

export interface OpenedView {
  id: string;
  view: Record<string, any>;
}

export function applyDriver(ctx: { services: () => Services; bot: () => RunningBot }) {
  const CHANNEL = APPLY_CHANNEL;
  const scenario = (app: string) => {
    const s = ctx.services().cluster.scenarios.find((x) => x.spec.app === app);
    if (!s) throw new Error(`no scenario ${app}`);
    return s;
  };

  /** Runs /oom on the app's pod and waits for the diagnosis reply. */
  async function diagnose(app: string, where = CHANNEL): Promise<FakeMessage> {
    const { namespace, pod } = scenario(app).target;
    const response = await postToSlackEndpoint(
      ctx.bot().url,
      slashCommand(`${namespace}/${pod}`, { channel_id: where, user_id: 'U0ALICE' }),
    );
    expect(response.status).toBe(200);
    const isReply = (m: FakeMessage) =>
      m.channel === where &&
      m.thread_ts !== undefined &&
      JSON.stringify(m.blocks ?? []).includes('oom_rerun') &&
      JSON.stringify(m.blocks ?? []).includes(pod) &&
      !JSON.stringify(m.blocks).includes('Could not diagnose');
    await ctx.services().slack.waitFor(() => ctx.services().slack.messages.some(isReply), 15_000);
    return ctx.services().slack.messages.find(isReply) as FakeMessage;
  }

  function buttonOf(message: FakeMessage | undefined, actionId: string): { value: string } | undefined {
    for (const block of (message?.blocks ?? []) as Array<{
      type: string;
      elements?: Array<{ action_id?: string; value?: string }>;
    }>) {
      const found = block.elements?.find((e) => e.action_id === actionId);
      if (found) return { value: String(found.value) };
    }
    return undefined;
  }

  let triggers = 0;
  function user(id: string) {
    const name = { U0ALICE: 'alice', U0BOB: 'bob', U0MALLORY: 'mallory' }[id] ?? 'someone';
    return { id, username: name, name, team_id: 'T0001' };
  }

  /** A block_actions payload for a button in a message, shaped like Slack's (see the real fixture). */
  async function press(
    actionId: string,
    value: string,
    message: FakeMessage,
    userId = 'U0ALICE',
  ): Promise<{ status: number; triggerId: string }> {
    const triggerId = `${Date.now()}.${++triggers}.d8c1bb837935619ccad0f624c448ffb3`;
    const payload = {
      type: 'block_actions',
      team: { id: 'T0001', domain: 'example' },
      user: user(userId),
      api_app_id: 'A0TEST',
      token: 'unused-legacy-token',
      container: {
        type: 'message',
        message_ts: message.ts,
        channel_id: message.channel,
        is_ephemeral: false,
        thread_ts: message.thread_ts,
      },
      trigger_id: triggerId,
      channel: { id: message.channel, name: 'apply' },
      message: {
        bot_id: 'B0BOT',
        type: 'message',
        text: message.text,
        user: 'U0BOT',
        ts: message.ts,
        thread_ts: message.thread_ts,
        blocks: message.blocks,
      },
      response_url: 'http://127.0.0.1:9/actions/unused',
      actions: [
        {
          action_id: actionId,
          block_id: 'b1',
          text: { type: 'plain_text', text: 'Apply fix', emoji: true },
          value,
          type: 'button',
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    };
    const response = await postToSlackEndpoint(ctx.bot().url, { payload: JSON.stringify(payload) });
    return { status: response.status, triggerId };
  }

  /**
   * The modal opened for a trigger, once the bot has updated it after its checks: the first
   * views.update after that views.open naming a view no earlier update named (views.open's answer,
   * with the id, is not among the recorded calls).
   */
  async function modalAfterChecks(triggerId: string): Promise<OpenedView> {
    const slack = ctx.services().slack;
    await slack.waitFor(() => slack.callsTo('views.open').some((c) => c.args.trigger_id === triggerId), 5000);
    const index = slack.calls.findIndex((c) => c.method === 'views.open' && c.args.trigger_id === triggerId);
    const seen = new Set(
      slack.calls
        .slice(0, index)
        .filter((c) => c.method === 'views.update')
        .map((c) => c.args.view_id),
    );
    const first = () =>
      slack.calls.slice(index + 1).find((c) => c.method === 'views.update' && !seen.has(c.args.view_id));
    await slack.waitFor(() => first() !== undefined, 10_000);
    const update = first() as { args: Record<string, any> };
    return { id: String(update.args.view_id), view: update.args.view as Record<string, any> };
  }

  /** A view_submission payload for the modal, per Slack's docs. */
  async function submit(opened: OpenedView, userId = 'U0ALICE'): Promise<{ status: number; body: any }> {
    const payload = {
      type: 'view_submission',
      team: { id: 'T0001', domain: 'example' },
      user: user(userId),
      api_app_id: 'A0TEST',
      token: 'unused-legacy-token',
      trigger_id: `${Date.now()}.${++triggers}.submit`,
      view: {
        id: opened.id,
        team_id: 'T0001',
        type: 'modal',
        blocks: opened.view.blocks,
        private_metadata: opened.view.private_metadata ?? '',
        callback_id: opened.view.callback_id,
        state: { values: {} },
        hash: '1700000000.abcdef12',
        title: opened.view.title,
        close: opened.view.close,
        submit: opened.view.submit,
        previous_view_id: null,
        root_view_id: opened.id,
        app_id: 'A0TEST',
        external_id: '',
        app_installed_team_id: 'T0001',
        bot_id: 'B0BOT',
      },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    const response = await postToSlackEndpoint(ctx.bot().url, { payload: JSON.stringify(payload) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  const patches = (name: string, dryRun: boolean, resource = 'deployments') =>
    ctx
      .services()
      .cluster.kube.requests.filter(
        (r) =>
          r.method === 'PATCH' &&
          r.path.endsWith(`/${resource}/${name}`) &&
          (r.query.dryRun === 'All') === dryRun,
      );
  const texts = (message: { blocks?: unknown[] } | undefined) => JSON.stringify(message?.blocks ?? []);
  const threadOf = (reply: FakeMessage) =>
    ctx.services().slack.thread(reply.channel, reply.thread_ts as string);

  return { scenario, diagnose, buttonOf, press, modalAfterChecks, submit, patches, texts, threadOf };
}
