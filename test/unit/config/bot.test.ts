import { DEFAULT_METRIC_NAMES } from '../../../src/adapters/prometheus';
import { plainPrometheusSettings } from '../../../src/config/prometheus';
import { APPLY_DISABLED } from '../../../src/config/apply';
import { ConfigError, readBotConfig, type Role } from '../../../src/config/bot';
import { DEPLOYED_BOT_ENV } from './bot-env';

const VALID: NodeJS.ProcessEnv = { ...DEPLOYED_BOT_ENV, CLUSTER_NAME: 'prod-eu' };

function env(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = { ...VALID };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete result[key];
    else result[key] = value;
  }
  return result;
}

/** The problems readBotConfig reports; fails the test when it does not throw a ConfigError. */
function problemsOf(e: NodeJS.ProcessEnv, role: Role = 'all'): string[] {
  try {
    readBotConfig(e, role);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError, but the configuration was accepted');
}

/** Exactly one problem, mentioning the variable. */
function onlyProblem(e: NodeJS.ProcessEnv, variable: string, role: Role = 'all'): string {
  const problems = problemsOf(e, role);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toContain(variable);
  return problems[0] as string;
}

describe('readBotConfig: a complete valid environment', () => {
  it('gives the typed configuration with every default filled in', () => {
    const config = readBotConfig(env());
    expect(config).toEqual({
      role: 'all',
      slack: {
        botToken: 'xoxb-1234-5678-abcdefABCDEF',
        signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
        appToken: null,
        alertChannel: 'C0123ABCD',
        apiUrl: 'https://slack.com/api/',
        commandName: '/oom',
      },
      alertmanager: { token: '0123456789abcdef0123456789abcdef' },
      redisUrl: 'redis://redis:6379',
      prometheusUrl: 'http://prometheus.monitoring:9090',
      prometheus: {
        ...plainPrometheusSettings('http://prometheus.monitoring:9090'),
        sources: { url: 'PROMETHEUS_URL' },
      },
      prometheusCluster: null,
      kubeconfig: null,
      kubeContext: null,
      port: 3000,
      clusterName: 'prod-eu',
      alerts: {
        names: ['ContainerOOMKilled', 'KubernetesContainerOomKiller', 'KubePodCrashLooping'],
        crashLoopNames: ['KubePodCrashLooping', 'KubernetesPodCrashLooping'],
        labels: {
          namespace: 'namespace',
          pod: 'pod',
          container: 'container',
          channel: 'slack_channel',
          cluster: 'cluster',
        },
      },
      namespaces: null,
      dedupeWindowMs: 3_600_000,
      diagnosisWindowMs: 24 * 3_600_000,
      incidentWindowMs: 30 * 60_000,
      stormThreshold: 5,
      queueTimings: { lockDurationMs: 10_000, stalledIntervalMs: 5_000 },
      workerConcurrency: 4,
      logLevel: 'info',
      metricNames: DEFAULT_METRIC_NAMES,
      apply: APPLY_DISABLED,
    });
  });

  it('reads the optional settings when they are given', () => {
    const config = readBotConfig(
      env({
        PORT: '8080',
        WORKER_CONCURRENCY: '64',
        DEDUPE_WINDOW: '30m',
        DIAGNOSIS_WINDOW: '6h',
        OOM_ALERT_NAMES: ' KubePodOOMKilled , ContainerOOMKilled,, ',
        OOM_NAMESPACES: 'shop, payments',
        ALERT_LABEL_POD: 'exported_pod',
        SLACK_API_URL: 'http://127.0.0.1:4000/api/',
        SLACK_ALERT_CHANNEL: '#oom-alerts',
        LOG_LEVEL: 'DEBUG',
        APPLY_ENABLED: 'yes',
        APPLY_NAMESPACES: 'shop',
        APPLY_ALLOWED_USERS: 'U0ALICE',
        KUBECONFIG: '/etc/kube/config',
      }),
    );
    expect(config.port).toBe(8080);
    expect(config.workerConcurrency).toBe(64);
    expect(config.dedupeWindowMs).toBe(30 * 60_000);
    expect(config.diagnosisWindowMs).toBe(6 * 3_600_000);
    expect(config.alerts.names).toEqual(['KubePodOOMKilled', 'ContainerOOMKilled']);
    expect(config.namespaces).toEqual(['shop', 'payments']);
    expect(config.alerts.labels.pod).toBe('exported_pod');
    expect(config.slack.apiUrl).toBe('http://127.0.0.1:4000/api/');
    expect(config.slack.alertChannel).toBe('#oom-alerts');
    expect(config.logLevel).toBe('debug');
    expect(config.apply.enabled).toBe(true);
    expect(config.kubeconfig).toBe('/etc/kube/config');
  });

  it('treats blank values as unset, so the default applies', () => {
    const config = readBotConfig(
      env({ PORT: '  ', WORKER_CONCURRENCY: '', SLACK_API_URL: ' ', CLUSTER_NAME: '' }),
    );
    expect(config.port).toBe(3000);
    expect(config.workerConcurrency).toBe(4);
    expect(config.slack.apiUrl).toBe('https://slack.com/api/');
    expect(config.clusterName).toBeNull();
  });

  it('accepts the boundaries of the ranges: PORT 0 and 65535, WORKER_CONCURRENCY 1', () => {
    expect(readBotConfig(env({ PORT: '0' })).port).toBe(0);
    expect(readBotConfig(env({ PORT: '65535' })).port).toBe(65535);
    expect(readBotConfig(env({ WORKER_CONCURRENCY: '1' })).workerConcurrency).toBe(1);
  });
});

describe('readBotConfig: every problem at once, each saying how to fix it', () => {
  it('an empty environment gives one line per missing variable', () => {
    const problems = problemsOf({});
    expect(problems).toHaveLength(4);
    const byVariable = (name: string) => problems.filter((p) => p.startsWith(`${name} is not set`));
    for (const name of [
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'SLACK_ALERT_CHANNEL',
      'ALERTMANAGER_TOKEN',
    ]) {
      expect(byVariable(name)).toHaveLength(1);
    }
    // Each line says what to do, not only what is wrong.
    expect(byVariable('SLACK_BOT_TOKEN')[0]).toMatch(/xoxb-.*OAuth & Permissions/);
    expect(byVariable('SLACK_SIGNING_SECRET')[0]).toMatch(/Basic Information.*SLACK_APP_TOKEN/);
    expect(byVariable('SLACK_ALERT_CHANNEL')[0]).toMatch(/channel id \(C0123ABCD\) or #name/);
    expect(byVariable('ALERTMANAGER_TOKEN')[0]).toMatch(
      /http_config\.authorization\.credentials.*ALERTMANAGER_ALLOW_UNAUTHENTICATED=true/,
    );
  });

  it('the ConfigError message lists every problem, one per line', () => {
    let error: unknown;
    try {
      readBotConfig({});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as ConfigError).message.split('\n');
    expect(lines[0]).toBe('oomdoctor cannot start:');
    expect(lines.slice(1)).toEqual((error as ConfigError).problems.map((p) => `  - ${p}`));
  });

  it('several different mistakes are reported together', () => {
    const problems = problemsOf(
      env({
        SLACK_BOT_TOKEN: 'xoxp-1-2-3',
        PORT: 'eighty',
        WORKER_CONCURRENCY: '0',
        DEDUPE_WINDOW: 'an hour',
        OOM_NAMESPACES: 'shop,Bad_NS',
      }),
    );
    expect(problems).toHaveLength(5);
    expect(problems.map((p) => p.split(/[ :]/)[0])).toEqual([
      'SLACK_BOT_TOKEN',
      'PORT',
      'WORKER_CONCURRENCY',
      'DEDUPE_WINDOW',
      'OOM_NAMESPACES',
    ]);
  });

  it('refuses a user token (xoxp-) as the bot token', () => {
    expect(onlyProblem(env({ SLACK_BOT_TOKEN: 'xoxp-1234-5678' }), 'SLACK_BOT_TOKEN')).toMatch(
      /xoxb-.*xoxp-/,
    );
  });

  it('refuses an app token that does not start with xapp-', () => {
    expect(onlyProblem(env({ SLACK_APP_TOKEN: 'xoxb-1234' }), 'SLACK_APP_TOKEN')).toMatch(/xapp-/);
  });

  it.each([
    'https://slack.com/api',
    'https://slack.com/',
    'ftp://slack.com/api/',
    'slack.com/api/',
    'https://slack.com/api/chat.postMessage',
  ])('refuses SLACK_API_URL %j, which does not end in /api/', (url) => {
    expect(onlyProblem(env({ SLACK_API_URL: url }), 'SLACK_API_URL')).toMatch(/ending in \/api\//);
  });

  it.each(['-1', '65536', '3000.5', 'http', '1e3', '123456'])('refuses PORT %j', (port) => {
    expect(onlyProblem(env({ PORT: port }), 'PORT')).toMatch(/from 0 to 65535/);
  });

  it.each(['0', '1000', '65', '-2', '2.5', 'four'])('refuses WORKER_CONCURRENCY %j', (value) => {
    expect(onlyProblem(env({ WORKER_CONCURRENCY: value }), 'WORKER_CONCURRENCY')).toMatch(/from 1 to 64/);
  });

  it.each(['1 hour', '0s', '60', 'h1', '-5m'])('refuses DEDUPE_WINDOW %j', (value) => {
    const problem = onlyProblem(env({ DEDUPE_WINDOW: value }), 'DEDUPE_WINDOW');
    expect(problem.startsWith('DEDUPE_WINDOW: ')).toBe(true);
  });

  it('reads DIAGNOSIS_WINDOW up to 31d (diagnosis-window.test.ts: beyond it)', () => {
    expect(readBotConfig(env({ DIAGNOSIS_WINDOW: '31d' })).diagnosisWindowMs).toBe(31 * 24 * 3_600_000);
    expect(
      onlyProblem(env({ DIAGNOSIS_WINDOW: 'a day' }), 'DIAGNOSIS_WINDOW').startsWith('DIAGNOSIS_WINDOW: '),
    ).toBe(true);
  });

  it('refuses a bad OOM_NAMESPACES entry and names it', () => {
    const problem = onlyProblem(env({ OOM_NAMESPACES: 'shop,Payments,billing' }), 'OOM_NAMESPACES');
    expect(problem).toContain('"Payments"');
    expect(problem).toMatch(/lower case/);
  });

  it('lists each bad OOM_NAMESPACES entry', () => {
    const problems = problemsOf(env({ OOM_NAMESPACES: 'Shop,ok,-bad' }));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('"Shop"');
    expect(problems[1]).toContain('"-bad"');
  });

  it('refuses an ALERTMANAGER_TOKEN shorter than 16 characters, and accepts 16', () => {
    expect(onlyProblem(env({ ALERTMANAGER_TOKEN: 'short-secret' }), 'ALERTMANAGER_TOKEN')).toMatch(
      /shorter than 16/,
    );
    expect(readBotConfig(env({ ALERTMANAGER_TOKEN: 'x'.repeat(16) })).alertmanager.token).toBe(
      'x'.repeat(16),
    );
  });

  it('refuses malformed REDIS_URL, PROMETHEUS_URL, channel, label names, log level and command', () => {
    expect(onlyProblem(env({ REDIS_URL: 'localhost:6379' }), 'REDIS_URL')).toMatch(/redis:\/\//);
    expect(onlyProblem(env({ PROMETHEUS_URL: 'prometheus:9090' }), 'PROMETHEUS_URL')).toMatch(/http\(s\)/);
    expect(onlyProblem(env({ SLACK_ALERT_CHANNEL: 'Alerts Channel' }), 'SLACK_ALERT_CHANNEL')).toMatch(
      /channel id/,
    );
    expect(onlyProblem(env({ ALERT_LABEL_POD: 'pod-name' }), 'ALERT_LABEL_POD')).toMatch(/label name/);
    expect(onlyProblem(env({ LOG_LEVEL: 'verbose' }), 'LOG_LEVEL')).toMatch(/one of/);
    expect(onlyProblem(env({ SLACK_COMMAND: 'oom' }), 'SLACK_COMMAND')).toMatch(/\/oom/);
    expect(onlyProblem(env({ OOM_ALERT_NAMES: ' , ,' }), 'OOM_ALERT_NAMES')).toMatch(/at least one/);
  });
});

describe('readBotConfig: metric and label name overrides', () => {
  it('two bad names are both reported, each with its own sentence', () => {
    const problems = problemsOf(env({ OOMDOCTOR_METRIC_LIMITS: '1bad', OOMDOCTOR_LABEL_POD: 'bad-label' }));
    const text = problems.join('\n');
    expect(text).toContain('OOMDOCTOR_METRIC_LIMITS="1bad" is not a valid Prometheus metric name');
    expect(text).toContain('OOMDOCTOR_LABEL_POD="bad-label" is not a valid Prometheus label name');
  });
});

describe('readBotConfig: what each choice lifts or requires', () => {
  it('ALERTMANAGER_ALLOW_UNAUTHENTICATED=true lifts the token requirement, on purpose only', () => {
    const config = readBotConfig(
      env({ ALERTMANAGER_TOKEN: undefined, ALERTMANAGER_ALLOW_UNAUTHENTICATED: 'true' }),
    );
    expect(config.alertmanager.token).toBeNull();
    expect(
      onlyProblem(
        env({ ALERTMANAGER_TOKEN: undefined, ALERTMANAGER_ALLOW_UNAUTHENTICATED: 'false' }),
        'ALERTMANAGER_TOKEN',
      ),
    ).toMatch(/is not set/);
    expect(
      onlyProblem(
        env({ ALERTMANAGER_TOKEN: undefined, ALERTMANAGER_ALLOW_UNAUTHENTICATED: 'maybe' }),
        'ALERTMANAGER_TOKEN',
      ),
    ).toMatch(/is not set/);
  });

  it('a short token stays a problem even when unauthenticated alerts are allowed', () => {
    onlyProblem(
      env({ ALERTMANAGER_TOKEN: 'short', ALERTMANAGER_ALLOW_UNAUTHENTICATED: 'true' }),
      'ALERTMANAGER_TOKEN',
    );
  });

  it('SLACK_APP_TOKEN (Socket Mode) lifts the signing-secret requirement', () => {
    const config = readBotConfig(
      env({ SLACK_SIGNING_SECRET: undefined, SLACK_APP_TOKEN: 'xapp-1-A0123-456-abcdef' }),
    );
    expect(config.slack.signingSecret).toBeNull();
    expect(config.slack.appToken).toBe('xapp-1-A0123-456-abcdef');
    expect(onlyProblem(env({ SLACK_SIGNING_SECRET: undefined }), 'SLACK_SIGNING_SECRET')).toMatch(
      /is not set/,
    );
  });

  it.each(['web', 'worker'] as const)('--role %s without REDIS_URL is refused', (role) => {
    const problem = onlyProblem(env({ REDIS_URL: undefined }), 'REDIS_URL', role);
    expect(problem).toContain(`--role ${role}`);
  });

  it('--role all runs without REDIS_URL (the in-memory queue)', () => {
    const config = readBotConfig(env({ REDIS_URL: undefined }), 'all');
    expect(config.redisUrl).toBeNull();
    expect(config.role).toBe('all');
  });

  it('the worker role needs neither the signing secret nor the Alertmanager token', () => {
    const config = readBotConfig(
      env({ SLACK_SIGNING_SECRET: undefined, ALERTMANAGER_TOKEN: undefined }),
      'worker',
    );
    expect(config.role).toBe('worker');
    expect(config.slack.signingSecret).toBeNull();
    expect(config.alertmanager.token).toBeNull();
  });

  it('the worker role still needs the bot token, the channel and Redis', () => {
    const problems = problemsOf({}, 'worker');
    expect(problems.map((p) => p.split(' ')[0])).toEqual([
      'SLACK_BOT_TOKEN',
      'SLACK_ALERT_CHANNEL',
      '--role',
    ]);
  });

  it('the web role needs the signing secret and the Alertmanager token', () => {
    const problems = problemsOf(
      env({ SLACK_SIGNING_SECRET: undefined, ALERTMANAGER_TOKEN: undefined }),
      'web',
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^SLACK_SIGNING_SECRET is not set/);
    expect(problems[1]).toMatch(/^ALERTMANAGER_TOKEN is not set/);
  });

  it('does not read process.env: only the environment passed in counts', () => {
    const saved = process.env.SLACK_BOT_TOKEN;
    process.env.SLACK_BOT_TOKEN = 'xoxb-from-process-env';
    try {
      expect(problemsOf(env({ SLACK_BOT_TOKEN: undefined }))).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env.SLACK_BOT_TOKEN;
      else process.env.SLACK_BOT_TOKEN = saved;
    }
  });
});

describe('readBotConfig: incident threads', () => {
  it('keeps QUEUE_LOCK_DURATION at 2s or more, and reads QUEUE_STALLED_INTERVAL', () => {
    expect(onlyProblem(env({ QUEUE_LOCK_DURATION: '1s' }), 'QUEUE_LOCK_DURATION')).toBe(
      'QUEUE_LOCK_DURATION must be at least 2s: a running job renews its lock every half of it',
    );
    const config = readBotConfig(env({ QUEUE_LOCK_DURATION: '2s', QUEUE_STALLED_INTERVAL: '30s' }));
    expect(config.queueTimings).toEqual({ lockDurationMs: 2000, stalledIntervalMs: 30_000 });
  });

  it('reads INCIDENT_WINDOW and STORM_THRESHOLD', () => {
    const config = readBotConfig(env({ INCIDENT_WINDOW: '2h', STORM_THRESHOLD: '12' }));
    expect([config.incidentWindowMs, config.stormThreshold]).toEqual([2 * 3_600_000, 12]);
  });

  it('refuses a storm threshold that is not a whole number of at least 1, in one line', () => {
    for (const bad of ['0', '-3', 'many', '2.5']) {
      expect(() => readBotConfig(env({ STORM_THRESHOLD: bad }))).toThrow(
        /STORM_THRESHOLD .* must be a whole number of incidents, at least 1/,
      );
    }
  });
});
