// The one place that wires the bot: configuration in, a running web and/or worker role out.
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App, CustomRoute } from '@slack/bolt';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { alertmanagerWebhook } from '../../handlers/alertmanager-webhook';
import { registerApplyActions } from '../../handlers/apply-actions';
import { healthz, readyz, type ReadinessCheck } from '../../handlers/health';
import { registerActions } from '../../handlers/slack-actions';
import { registerSlashCommand } from '../../handlers/slack-command';
import { createJobHandler, tellFailedOutsideHandler, type WorkerDeps } from '../../jobs/worker';
import type { ClusterWriter } from '../adapters/cluster-writer';
import type { ClusterReader } from '../adapters/kubernetes';
import { PrometheusSource } from '../adapters/prometheus';
import { errorCodeOf, OomdoctorError } from '../core/errors';
import { createLimiter } from '../core/limiter';
import { MemoryOutboxState, RedisOutboxState } from '../adapters/outbox-state';
import { WebSlackPoster, type SlackPoster } from '../adapters/slack';
import { webClientWire } from '../adapters/slack-wire';
import {
  GroupMembership,
  WebSlackInteractive,
  type SlackCaller,
  type SlackInteractive,
} from '../adapters/slack-interactive';
import { AuditLog } from '../apply/audit';
import type { BotConfig } from '../config/bot';
import {
  alertsAnsweredTotal,
  diagnosesTotal,
  countingFailures,
  diagnosisDurationSeconds,
  fixesTotal,
  kubernetesErrorsTotal,
  prometheusErrorsTotal,
  metricsEndpoint,
  observeQueueBacklog,
  slackCallsTotal,
  userNotificationFailuresTotal,
} from './metrics';
import {
  Readiness,
  readinessChecks,
  verifySlackAppToken,
  verifySlackToken,
  type Check,
  type SlackIdentity,
} from './readiness';
import { BullJobQueue, MemoryJobQueue, type JobQueue, type QueueTimings } from './queue';
import { MemoryStore } from './memory-store';
import { RedisStore } from './redis-store';
import type { StateStore } from './store';

/** Jobs per diagnosis slot: the others wait on Slack's rate limits, not on a diagnosis. */
const JOBS_PER_DIAGNOSIS_SLOT = 4;

export interface BotOverrides {
  logger?: Logger;
  cluster?: ClusterReader;
  slack?: SlackPoster;
  /** Queue name, so tests sharing a Redis do not see each other's jobs. */
  queueName?: string;
  queueBackoffMs?: number;
  /** How fast a dead worker's job is taken over (bull's stalledInterval and lockDuration). */
  queueStalledMs?: number;
  /** Bull's lock and stalled-check timings, over the configured ones (tests make jobs stall with them). */
  queueTimings?: QueueTimings;
  /** How long stop() waits for running jobs (default 10 s). */
  closeGraceMs?: number;
  onDiagnosisPosted?: WorkerDeps['onDiagnosisPosted'];
  /** At most one edit of a parent message per this interval (default 30 s; tests shorten it). */
  parentEditIntervalMs?: number;
  /** "Apply fix": the cluster writer, Slack's modals and user groups, how often a rollout is read (default 5 s). */
  writer?: ClusterWriter;
  interactive?: SlackInteractive;
  applyPollMs?: number;
  /** Replaces the start-up and periodic checks of Kubernetes, Prometheus and Slack. */
  readinessChecks?: Check[];
}

export interface RunningBot {
  /** Base URL of the HTTP server (webhook, Slack events in HTTP mode, health). */
  url: string;
  port: number;
  queue: JobQueue;
  store: StateStore;
  logger: Logger;
  /** The audit trail of Apply and Undo, with its counters. */
  audit: AuditLog;
  stop(): Promise<void>;
}

export async function startBot(config: BotConfig, overrides: BotOverrides = {}): Promise<RunningBot> {
  const logger =
    overrides.logger ?? pino({ level: config.logLevel, base: { app: 'oomdoctor', role: config.role } });
  const metrics = config.prometheusUrl
    ? new PrometheusSource({
        url: config.prometheusUrl,
        ...(config.prometheus ? { settings: config.prometheus } : {}),
        names: config.metricNames,
        cluster: config.prometheusCluster ?? null,
      })
    : null;
  if (!metrics)
    logger.warn(
      'PROMETHEUS_URL is not set: diagnoses will use one reading from the metrics API, without memory history',
    );
  // Where Slack's requests arrive, a token Slack refuses stops start-up with one line (Bolt would
  // otherwise crash on its own auth.test). A worker only posts: /readyz and each job say it there.
  const web = config.role === 'web' || config.role === 'all';
  const worker = config.role === 'worker' || config.role === 'all';
  let identity: SlackIdentity | null = null;
  if (web && !overrides.slack) {
    identity = await verifySlackToken(config.slack.botToken, config.slack.apiUrl);
    if (!identity.ok && identity.refused) throw new OomdoctorError('slack-refused', identity.problem);
    // Socket Mode's app-level token too: Bolt retries a refused one for ever, and nothing arrives.
    const app = config.slack.appToken
      ? await verifySlackAppToken(config.slack.appToken, config.slack.apiUrl)
      : null;
    if (app && !app.ok && app.refused) throw new OomdoctorError('slack-refused', app.problem);
    if (!identity.ok)
      logger.error(
        `${identity.problem}; starting anyway, and Slack's first request will check the token again`,
      );
  }
  const audit = await AuditLog.open(
    logger.child({ component: 'audit' }),
    config.apply.auditLogFile,
    (record) => fixesTotal.inc({ operation: record.op, outcome: record.event }),
  );
  const stopping = new AbortController();

  let queue: JobQueue;
  let store: StateStore;
  let redis: Redis | null = null;
  if (config.redisUrl) {
    redis = new Redis(config.redisUrl, {
      maxRetriesPerRequest: 2,
      enableOfflineQueue: false,
      lazyConnect: false,
    });
    redis.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis connection problem'));
    // Commands fail fast while disconnected (no offline queue), so wait for the first connection.
    const connected = await waitForRedis(redis, 5000);
    if (!connected)
      logger.error(
        { redis: config.redisUrl.replace(/\/\/[^@]*@/, '//***@') },
        'Redis is not reachable yet; /readyz reports it until it is',
      );
    store = new RedisStore(redis);
    queue = new BullJobQueue(config.redisUrl, overrides.queueName, {
      ...config.queueTimings,
      ...(overrides.queueBackoffMs ? { backoffMs: overrides.queueBackoffMs } : {}),
      ...(overrides.queueStalledMs
        ? { stalledIntervalMs: overrides.queueStalledMs, lockDurationMs: overrides.queueStalledMs }
        : {}),
      ...overrides.queueTimings,
    });
  } else {
    logger.warn(
      'REDIS_URL is not set: jobs are queued in memory, and alerts queued when the process stops are lost. Set REDIS_URL in production.',
    );
    store = new MemoryStore();
    queue = new MemoryJobQueue(overrides.queueBackoffMs ?? 2000);
  }

  // Every Slack write goes through one outbox whose budgets are shared by all processes on Redis.
  const slack =
    overrides.slack ??
    new WebSlackPoster({
      token: config.slack.botToken,
      apiUrl: config.slack.apiUrl,
      state: redis ? new RedisOutboxState(redis) : new MemoryOutboxState(),
      logger: logger.child({ component: 'slack' }),
      clientLogger: boltLoggerFrom(logger.child({ component: 'slack-client' })),
      onCall: (method, outcome) =>
        slackCallsTotal.inc({
          method,
          outcome: outcome === 'ok' ? 'ok' : outcome === 'ratelimited' ? 'rate_limited' : 'error',
        }),
    });
  const interactive =
    overrides.interactive ??
    new WebSlackInteractive(slack instanceof WebSlackPoster ? slack.outbox : directCaller(config));

  const checks: ReadinessCheck[] = [
    { name: 'queue', check: () => queue.ready() },
    { name: 'store', check: () => store.ping() },
  ];
  // Kubernetes, RBAC, Prometheus and Slack: in /readyz's body and the logs, never a reason to be unready.
  const readiness = new Readiness(
    overrides.readinessChecks ?? readinessChecks(config),
    logger.child({ component: 'readiness' }),
  );
  const routes: CustomRoute[] = [
    { path: '/healthz', method: ['GET'], handler: healthz() },
    { path: '/readyz', method: ['GET'], handler: readyz(checks, 5000, () => readiness.results()) },
    { path: '/metrics', method: ['GET'], handler: metricsEndpoint() },
  ];
  observeQueueBacklog(() => queue.backlog());
  if (web)
    routes.push({
      path: '/alertmanager',
      method: ['POST'],
      handler: alertmanagerWebhook({ config, queue, slack, logger: logger.child({ component: 'webhook' }) }),
    });

  if (worker) {
    const cluster = countingFailures(
      overrides.cluster ?? kubernetesReader(config),
      kubernetesErrorsTotal,
      errorCodeOf,
    );
    const jobDeps: WorkerDeps = {
      config,
      diagnoses: createLimiter(config.workerConcurrency),
      store,
      slack,
      queue,
      cluster,
      engine: (c) => ({
        cluster: c,
        metrics: metrics ? countingFailures(metrics, prometheusErrorsTotal, errorCodeOf) : null,
      }),
      logger: logger.child({ component: 'worker' }),
      onDiagnosisPosted: (info) => {
        diagnosesTotal.inc({ verdict: info.verdict, cause: info.cause ?? 'none' });
        diagnosisDurationSeconds.observe(info.diagnosisMs / 1000);
        alertsAnsweredTotal.inc();
        overrides.onDiagnosisPosted?.(info);
      },
      onAnswered: () => alertsAnsweredTotal.inc(),
      onUntold: (via) => userNotificationFailuresTotal.inc({ via }),
      ...(overrides.parentEditIntervalMs !== undefined
        ? { parentEditIntervalMs: overrides.parentEditIntervalMs }
        : {}),
      ...(config.apply.enabled
        ? {
            apply: {
              writer: overrides.writer ?? kubernetesWriter(config),
              interactive,
              audit,
              pollMs: overrides.applyPollMs ?? 5000,
              stopping: stopping.signal,
            },
          }
        : {}),
    };
    // WORKER_CONCURRENCY diagnoses at once; more jobs than that, so that a storm's finished
    // diagnoses waiting for their turn in Slack's rate limits never leave a diagnosis slot idle.
    queue.process(config.workerConcurrency * JOBS_PER_DIAGNOSIS_SLOT, createJobHandler(jobDeps));
    // A job bull fails itself (stalled too often) is said where its handler would have said it.
    queue.onFailedOutsideHandler(tellFailedOutsideHandler(jobDeps));
  }

  let server: Server;
  let stopSlack: () => Promise<void> = async () => undefined;
  if (web) {
    const membership = new GroupMembership(interactive);
    ({ server, stop: stopSlack } = await startSlackApp(config, {
      routes,
      logger,
      identity: identity?.ok ? identity : null,
      register: (app) => {
        registerSlashCommand(app, { config, queue, logger });
        registerActions(app, { queue, logger });
        registerApplyActions(app, {
          config,
          store,
          queue,
          slack,
          interactive,
          membership,
          audit,
          logger: logger.child({ component: 'apply' }),
        });
      },
    }));
  } else {
    // A worker still answers /healthz and /readyz, for its orchestrator's probes.
    server = createServer((req, res) => {
      const route = routes.find((r) => r.path === (req.url ?? '').split('?')[0]);
      if (route && req.method === 'GET') return route.handler(req, res);
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
    });
    await new Promise<void>((resolve) => server.listen(config.port, resolve));
  }
  if (!server.listening) await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await readiness.start();
  logger.info(
    {
      port,
      role: config.role,
      socketMode: Boolean(config.slack.appToken),
      redis: Boolean(config.redisUrl),
      prometheus: Boolean(metrics),
    },
    'oomdoctor is running',
  );

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    queue,
    store,
    logger,
    audit,
    async stop() {
      stopping.abort(); // a rollout being followed says so and lets its job end
      readiness.stop();
      await stopSlack().catch(() => undefined);
      if (server.listening) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
        server.closeAllConnections();
      }
      await queue.close(overrides.closeGraceMs);
      await store.close();
      if (redis) redis.disconnect();
    },
  };
}

/**
 * Bolt, only where Slack's requests arrive (a worker posts through the Web API client alone): over
 * HTTP, or over Socket Mode's WebSocket with Alertmanager and the probes still on HTTP.
 */
async function startSlackApp(
  config: BotConfig,
  options: {
    routes: CustomRoute[];
    logger: Logger;
    /** Who the token is, as start-up found; null when Slack could not be asked. */
    identity: { botId: string; botUserId: string } | null;
    register: (app: App) => void;
  },
): Promise<{ server: Server; stop: () => Promise<void> }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bolt = require('@slack/bolt') as typeof import('@slack/bolt');
  const logger = boltLoggerFrom(options.logger.child({ component: 'bolt' }));
  const { appToken, apiUrl } = config.slack;
  // installerOptions.clientOptions is how Socket Mode's WebSocket client learns SLACK_API_URL.
  const receiver = appToken
    ? new bolt.SocketModeReceiver({
        appToken,
        customRoutes: options.routes,
        installerOptions: { port: config.port, clientOptions: { slackApiUrl: apiUrl } },
        logger,
      })
    : new bolt.HTTPReceiver({
        signingSecret: config.slack.signingSecret as string,
        endpoints: '/slack/events',
        customRoutes: options.routes,
        logger,
        unhandledRequestTimeoutMillis: 2500,
      });
  const app = new bolt.App({
    token: config.slack.botToken,
    receiver,
    clientOptions: { slackApiUrl: apiUrl },
    logger,
    // Start-up already asked auth.test; without an answer, Bolt asks on Slack's first request
    // instead of at once, where a refusal would crash the process.
    ...(options.identity
      ? { botId: options.identity.botId, botUserId: options.identity.botUserId }
      : { tokenVerificationEnabled: false }),
  });
  options.register(app);
  const started: unknown = await app.start(config.port);
  // The HTTP receiver's start returns its server; Socket Mode's has one for the custom routes.
  const server = appToken ? (receiver as unknown as { httpServer: Server }).httpServer : (started as Server);
  return { server, stop: () => app.stop() as Promise<void> };
}

/**
 * Loaded only where jobs run: client-node alone adds about 60 MiB to a process, and a web-only
 * process never talks to the Kubernetes API.
 */
function kubernetesReader(config: BotConfig): ClusterReader {
  const { KubernetesReader, loadKubeConfig } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('../adapters/kubernetes') as typeof import('../adapters/kubernetes');
  return new KubernetesReader(
    loadKubeConfig({
      ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}),
      ...(config.kubeContext ? { context: config.kubeContext } : {}),
    }),
  );
}

/** Like the reader, loaded only where jobs run, and only when applying is enabled. */
function kubernetesWriter(config: BotConfig): ClusterWriter {
  const { KubernetesWriter } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('../adapters/kubernetes-writer') as typeof import('../adapters/kubernetes-writer');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadKubeConfig } = require('../adapters/kubernetes') as typeof import('../adapters/kubernetes');
  return new KubernetesWriter(
    loadKubeConfig({
      ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}),
      ...(config.kubeContext ? { context: config.kubeContext } : {}),
    }),
  );
}

function waitForRedis(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}

/** Bolt and the Slack SDKs log through this adapter, so everything ends up as pino JSON lines. */
function boltLoggerFrom(logger: Logger) {
  let level = 'info';
  return {
    debug: (...msg: unknown[]) => logger.debug(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => logger.info(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => logger.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => logger.error(msg.map(String).join(' ')),
    setLevel: (l: string) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  } as never;
}

/** Modals without the outbox, for tests that bring their own poster: one plain Web API client. */
function directCaller(config: BotConfig): SlackCaller {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { WebClient } = require('@slack/web-api') as typeof import('@slack/web-api');
  const client = new WebClient(config.slack.botToken, {
    slackApiUrl: config.slack.apiUrl,
    retryConfig: { retries: 0 },
  });
  return webClientWire(client);
}
