// What this role needs besides Redis, checked at start-up and then every few minutes (never on every
// probe): the Kubernetes API and the bot's RBAC (roles that run jobs), Prometheus answering each
// metric the engine reads, and the Slack token with the alert channel. Results go to /readyz's JSON
// body, to the logs (each problem at error level, once per change), and to the readiness gauge; they
// never make a pod unready, since a web or `all` pod that is unready cannot even say why in Slack.
import type { Logger } from 'pino';
import { PrometheusHttp } from '../adapters/prometheus-http';
import { METRIC_NAME_VARIABLES } from '../config/metric-names';
import { asOomdoctorError } from '../core/errors';
import { MINUTE_MS } from '../core/time';
import type { BotConfig } from '../config/bot';
import { readinessCheckUp } from './metrics';

export type CheckName = 'kubernetes' | 'prometheus' | 'slack';

export interface CheckResult {
  ok: boolean;
  /** One line per problem, each with what to do. */
  problems: string[];
  checkedAt: string;
}

export interface Check {
  name: CheckName;
  /** The problems found, none when all is well. */
  run: () => Promise<string[]>;
}

/** Runs the checks at start and every `intervalMs`; the latest results are always at hand. */
export class Readiness {
  private readonly latest = new Map<CheckName, CheckResult>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly checks: Check[],
    private readonly logger: Logger,
    private readonly intervalMs = 5 * MINUTE_MS,
    private readonly timeoutMs = 20_000,
  ) {}

  /** The first round, awaited so start-up logs what is wrong before saying it is running. */
  async start(): Promise<void> {
    await this.runAll();
    this.timer = setInterval(() => void this.runAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  results(): Partial<Record<CheckName, CheckResult>> {
    return Object.fromEntries(this.latest);
  }

  async runAll(): Promise<void> {
    await Promise.all(this.checks.map((check) => this.runOne(check)));
  }

  private async runOne(check: Check): Promise<void> {
    let problems: string[];
    try {
      problems = await withTimeout(
        check.run(),
        this.timeoutMs,
        `the ${check.name} check took longer than ${this.timeoutMs / 1000} s`,
      );
    } catch (error) {
      problems = [asOomdoctorError(error).sentence];
    }
    const previous = this.latest.get(check.name);
    const result: CheckResult = { ok: problems.length === 0, problems, checkedAt: new Date().toISOString() };
    this.latest.set(check.name, result);
    readinessCheckUp.set({ check: check.name }, result.ok ? 1 : 0);
    // Logged when it changes, so a problem is one line per change rather than one every interval.
    if (previous && previous.problems.join('\n') === problems.join('\n')) return;
    for (const problem of problems) this.logger.error({ check: check.name }, problem);
    if (result.ok && previous && !previous.ok)
      this.logger.info({ check: check.name }, `${check.name} check passes again`);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
      timer.unref(); // a check still running never holds a stopping process
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The checks for a role. The web role gets no Kubernetes check and so loads no Kubernetes client. */
export function readinessChecks(config: BotConfig, options: { slackApiUrl?: string } = {}): Check[] {
  const checks: Check[] = [{ name: 'slack', run: () => checkSlack(config, options.slackApiUrl) }];
  if (config.prometheus) {
    const http = new PrometheusHttp(config.prometheus, { retries: 0 });
    checks.push({ name: 'prometheus', run: () => checkPrometheus(http, config) });
  }
  if (config.role !== 'web') checks.push({ name: 'kubernetes', run: () => checkKubernetes(config) });
  return checks;
}

async function checkKubernetes(config: BotConfig): Promise<string[]> {
  const { checkKubernetesAccess } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('../adapters/kubernetes-access') as typeof import('../adapters/kubernetes-access');
  return checkKubernetesAccess({
    ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}),
    ...(config.kubeContext ? { context: config.kubeContext } : {}),
    namespaces: config.namespaces,
  });
}

/**
 * One cheap instant query per metric name (`count(name)`), then whether the working set carries the
 * namespace, pod and container labels; a missing one names the setting to change.
 */
export async function checkPrometheus(http: PrometheusHttp, config: BotConfig): Promise<string[]> {
  const names = config.metricNames;
  const count = async (query: string): Promise<number> => {
    const { body } = await http.postForm('/api/v1/query', new URLSearchParams({ query }));
    const result = (body as { data?: { result?: Array<{ value?: [number, string] }> } }).data?.result ?? [];
    return Number(result[0]?.value?.[1] ?? 0);
  };
  const metrics = (['workingSet', 'limits', 'requests', 'restarts', 'oomEvents', 'startTime'] as const).map(
    (key) => ({ key, name: names[key] }),
  );
  const problems: string[] = [];
  try {
    const counts = await Promise.all(metrics.map((m) => count(`count(${m.name})`)));
    metrics.forEach((m, i) => {
      if (counts[i] === 0)
        problems.push(
          `Prometheus at ${http.url} has no series named ${m.name}: if your setup names it differently, set ${METRIC_NAME_VARIABLES[m.key]}`,
        );
    });
    if (counts[0] !== 0) {
      const labels = [
        [names.namespaceLabel, 'namespaceLabel'],
        [names.podLabel, 'podLabel'],
        [names.containerLabel, 'containerLabel'],
      ] as const;
      const labelled = await Promise.all(
        labels.map(([label]) => count(`count(${names.workingSet}{${label}!=""})`)),
      );
      labels.forEach(([label, key], i) => {
        if (labelled[i] === 0)
          problems.push(
            `Prometheus' ${names.workingSet} has no "${label}" label: if your setup relabels it, set ${METRIC_NAME_VARIABLES[key]}`,
          );
      });
    }
  } catch (error) {
    problems.push(asOomdoctorError(error).sentence);
  }
  return problems;
}

/**
 * The checks' Slack clients say nothing themselves: what fails is returned as a problem and logged
 * once as JSON by the caller, not as the client's plain-text warnings.
 */
const quietLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => 'error',
  setName: () => undefined,
} as never;

/** Who the token belongs to, or why Slack would not say (`refused`: the token itself is bad). */
export type SlackIdentity =
  { ok: true; botId: string; botUserId: string } | { ok: false; refused: boolean; problem: string };

const REFUSED_TOKEN_CODES = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'account_inactive']);

/** auth.test with a plain client: no retries (a check that fails says so now), not the shared outbox. */
export async function verifySlackToken(token: string, apiUrl: string): Promise<SlackIdentity> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { WebClient } = require('@slack/web-api') as typeof import('@slack/web-api');
  const client = new WebClient(token, {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
    logger: quietLogger,
  });
  try {
    const result = await client.auth.test();
    return { ok: true, botId: result.bot_id ?? '', botUserId: result.user_id ?? '' };
  } catch (error) {
    const code = slackErrorCode(error);
    return REFUSED_TOKEN_CODES.has(code)
      ? {
          ok: false,
          refused: true,
          problem: `Slack refused SLACK_BOT_TOKEN (${code}): copy the bot token (xoxb-…) again from the app's "OAuth & Permissions" page, or reinstall the app to the workspace if it was revoked`,
        }
      : {
          ok: false,
          refused: false,
          problem: `cannot reach Slack at ${apiUrl} (${code}): check the network path to Slack (or SLACK_API_URL)`,
        };
  }
}

/**
 * The app-level token Socket Mode connects with (SLACK_APP_TOKEN): apps.connections.open, the one
 * method it is for, asked once without retries. Bolt would otherwise retry a refused token for ever
 * while the process looks started.
 */
export async function verifySlackAppToken(
  appToken: string,
  apiUrl: string,
): Promise<{ ok: true } | { ok: false; refused: boolean; problem: string }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { WebClient } = require('@slack/web-api') as typeof import('@slack/web-api');
  const client = new WebClient(appToken, {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
    logger: quietLogger,
  });
  try {
    await client.apps.connections.open();
    return { ok: true };
  } catch (error) {
    const code = slackErrorCode(error);
    return REFUSED_TOKEN_CODES.has(code) || code === 'not_allowed_token_type'
      ? {
          ok: false,
          refused: true,
          problem: `Slack refused SLACK_APP_TOKEN (${code}): create an app-level token (xapp-…) with the connections:write scope on the app's "Basic Information" page, and set it again`,
        }
      : {
          ok: false,
          refused: false,
          problem: `cannot reach Slack at ${apiUrl} to check SLACK_APP_TOKEN (${code}): check the network path to Slack (or SLACK_API_URL)`,
        };
  }
}

/** The token is valid, and the alert channel exists with the bot in it (a private one is otherwise silent). */
export async function checkSlack(config: BotConfig, apiUrl = config.slack.apiUrl): Promise<string[]> {
  const identity = await verifySlackToken(config.slack.botToken, apiUrl);
  if (!identity.ok) return [identity.problem];
  const channel = config.slack.alertChannel;
  if (channel.startsWith('#')) return []; // conversations.info takes an id; a name is checked when the bot posts
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { WebClient } = require('@slack/web-api') as typeof import('@slack/web-api');
  const client = new WebClient(config.slack.botToken, {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: quietLogger,
  });
  try {
    const info = await client.conversations.info({ channel });
    if (info.channel?.is_archived)
      return [`the alert channel ${channel} is archived: unarchive it or set SLACK_ALERT_CHANNEL to another`];
    if (info.channel?.is_member === false)
      return [`the bot is not in the alert channel ${channel}: invite it there (/invite @oomdoctor)`];
    return [];
  } catch (error) {
    const code = slackErrorCode(error);
    if (code === 'channel_not_found')
      return [
        `the alert channel ${channel} does not exist, or is private and the bot was not invited: check SLACK_ALERT_CHANNEL, or invite the bot (/invite @oomdoctor)`,
      ];
    if (code === 'missing_scope')
      return [
        `the Slack app lacks a scope to read channel ${channel} (channels:read, groups:read): add it and reinstall the app`,
      ];
    return [`Slack answered ${code} for the alert channel ${channel}`];
  }
}

function slackErrorCode(error: unknown): string {
  const data = (error as { data?: { error?: unknown }; code?: unknown }).data;
  if (typeof data?.error === 'string') return data.error;
  return (error as Error).message?.split('\n')[0] ?? String(error);
}
