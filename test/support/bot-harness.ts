// Everything the bot talks to, on loopback: the simulated cluster (fake Kubernetes API, real
// Prometheus), the fake Slack Web API, a real Redis; and the bot itself, configured as a user would.
import { createHmac, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { startBot, type BotOverrides, type RunningBot } from '../../src/bot/app';
import { readBotConfig, type BotConfig, type Role } from '../../src/config/bot';
import { FakeSlackApi } from '../fakes/slack-api';
import { startRedis, type RunningRedis } from './redis';
import type { ScenarioSpec } from './scenarios';
import { freePort } from './services';
import { startSimulatedCluster, type SimulatedCluster } from './simulated-cluster';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const ALERTMANAGER_TOKEN = 'test-alertmanager-token-0123456789';
export const ALERT_CHANNEL = 'C0ALERTS';

export interface Services {
  cluster: SimulatedCluster;
  slack: FakeSlackApi;
  redis: RunningRedis | null;
  stop(): Promise<void>;
}

export async function startServices(
  specs: ScenarioSpec[],
  options: { redis?: boolean; scrapeMs?: number; keepLabels?: string[] } = {},
): Promise<Services> {
  const [cluster, slack, redis] = await Promise.all([
    startSimulatedCluster({
      specs,
      ...(options.scrapeMs ? { scrapeMs: options.scrapeMs } : {}),
      ...(options.keepLabels ? { keepLabels: options.keepLabels } : {}),
    }),
    FakeSlackApi.start(),
    options.redis === false ? Promise.resolve(null) : startRedis(),
  ]);
  slack.addChannel({ id: ALERT_CHANNEL, name: 'oom-alerts', members: ['U0BOT'] });
  slack.addChannel({ id: 'C0TEAM', name: 'team', members: ['U0BOT'] });
  slack.addChannel({ id: 'C0PUBLIC', name: 'public-not-joined', members: [] });
  slack.addChannel({ id: 'G0PRIVATE', name: 'private', is_private: true, members: [] });
  slack.addUser({ id: 'U0ALICE', name: 'alice', tz: 'Europe/Berlin' });
  return {
    cluster,
    slack,
    redis,
    async stop() {
      await Promise.all([cluster.stop(), slack.stop(), redis?.stop()]);
    },
  };
}

export function botEnvironment(services: Services, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_ALERT_CHANNEL: ALERT_CHANNEL,
    SLACK_API_URL: services.slack.url,
    ALERTMANAGER_TOKEN,
    PROMETHEUS_URL: services.cluster.prometheus.url,
    KUBECONFIG: services.cluster.kubeconfigPath,
    CLUSTER_NAME: 'prod-eu',
    LOG_LEVEL: 'silent',
    ...(services.redis ? { REDIS_URL: services.redis.url } : {}),
    ...extra,
  };
}

export async function startTestBot(
  services: Services,
  options: { env?: Record<string, string>; role?: Role; overrides?: BotOverrides } = {},
): Promise<{ bot: RunningBot; config: BotConfig }> {
  const port = await freePort();
  const config = readBotConfig(
    botEnvironment(services, { PORT: String(port), ...options.env }),
    options.role ?? 'all',
  );
  const bot = await startBot(config, {
    logger: pino({ level: 'silent' }),
    queueName: `test-${randomUUID()}`,
    queueBackoffMs: 200,
    // Parents are edited at most every 30 s in production; tests read them sooner.
    parentEditIntervalMs: 300,
    ...options.overrides,
  });
  return { bot, config };
}

/** A request signed the way Slack signs it: v0=HMAC-SHA256("v0:<timestamp>:<body>"). */
export function slackSignature(body: string, timestamp: number, secret = SIGNING_SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export async function postToSlackEndpoint(
  url: string,
  form: Record<string, string>,
  options: { secret?: string; timestamp?: number } = {},
): Promise<Response> {
  const body = new URLSearchParams(form).toString();
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return fetch(`${url}/slack/events`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': slackSignature(body, timestamp, options.secret),
    },
    body,
  });
}

/** A slash command body, with the fields the real capture in test/fixtures/real has. */
export function slashCommand(
  text: string,
  overrides: Record<string, string> = {},
  responseUrl = 'http://127.0.0.1:9/unused',
): Record<string, string> {
  return {
    token: 'unused-legacy-token',
    team_id: 'T0001',
    team_domain: 'example',
    channel_id: 'C0TEAM',
    channel_name: 'team',
    user_id: 'U0ALICE',
    user_name: 'alice',
    command: '/oom',
    text,
    api_app_id: 'A0TEST',
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: `${Date.now()}.${Math.floor(Math.random() * 1e9)}.abcdef`,
    ...overrides,
  };
}

/** An alert as a kube-state-metrics rule would fire it, in Alertmanager's API v2 form. */
export function oomAlert(
  target: { namespace: string; pod: string; container: string },
  extraLabels: Record<string, string> = {},
): Record<string, unknown> {
  return {
    labels: {
      alertname: 'ContainerOOMKilled',
      namespace: target.namespace,
      pod: target.pod,
      container: target.container,
      severity: 'warning',
      cluster: 'prod-eu',
      ...extraLabels,
    },
    annotations: {
      summary: `Container ${target.container} in ${target.namespace}/${target.pod} was OOMKilled`,
    },
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    generatorURL: 'http://prometheus.example/graph',
  };
}

/**
 * One Alertmanager webhook delivery of firing alerts (API v4 body) to the bot, answered 200. Each
 * alert gets a fingerprint from the group key and its place, unless it has one.
 */
export async function sendFiringGroup(
  botUrl: string,
  groupKey: string,
  alerts: Array<Record<string, unknown>>,
): Promise<void> {
  const response = await fetch(`${botUrl}/alertmanager`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ALERTMANAGER_TOKEN}` },
    body: JSON.stringify({
      version: '4',
      groupKey,
      status: 'firing',
      receiver: 'oomdoctor',
      groupLabels: {},
      commonLabels: commonLabels(alerts.map((a) => (a.labels ?? {}) as Record<string, string>)),
      commonAnnotations: {},
      externalURL: 'http://alertmanager.example',
      truncatedAlerts: 0,
      alerts: alerts.map((a, i) => ({
        fingerprint: `${groupKey}-${i}`,
        ...a,
        status: 'firing',
        endsAt: '0001-01-01T00:00:00Z',
      })),
    }),
  });
  if (response.status !== 200)
    throw new Error(`the webhook answered ${response.status}: ${await response.text()}`);
}

/** The labels every alert shares, with the same value: Alertmanager's commonLabels. */
function commonLabels(labelSets: Array<Record<string, string>>): Record<string, string> {
  const [first = {}, ...rest] = labelSets;
  return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every((l) => l[k] === v)));
}

/** Stands in for a slash command's response_url: records what the bot answers through it. */
export async function startResponseUrl(): Promise<{
  url: string;
  received: Array<{ text: string; response_type?: string; blocks?: unknown[] }>;
  stop(): void;
}> {
  const received: Array<{ text: string; response_type?: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/commands/T0001/1/abc`,
    received,
    stop: () => server.close(),
  };
}

/** A block_actions payload for a button press, shaped like Slack's documented example (test/fixtures/real). */
export function buttonPress(options: {
  actionId: string;
  value: string;
  channel: string;
  messageTs: string;
  threadTs?: string;
  userId?: string;
  responseUrl?: string;
}): Record<string, string> {
  const payload = {
    type: 'block_actions',
    team: { id: 'T0001', domain: 'example' },
    user: { id: options.userId ?? 'U0ALICE', username: 'alice', team_id: 'T0001' },
    api_app_id: 'A0TEST',
    token: 'unused-legacy-token',
    container: {
      type: 'message',
      message_ts: options.messageTs,
      channel_id: options.channel,
      is_ephemeral: false,
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
    },
    trigger_id: `${Date.now()}.1.${Math.random().toString(16).slice(2)}`,
    channel: { id: options.channel, name: 'channel' },
    message: {
      type: 'message',
      user: 'U0BOT',
      text: 'diagnosis',
      ts: options.messageTs,
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
    },
    response_url: options.responseUrl ?? 'http://127.0.0.1:9/unused',
    actions: [
      {
        action_id: options.actionId,
        block_id: 'actions',
        text: { type: 'plain_text', text: 'Button', emoji: true },
        value: options.value,
        type: 'button',
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  return { payload: JSON.stringify(payload) };
}
