// The bot's configuration: a function of the environment passed in, validated at start-up with one
// clear line per problem, so a bad deployment fails at once and says what to fix.
import { APPLY_ENVIRONMENT, readApplyConfig, type ApplyConfig } from './apply';
import { readClusterSelector } from './cluster-selector';
import { DEFAULT_DIAGNOSIS_WINDOW_MS, MAX_DIAGNOSIS_WINDOW_MS, windowTooLong } from './diagnosis-window';
import { commaList } from './comma-list';
import { readMetricNames } from './metric-names';
import { readPrometheusSettings, type PrometheusSettings } from './prometheus';
import { MIN_LOCK_DURATION_MS, QUEUE_TIMING_DEFAULTS } from './queue-timings';
import type { ClusterSelector, MetricNames } from '../core/prometheus-names';
import { parseDuration } from '../core/duration';
import { OomdoctorError, ParseError } from '../core/errors';
import { parseNamespace } from '../core/target';
import { HOUR_MS, MINUTE_MS } from '../core/time';

export type Role = 'web' | 'worker' | 'all';

export interface BotConfig {
  role: Role;
  slack: {
    botToken: string;
    signingSecret: string | null;
    appToken: string | null;
    alertChannel: string;
    apiUrl: string;
    commandName: string;
  };
  alertmanager: { token: string | null };
  redisUrl: string | null;
  /** Without credentials: a user:password@ in PROMETHEUS_URL moves into `prometheus.auth`. */
  prometheusUrl: string | null;
  /** How to reach Prometheus: credentials, extra headers, TLS, timeout (PROMETHEUS_*); null without a URL. */
  prometheus: PrometheusSettings | null;
  kubeconfig: string | null;
  kubeContext: string | null;
  port: number;
  clusterName: string | null;
  alerts: {
    names: string[];
    crashLoopNames: string[];
    labels: { namespace: string; pod: string; container: string; channel: string; cluster: string };
    /** CLUSTER_UNLABELLED_ALERTS=ignore: alerts with no cluster label are another bot's (shared Alertmanager). */
    ignoreUnlabelled?: boolean;
  };
  namespaces: string[] | null;
  dedupeWindowMs: number;
  diagnosisWindowMs: number;
  /** QUEUE_LOCK_DURATION and QUEUE_STALLED_INTERVAL: how fast a dead worker's job is taken over. */
  queueTimings: { lockDurationMs: number; stalledIntervalMs: number };
  /** How long an incident thread stays open after its last alert (INCIDENT_WINDOW). */
  incidentWindowMs: number;
  /** Incidents opened within a minute in one channel beyond which the rest fold into a storm message. */
  stormThreshold: number;
  workerConcurrency: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  metricNames: MetricNames;
  /** PROMETHEUS_CLUSTER_LABEL with CLUSTER_NAME: every query reads this cluster only. */
  prometheusCluster?: ClusterSelector | null;
  apply: ApplyConfig;
}

export class ConfigError extends OomdoctorError {
  constructor(readonly problems: string[]) {
    super('config', `oomdoctor cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const SLACK_ID = /^[CDG][A-Z0-9]{2,20}$/;
const CHANNEL_NAME = /^#?[a-z0-9][a-z0-9._-]{0,79}$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const DEFAULT_ALERTS = ['ContainerOOMKilled', 'KubernetesContainerOomKiller', 'KubePodCrashLooping'];
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;

function truthy(text: string | undefined): boolean {
  return /^(1|true|yes|on)$/i.test((text ?? '').trim());
}

/**
 * Reads and validates the bot's environment. Collects every problem before failing, so a person
 * fixing a deployment sees all of them at once.
 */
export function readBotConfig(env: NodeJS.ProcessEnv, role: Role = 'all'): BotConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  const botToken = get('SLACK_BOT_TOKEN');
  if (!botToken)
    problems.push(
      'SLACK_BOT_TOKEN is not set: use the bot token (xoxb-…) from your Slack app\'s "OAuth & Permissions" page',
    );
  else if (!botToken.startsWith('xoxb-'))
    problems.push(
      'SLACK_BOT_TOKEN must be a bot token starting with xoxb- (a user token, xoxp-, would act as a person)',
    );

  const appToken = get('SLACK_APP_TOKEN') ?? null;
  if (appToken && !appToken.startsWith('xapp-'))
    problems.push(
      'SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic Information, App-Level Tokens, with connections:write)',
    );
  const signingSecret = get('SLACK_SIGNING_SECRET') ?? null;
  if (!signingSecret && !appToken && role !== 'worker') {
    problems.push(
      'SLACK_SIGNING_SECRET is not set: copy it from your Slack app\'s "Basic Information" page (or set SLACK_APP_TOKEN to use Socket Mode)',
    );
  }

  const alertChannel = get('SLACK_ALERT_CHANNEL');
  if (!alertChannel)
    problems.push(
      'SLACK_ALERT_CHANNEL is not set: the channel id (C0123ABCD) or #name where alert threads go',
    );
  else if (!SLACK_ID.test(alertChannel) && !CHANNEL_NAME.test(alertChannel))
    problems.push(
      `SLACK_ALERT_CHANNEL "${alertChannel.slice(0, 40)}" is neither a channel id (C0123ABCD) nor a #channel-name`,
    );

  const apiUrl = get('SLACK_API_URL') ?? 'https://slack.com/api/';
  if (!/^https?:\/\/[^/]+(\/.*)?\/api\/$/.test(apiUrl))
    problems.push(
      `SLACK_API_URL "${apiUrl.slice(0, 80)}" must be an http(s) URL ending in /api/, like https://slack.com/api/`,
    );

  const alertmanagerToken = get('ALERTMANAGER_TOKEN') ?? null;
  const allowUnauthenticated = truthy(get('ALERTMANAGER_ALLOW_UNAUTHENTICATED'));
  if (!alertmanagerToken && !allowUnauthenticated && role !== 'worker') {
    problems.push(
      'ALERTMANAGER_TOKEN is not set: choose a long random secret and give it to Alertmanager as http_config.authorization.credentials (or set ALERTMANAGER_ALLOW_UNAUTHENTICATED=true to accept unauthenticated alerts on purpose)',
    );
  } else if (alertmanagerToken && alertmanagerToken.length < 16) {
    problems.push(
      'ALERTMANAGER_TOKEN is shorter than 16 characters: use a long random secret (openssl rand -hex 32)',
    );
  }

  const redisUrl = get('REDIS_URL') ?? null;
  if (redisUrl && !/^rediss?:\/\/.+/.test(redisUrl))
    problems.push(
      `REDIS_URL "${redisUrl.slice(0, 60)}" must look like redis://host:6379 (or rediss:// for TLS)`,
    );
  if (!redisUrl && role !== 'all')
    problems.push(`--role ${role} needs REDIS_URL: web and worker processes share their queue through Redis`);

  // The URL, credentials, headers, TLS and timeout, each bad one its own line, no secret in any.
  const prometheus = readPrometheusSettings(env);
  problems.push(...prometheus.problems);

  const portText = get('PORT') ?? '3000';
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535)
    problems.push(`PORT "${portText.slice(0, 20)}" must be a number from 0 to 65535`);

  const concurrencyText = get('WORKER_CONCURRENCY') ?? '4';
  const workerConcurrency = Number(concurrencyText);
  if (!/^\d{1,3}$/.test(concurrencyText) || workerConcurrency < 1 || workerConcurrency > 64)
    problems.push(`WORKER_CONCURRENCY "${concurrencyText.slice(0, 20)}" must be a whole number from 1 to 64`);

  const duration = (name: string, fallbackMs: number): number => {
    const text = get(name);
    if (text === undefined) return fallbackMs;
    try {
      return parseDuration(text, name);
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
      return 0;
    }
  };
  const dedupeWindowMs = duration('DEDUPE_WINDOW', HOUR_MS);
  const diagnosisWindowMs = duration('DIAGNOSIS_WINDOW', DEFAULT_DIAGNOSIS_WINDOW_MS);
  if (diagnosisWindowMs > MAX_DIAGNOSIS_WINDOW_MS)
    problems.push(windowTooLong(`DIAGNOSIS_WINDOW ${get('DIAGNOSIS_WINDOW')?.slice(0, 20)}`));
  const queueTimings = {
    lockDurationMs: duration('QUEUE_LOCK_DURATION', QUEUE_TIMING_DEFAULTS.lockDurationMs),
    stalledIntervalMs: duration('QUEUE_STALLED_INTERVAL', QUEUE_TIMING_DEFAULTS.stalledIntervalMs),
  };
  if (queueTimings.lockDurationMs > 0 && queueTimings.lockDurationMs < MIN_LOCK_DURATION_MS)
    problems.push('QUEUE_LOCK_DURATION must be at least 2s: a running job renews its lock every half of it');
  const incidentWindowMs = duration('INCIDENT_WINDOW', 30 * MINUTE_MS);
  const stormText = get('STORM_THRESHOLD') ?? '5';
  const stormThreshold = Number(stormText);
  if (!/^\d{1,4}$/.test(stormText) || stormThreshold < 1)
    problems.push(
      `STORM_THRESHOLD "${stormText.slice(0, 20)}" must be a whole number of incidents, at least 1`,
    );

  const names = get('OOM_ALERT_NAMES') ? commaList(get('OOM_ALERT_NAMES')) : DEFAULT_ALERTS;
  if (names.length === 0)
    problems.push('OOM_ALERT_NAMES is empty: name at least one alert, e.g. ContainerOOMKilled');
  const crashLoopNames = get('CRASHLOOP_ALERT_NAMES')
    ? commaList(get('CRASHLOOP_ALERT_NAMES'))
    : ['KubePodCrashLooping', 'KubernetesPodCrashLooping'];

  const label = (name: string, fallback: string): string => {
    const value = get(name) ?? fallback;
    if (!LABEL_NAME.test(value))
      problems.push(`${name} "${value.slice(0, 40)}" is not a valid Prometheus label name`);
    return value;
  };
  const labels = {
    namespace: label('ALERT_LABEL_NAMESPACE', 'namespace'),
    pod: label('ALERT_LABEL_POD', 'pod'),
    container: label('ALERT_LABEL_CONTAINER', 'container'),
    channel: label('ALERT_LABEL_CHANNEL', 'slack_channel'),
    cluster: label('ALERT_LABEL_CLUSTER', 'cluster'),
  };
  const unlabelled = (get('CLUSTER_UNLABELLED_ALERTS') ?? 'diagnose').toLowerCase();
  if (unlabelled !== 'diagnose' && unlabelled !== 'ignore')
    problems.push(
      `CLUSTER_UNLABELLED_ALERTS "${unlabelled.slice(0, 20)}" must be diagnose (the default: an alert without a ${labels.cluster} label is this cluster's) or ignore (it is another bot's)`,
    );
  else if (unlabelled === 'ignore' && !get('CLUSTER_NAME'))
    problems.push(
      'CLUSTER_UNLABELLED_ALERTS=ignore needs CLUSTER_NAME: set it to the value of the cluster label this bot answers',
    );

  let namespaces: string[] | null = null;
  if (get('OOM_NAMESPACES')) {
    namespaces = [];
    for (const ns of commaList(get('OOM_NAMESPACES'))) {
      try {
        namespaces.push(parseNamespace(ns, 'OOM_NAMESPACES'));
      } catch (error) {
        problems.push(`OOM_NAMESPACES: ${(error as Error).message}`);
      }
    }
  }

  const logLevelText = (get('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevelText))
    problems.push(`LOG_LEVEL "${logLevelText.slice(0, 20)}" must be one of ${LOG_LEVELS.join(', ')}`);

  const metricNames = readMetricNamesSafe(env, problems);
  let prometheusCluster: ClusterSelector | null = null;
  try {
    prometheusCluster = readClusterSelector(
      { value: get('PROMETHEUS_CLUSTER_LABEL'), from: 'PROMETHEUS_CLUSTER_LABEL' },
      { value: get('CLUSTER_NAME'), from: 'CLUSTER_NAME' },
    );
  } catch (error) {
    problems.push((error as Error).message);
  }
  const commandName = get('SLACK_COMMAND') ?? '/oom';
  if (!/^\/[a-z0-9_-]{1,31}$/.test(commandName))
    problems.push(`SLACK_COMMAND "${commandName.slice(0, 40)}" must look like /oom`);
  const apply = readApplyConfig(get, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    role,
    slack: {
      botToken: botToken as string,
      signingSecret,
      appToken,
      alertChannel: alertChannel as string,
      apiUrl,
      commandName,
    },
    alertmanager: { token: alertmanagerToken },
    redisUrl,
    prometheusUrl: prometheus.settings?.url ?? null,
    prometheus: prometheus.settings,
    kubeconfig: get('KUBECONFIG') ?? null,
    kubeContext: get('KUBE_CONTEXT') ?? null,
    port,
    clusterName: get('CLUSTER_NAME') ?? null,
    alerts: { names, crashLoopNames, labels, ...(unlabelled === 'ignore' ? { ignoreUnlabelled: true } : {}) },
    namespaces,
    dedupeWindowMs,
    diagnosisWindowMs,
    queueTimings,
    incidentWindowMs,
    stormThreshold,
    workerConcurrency,
    logLevel: logLevelText as BotConfig['logLevel'],
    metricNames,
    prometheusCluster,
    apply,
  };
}

function readMetricNamesSafe(env: NodeJS.ProcessEnv, problems: string[]): MetricNames {
  try {
    return readMetricNames(env);
  } catch (error) {
    problems.push(error instanceof ParseError ? error.message : String(error));
    return readMetricNames({});
  }
}

/** Every variable the bot reads, for the docs and the compose-file check. */
export const BOT_ENVIRONMENT = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'SLACK_ALERT_CHANNEL',
  'SLACK_API_URL',
  'SLACK_COMMAND',
  'ALERTMANAGER_TOKEN',
  'ALERTMANAGER_ALLOW_UNAUTHENTICATED',
  'REDIS_URL',
  'PROMETHEUS_URL',
  'PROMETHEUS_BEARER_TOKEN',
  'PROMETHEUS_BEARER_TOKEN_FILE',
  'PROMETHEUS_USERNAME',
  'PROMETHEUS_PASSWORD_FILE',
  'PROMETHEUS_HEADERS',
  'PROMETHEUS_CA_FILE',
  'PROMETHEUS_CLIENT_CERT_FILE',
  'PROMETHEUS_CLIENT_KEY_FILE',
  'PROMETHEUS_INSECURE_SKIP_VERIFY',
  'PROMETHEUS_TIMEOUT',
  'PROMETHEUS_CLUSTER_LABEL',
  'KUBECONFIG',
  'KUBE_CONTEXT',
  'PORT',
  'CLUSTER_NAME',
  'CLUSTER_UNLABELLED_ALERTS',
  'OOM_ALERT_NAMES',
  'CRASHLOOP_ALERT_NAMES',
  'ALERT_LABEL_NAMESPACE',
  'ALERT_LABEL_POD',
  'ALERT_LABEL_CONTAINER',
  'ALERT_LABEL_CHANNEL',
  'ALERT_LABEL_CLUSTER',
  'OOM_NAMESPACES',
  'DEDUPE_WINDOW',
  'DIAGNOSIS_WINDOW',
  'QUEUE_LOCK_DURATION',
  'QUEUE_STALLED_INTERVAL',
  'WORKER_CONCURRENCY',
  'LOG_LEVEL',
  ...APPLY_ENVIRONMENT,
] as const;
