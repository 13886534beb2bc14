// `oomdoctor diagnose <namespace>/<pod>`: the engine from a terminal. Exit codes are a contract:
// 0 diagnosed, 2 bad usage, 3 not found, 4 the Kubernetes API unreachable.
import { parseArgs } from 'node:util';
import type { ClusterReader } from './adapters/kubernetes';
import { PrometheusSource, type ClusterSelector, type MetricsSource } from './adapters/prometheus';
import {
  DEFAULT_DIAGNOSIS_WINDOW_MS,
  MAX_DIAGNOSIS_WINDOW_MS,
  windowTooLong,
} from './config/diagnosis-window';
import { readPrometheusSettings, type PrometheusSettings } from './config/prometheus';
import { readClusterSelector } from './config/cluster-selector';
import { readMetricNames } from './config/metric-names';
import type { Role } from './config/bot';
import { parseDuration } from './core/duration';
import { asOomdoctorError, OomdoctorError } from './core/errors';
import { parseContainerName, parseTargetRequest } from './core/target';
import { diagnose, type DiagnoseDeps } from './diagnose';
import { textReport } from './render/text-report';

export const EXIT = { ok: 0, internal: 1, usage: 2, notFound: 3, unreachable: 4 } as const;

export const HELP = `oomdoctor: why did this Kubernetes container die with exit 137, and what should change?

Usage:
  oomdoctor diagnose <namespace>/<pod> [options]
  oomdoctor diagnose <namespace>/deploy/<name>   (also sts/, ds/, cronjob/: its most recently killed pod)
  oomdoctor serve [--role web|worker|all]        the Slack bot (configured by environment: see the README)

Options:
  --container NAME        the container to diagnose (default: the one killed most recently)
  --window DURATION       how far back to look, e.g. 6h, 2d (default 24h, at most 31d)
  --prometheus-url URL    Prometheus to read memory history from (or PROMETHEUS_URL)
  --prometheus-bearer-token-file PATH
                          send the token in this file, re-read when it changes (or PROMETHEUS_BEARER_TOKEN_FILE;
                          PROMETHEUS_BEARER_TOKEN holds a token itself, kept off the command line)
  --prometheus-username NAME, --prometheus-password-file PATH
                          basic auth (or PROMETHEUS_USERNAME, PROMETHEUS_PASSWORD_FILE)
  --prometheus-header 'NAME: VALUE'
                          an extra header, repeatable, e.g. 'X-Scope-OrgID: team-a' (or PROMETHEUS_HEADERS)
  --prometheus-ca-file PATH
                          the CA that signed Prometheus' certificate (or PROMETHEUS_CA_FILE)
  --prometheus-client-cert-file PATH, --prometheus-client-key-file PATH
                          a client certificate for mutual TLS (or PROMETHEUS_CLIENT_CERT_FILE, _KEY_FILE)
  --prometheus-insecure-skip-verify
                          do not verify Prometheus' certificate (or PROMETHEUS_INSECURE_SKIP_VERIFY=true)
  --prometheus-timeout DURATION
                          per query (default 10s, or PROMETHEUS_TIMEOUT); a time-out is retried once
  --cluster-label LABEL   in a Prometheus of several clusters, the label naming them (or PROMETHEUS_CLUSTER_LABEL)
  --cluster NAME          this cluster's value of that label (or CLUSTER_NAME); needs --cluster-label
  --kubeconfig PATH       kubeconfig file (or KUBECONFIG; default ~/.kube/config, or in-cluster)
  --context NAME          kubeconfig context to use (default: the current one)
  --guaranteed-qos        suggest requests equal to limits (Guaranteed QoS, evicted last)
  --json                  print the diagnosis as one JSON object (schemaVersion 1)
  -h, --help              show this help
  --version               print the version
  --role ROLE             with serve: web (HTTP only), worker (jobs only) or all (default)

Exit codes: 0 diagnosed (even with a source missing: see "missing"), 2 bad usage,
3 pod or workload not found, 4 the Kubernetes API could not be reached.

Examples:
  oomdoctor diagnose shop/api-7d9f8b6c4-x2x9z
  oomdoctor diagnose shop/deploy/api --window 6h --prometheus-url http://prometheus.monitoring:9090
`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** What the adapters of one `diagnose` are built from. */
export interface AdapterOptions {
  kubeconfig?: string;
  context?: string;
  prometheusUrl?: string;
  /** Credentials, headers, TLS and timeout of that Prometheus (the flags, then PROMETHEUS_*). */
  prometheus?: PrometheusSettings;
  /** --cluster-label with --cluster: every Prometheus query reads this cluster only. */
  cluster?: ClusterSelector;
  env: NodeJS.ProcessEnv;
}

export interface CliDeps {
  /** Builds the adapters; tests replace it to count or fake calls. */
  makeDeps?: (options: AdapterOptions) => DiagnoseDeps;
}

class UsageError extends OomdoctorError {
  constructor(message: string) {
    super('usage', message);
  }
}

function defaultDeps(options: AdapterOptions): DiagnoseDeps {
  // Required here, not at the top: `oomdoctor serve --role web` never needs the Kubernetes client.
  const { KubernetesReader, loadKubeConfig } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('./adapters/kubernetes') as typeof import('./adapters/kubernetes');
  const cluster: ClusterReader = new KubernetesReader(
    loadKubeConfig({
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      ...(options.context ? { context: options.context } : {}),
      env: options.env,
    }),
  );
  const metrics: MetricsSource | null = options.prometheusUrl
    ? new PrometheusSource({
        url: options.prometheusUrl,
        ...(options.prometheus ? { settings: options.prometheus } : {}),
        names: readMetricNames(options.env),
        cluster: options.cluster ?? null,
      })
    : null;
  return { cluster, metrics };
}

export function validateUrl(text: string, what: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `${what} "${text.slice(0, 200)}" is not a URL: use the form http://prometheus.monitoring:9090`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${what} must start with http:// or https://, not ${url.protocol}`);
  return text.replace(/\/+$/, '');
}

function version(): string {
  try {
    // Resolved at run time from the package root (dist/src/cli.js or src/cli.ts).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: CliIo,
  cliDeps: CliDeps = {},
): Promise<number> {
  const wantsJson = argv.includes('--json');
  const fail = (code: number, kind: string, message: string): number => {
    io.stderr(`oomdoctor: ${message}\n`);
    if (wantsJson) io.stdout(`${JSON.stringify({ error: { code: kind, message } })}\n`);
    return code;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        container: { type: 'string' },
        window: { type: 'string' },
        'prometheus-url': { type: 'string' },
        'prometheus-bearer-token-file': { type: 'string' },
        'prometheus-username': { type: 'string' },
        'prometheus-password-file': { type: 'string' },
        'prometheus-header': { type: 'string', multiple: true },
        'prometheus-ca-file': { type: 'string' },
        'prometheus-client-cert-file': { type: 'string' },
        'prometheus-client-key-file': { type: 'string' },
        'prometheus-insecure-skip-verify': { type: 'boolean' },
        'prometheus-timeout': { type: 'string' },
        'cluster-label': { type: 'string' },
        cluster: { type: 'string' },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        'guaranteed-qos': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        role: { type: 'string' },
      },
    });
  } catch (error) {
    // node's messages run to several lines ("Did you forget…", "To specify…"): the first says what is wrong.
    const firstLine = (error as Error).message.split('\n')[0] ?? '';
    const message = firstLine.replace(/\. To specify a positional argument.*$/s, '').replace(/\.+\s*$/, '');
    return fail(EXIT.usage, 'usage', `${message}. Run oomdoctor --help for the options.`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  if (values.version) {
    io.stdout(`${version()}\n`);
    return EXIT.ok;
  }
  try {
    const [command, targetText, ...extra] = positionals;
    if (command === undefined)
      throw new UsageError('no command given: try oomdoctor diagnose <namespace>/<pod>, or oomdoctor --help');
    if (command === 'help') {
      io.stdout(HELP);
      return EXIT.ok;
    }
    if (command === 'serve') {
      if (targetText !== undefined)
        throw new UsageError(`serve takes no arguments, only --role (got "${targetText.slice(0, 50)}")`);
      const role = values.role ?? 'all';
      if (role !== 'web' && role !== 'worker' && role !== 'all')
        throw new UsageError(`--role must be web, worker or all, not "${role.slice(0, 20)}"`);
      return await serve(role, env, io);
    }
    if (values.role !== undefined)
      throw new UsageError('--role goes with serve: oomdoctor serve --role worker');
    if (command !== 'diagnose')
      throw new UsageError(
        `unknown command "${command.slice(0, 50)}": the commands are diagnose and serve, as in oomdoctor diagnose <namespace>/<pod>`,
      );
    if (targetText === undefined)
      throw new UsageError('diagnose needs a pod: oomdoctor diagnose <namespace>/<pod>');
    if (extra.length > 0)
      throw new UsageError(`unexpected argument "${extra[0]?.slice(0, 50)}": diagnose takes one pod`);
    const target = parseTargetRequest(targetText);
    const container = values.container !== undefined ? parseContainerName(values.container) : undefined;
    const windowMs =
      values.window !== undefined ? parseDuration(values.window, 'window') : DEFAULT_DIAGNOSIS_WINDOW_MS;
    if (windowMs > MAX_DIAGNOSIS_WINDOW_MS) throw new UsageError(windowTooLong(`window ${values.window}`));
    // A user:password@ in the URL is not echoed back.
    if (values['prometheus-url'] !== undefined)
      validateUrl(values['prometheus-url'].replace(/\/\/[^/@]*@/, '//…@'), '--prometheus-url');
    // Each flag wins over its variable; every bad setting is named, in one line.
    const prometheusRead = readPrometheusSettings(env, {
      url: values['prometheus-url'],
      bearerTokenFile: values['prometheus-bearer-token-file'],
      username: values['prometheus-username'],
      passwordFile: values['prometheus-password-file'],
      headers: values['prometheus-header'],
      caFile: values['prometheus-ca-file'],
      clientCertFile: values['prometheus-client-cert-file'],
      clientKeyFile: values['prometheus-client-key-file'],
      insecureSkipVerify: values['prometheus-insecure-skip-verify'],
      timeout: values['prometheus-timeout'],
    });
    if (prometheusRead.problems.length > 0) throw new UsageError(prometheusRead.problems.join('; '));
    const prometheus = prometheusRead.settings ?? undefined;
    const prometheusUrl = prometheus?.url;
    const cluster = readClusterSelector(
      values['cluster-label'] !== undefined
        ? { value: values['cluster-label'], from: '--cluster-label' }
        : { value: env.PROMETHEUS_CLUSTER_LABEL, from: 'PROMETHEUS_CLUSTER_LABEL' },
      values.cluster !== undefined
        ? { value: values.cluster, from: '--cluster' }
        : { value: env.CLUSTER_NAME, from: '--cluster (or CLUSTER_NAME)' },
    );
    if (values.cluster !== undefined && cluster === null)
      throw new UsageError(
        '--cluster needs --cluster-label (or PROMETHEUS_CLUSTER_LABEL): the label that names the cluster on every series, e.g. --cluster-label cluster',
      );
    const makeDeps = cliDeps.makeDeps ?? defaultDeps;
    const deps = makeDeps({
      ...(cluster ? { cluster } : {}),
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      ...(values.context ? { context: values.context } : {}),
      ...(prometheusUrl ? { prometheusUrl } : {}),
      ...(prometheus ? { prometheus } : {}),
      env,
    });
    const diagnosis = await diagnose(
      {
        target,
        ...(container ? { container } : {}),
        windowMs,
        guaranteedQos: values['guaranteed-qos'] ?? false,
      },
      deps,
    );
    io.stdout(values.json ? `${JSON.stringify(diagnosis, null, 2)}\n` : textReport(diagnosis));
    return EXIT.ok;
  } catch (error) {
    const { exit, kind, message } = failureOf(asOomdoctorError(error));
    return fail(exit, kind, message);
  }
}

/**
 * The exit code, the JSON error code and the line for a failure, read from its error code. Both
 * codes are a contract scripts read: keep them stable.
 */
function failureOf(error: OomdoctorError): { exit: number; kind: string; message: string } {
  switch (error.code) {
    case 'usage':
    case 'parse':
      return { exit: EXIT.usage, kind: 'usage', message: error.message };
    case 'config':
      return { exit: EXIT.usage, kind: 'usage', message: error.sentence };
    case 'not-found':
      return { exit: EXIT.notFound, kind: 'not-found', message: error.message };
    case 'kube-forbidden':
      return {
        exit: EXIT.unreachable,
        kind: 'forbidden',
        message: `the Kubernetes API refused: ${error.sentence}`,
      };
    default:
      // An unreachable API, an unusable kubeconfig, refused credentials, throttling, a failing API
      // server: exit 4, one line (the JSON code stays "unreachable", as scripts already read it).
      if (error.code.startsWith('kube'))
        return { exit: EXIT.unreachable, kind: 'unreachable', message: error.sentence };
      return {
        exit: EXIT.internal,
        kind: 'internal',
        message: `unexpected error: ${error.message} (this is a bug; please report it with the command you ran)`,
      };
  }
}

/** Runs the Slack bot until SIGTERM or SIGINT, then stops it gracefully (running jobs finish). */
async function serve(role: Role, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  // Required here: `oomdoctor diagnose` should not pay for loading Bolt, bull and the chart renderer.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { readBotConfig } = require('./config/bot') as typeof import('./config/bot');
  const { startBot } = require('./bot/app') as typeof import('./bot/app');
  /* eslint-enable @typescript-eslint/no-require-imports */
  let config;
  try {
    config = readBotConfig(env, role);
  } catch (error) {
    // The configuration's error lists every problem, one line each.
    const failure = asOomdoctorError(error);
    if (failure.code === 'config') {
      io.stderr(`${failure.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  let bot;
  try {
    bot = await startBot(config);
  } catch (error) {
    // An unusable kubeconfig stops start-up with one line, as a bad setting does.
    if (error instanceof OomdoctorError && error.code === 'kubeconfig') {
      io.stderr(`oomdoctor cannot start: ${error.sentence}\n`);
      return EXIT.unreachable;
    }
    // So does a bot token Slack refuses (where Slack's requests arrive).
    if (error instanceof OomdoctorError && error.code === 'slack-refused') {
      io.stderr(`oomdoctor cannot start: ${error.sentence}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      bot.logger.info({ signal }, 'stopping: finishing running jobs');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await bot.stop();
  return EXIT.ok;
}

/** The process entry: real stdio, real environment, exit code set. */
export function main(): void {
  const io: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };
  runCli(process.argv.slice(2), process.env, io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`oomdoctor: unexpected error: ${(error as Error).message}\n`);
      process.exitCode = EXIT.internal;
    },
  );
}
