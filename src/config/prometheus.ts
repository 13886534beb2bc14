// How to reach Prometheus: URL, credentials, extra headers, TLS and timeout, read from the
// environment (the bot) or flags with the environment behind them (the CLI), and checked at once
// with one line per problem. Secrets (tokens, passwords, header values) never appear in a problem.
import * as fs from 'node:fs';
import { parseDuration } from '../core/duration';
import { MINUTE_MS, SECOND_MS } from '../core/time';

export type PrometheusAuth =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  /** Re-read whenever the file changes: projected service-account tokens rotate. */
  | { kind: 'bearer-file'; file: string }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'basic-file'; username: string; passwordFile: string };

export interface PrometheusHeader {
  name: string;
  value: string;
}

export interface PrometheusSettings {
  /** Base URL without credentials or trailing slash: safe to print. */
  url: string;
  auth: PrometheusAuth;
  headers: PrometheusHeader[];
  tls: {
    caFile: string | null;
    clientCertFile: string | null;
    clientKeyFile: string | null;
    insecureSkipVerify: boolean;
  };
  timeoutMs: number;
  /** Where each setting came from (`PROMETHEUS_BEARER_TOKEN_FILE` or `--prometheus-bearer-token-file`), for messages. */
  sources: Partial<Record<PrometheusSettingKey, string>>;
}

export type PrometheusSettingKey =
  | 'url'
  | 'bearerToken'
  | 'bearerTokenFile'
  | 'username'
  | 'passwordFile'
  | 'headers'
  | 'caFile'
  | 'clientCertFile'
  | 'clientKeyFile'
  | 'insecureSkipVerify'
  | 'timeout';

/** The environment variable of each setting (the bot reads these; the CLI too, behind its flags). */
export const PROMETHEUS_VARIABLES: Record<PrometheusSettingKey, string> = {
  url: 'PROMETHEUS_URL',
  bearerToken: 'PROMETHEUS_BEARER_TOKEN',
  bearerTokenFile: 'PROMETHEUS_BEARER_TOKEN_FILE',
  username: 'PROMETHEUS_USERNAME',
  passwordFile: 'PROMETHEUS_PASSWORD_FILE',
  headers: 'PROMETHEUS_HEADERS',
  caFile: 'PROMETHEUS_CA_FILE',
  clientCertFile: 'PROMETHEUS_CLIENT_CERT_FILE',
  clientKeyFile: 'PROMETHEUS_CLIENT_KEY_FILE',
  insecureSkipVerify: 'PROMETHEUS_INSECURE_SKIP_VERIFY',
  timeout: 'PROMETHEUS_TIMEOUT',
};

/**
 * The CLI flag of each setting. No flag for the bearer token itself: a secret on the command line
 * shows in `ps` and in shell history, so it comes from PROMETHEUS_BEARER_TOKEN or a file.
 */
export const PROMETHEUS_FLAGS: Partial<Record<PrometheusSettingKey, string>> = {
  url: '--prometheus-url',
  bearerTokenFile: '--prometheus-bearer-token-file',
  username: '--prometheus-username',
  passwordFile: '--prometheus-password-file',
  headers: '--prometheus-header',
  caFile: '--prometheus-ca-file',
  clientCertFile: '--prometheus-client-cert-file',
  clientKeyFile: '--prometheus-client-key-file',
  insecureSkipVerify: '--prometheus-insecure-skip-verify',
  timeout: '--prometheus-timeout',
};

/** What the CLI parsed from its flags; each given flag wins over the variable of the same setting. */
export interface PrometheusFlagValues {
  url?: string | undefined;
  bearerTokenFile?: string | undefined;
  username?: string | undefined;
  passwordFile?: string | undefined;
  /** One `Name: value` per flag; given at all, they replace PROMETHEUS_HEADERS. */
  headers?: string[] | undefined;
  caFile?: string | undefined;
  clientCertFile?: string | undefined;
  clientKeyFile?: string | undefined;
  insecureSkipVerify?: boolean | undefined;
  timeout?: string | undefined;
}

export const DEFAULT_PROMETHEUS_TIMEOUT_MS = 10 * SECOND_MS;
const MIN_TIMEOUT_MS = SECOND_MS;
const MAX_TIMEOUT_MS = 10 * MINUTE_MS;
const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** RFC 9110 token characters: what a header name may be made of. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII, space and tab: what a header value may hold (no line breaks, so no header injection). */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** Headers the HTTP client sets itself; overriding them would break the request, not configure it. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
]);

export interface PrometheusSettingsResult {
  /** Null when no URL is configured (the diagnosis then uses the metrics API) or when there are problems. */
  settings: PrometheusSettings | null;
  problems: string[];
}

function printablePath(file: string): string {
  return JSON.stringify(file.length > 200 ? `${file.slice(0, 200)}…` : file);
}

/**
 * Checks that a file named by a setting can be read now, and holds what it should. Returns its
 * text, or pushes one problem and returns null. The text is never put in a message.
 */
export function readSettingFile(
  file: string,
  from: string,
  expect: 'secret' | 'certificate' | 'private-key',
  problems: string[],
): string | null {
  const where = `${from}=${printablePath(file)}`;
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) {
      problems.push(`${where} is a directory: name the file inside it`);
      return null;
    }
    if (expect === 'secret' && stat.size > MAX_SECRET_FILE_BYTES) {
      problems.push(`${where} is ${stat.size} bytes, too big for a token or password: check the path`);
      return null;
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      problems.push(`${where} does not exist: mount the file there, or correct the path`);
    else if (code === 'EACCES' || code === 'EPERM')
      problems.push(
        `${where} cannot be read by this process (uid ${process.getuid?.() ?? '?'}): make it readable, e.g. with the volume's defaultMode or fsGroup`,
      );
    else problems.push(`${where} cannot be read (${code ?? (error as Error).message})`);
    return null;
  }
  if (expect === 'secret') {
    const secret = text.trim();
    if (secret === '') {
      problems.push(`${where} is empty: it should hold the token or password, on one line`);
      return null;
    }
    if (!HEADER_VALUE.test(secret)) {
      problems.push(
        `${where} holds a line break or a character that cannot go in an HTTP header: it should hold one token or password, on one line`,
      );
      return null;
    }
    return secret;
  }
  if (expect === 'certificate' && !text.includes('-----BEGIN CERTIFICATE-----')) {
    problems.push(`${where} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return null;
  }
  if (expect === 'private-key' && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    problems.push(`${where} holds no PEM private key (-----BEGIN … PRIVATE KEY-----)`);
    return null;
  }
  return text;
}

/**
 * Splits PROMETHEUS_HEADERS into `Name: value` entries: one per line, or separated by commas where
 * what follows the comma starts a new `Name:` (so a value may itself hold commas).
 */
export function splitHeaderList(text: string): string[] {
  return text
    .split(/\r?\n|,(?=\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*:)/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** Parses one `Name: value` entry; the message never quotes the value, which may be a secret. */
export function parseHeader(entry: string, where: string): PrometheusHeader | string {
  const colon = entry.indexOf(':');
  if (colon < 0) return `${where} has no colon: write Name: value, as in X-Scope-OrgID: team-a`;
  const name = entry.slice(0, colon).trim();
  const value = entry.slice(colon + 1).trim();
  if (name === '')
    return `${where} has no name before the colon: write Name: value, as in X-Scope-OrgID: team-a`;
  if (!HEADER_NAME.test(name))
    return `${where}: ${JSON.stringify(name.slice(0, 60))} is not a valid header name (letters, digits and - only, no spaces)`;
  if (RESERVED_HEADERS.has(name.toLowerCase()))
    return `${where}: ${name} is set by the HTTP client itself and cannot be overridden`;
  if (value === '') return `${where}: ${name} has an empty value`;
  if (!HEADER_VALUE.test(value))
    return `${where}: the value of ${name} holds a line break or a non-ASCII character, which cannot go in an HTTP header`;
  return { name, value };
}

/** An http(s) URL without its user:password@ part, and that part; null when it is not an http(s) URL. */
export function splitUrlCredentials(
  text: string,
): { url: string; user: { username: string; password: string } | null } | null {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  let user: { username: string; password: string } | null = null;
  if (parsed.username !== '' || parsed.password !== '') {
    user = { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
    parsed.username = '';
    parsed.password = '';
  }
  return { url: parsed.toString().replace(/\/+$/, ''), user };
}

function parseBoolean(text: string): boolean | null {
  if (/^(1|true|yes|on)$/i.test(text)) return true;
  if (/^(0|false|no|off)$/i.test(text)) return false;
  return null;
}

interface Input {
  value: string;
  from: string;
}

/**
 * Reads and checks the Prometheus settings. `flags` (the CLI's) win over the environment, setting by
 * setting. Every problem is collected, so a person fixing a deployment sees them all at once.
 */
export function readPrometheusSettings(
  env: NodeJS.ProcessEnv,
  flags: PrometheusFlagValues = {},
): PrometheusSettingsResult {
  const problems: string[] = [];
  const sources: PrometheusSettings['sources'] = {};
  const input = (key: Exclude<PrometheusSettingKey, 'headers' | 'insecureSkipVerify'>): Input | undefined => {
    const flagValue = key === 'bearerToken' ? undefined : flags[key];
    if (flagValue !== undefined)
      return { value: flagValue.trim(), from: PROMETHEUS_FLAGS[key] ?? PROMETHEUS_VARIABLES[key] };
    const envValue = env[PROMETHEUS_VARIABLES[key]]?.trim();
    return envValue === undefined || envValue === ''
      ? undefined
      : { value: envValue, from: PROMETHEUS_VARIABLES[key] };
  };
  const used = (key: PrometheusSettingKey, given: Input | undefined): Input | undefined => {
    if (given) sources[key] = given.from;
    return given;
  };

  const urlInput = used('url', input('url'));
  const bearerToken = used('bearerToken', input('bearerToken'));
  const bearerTokenFile = used('bearerTokenFile', input('bearerTokenFile'));
  const username = used('username', input('username'));
  const passwordFile = used('passwordFile', input('passwordFile'));
  const caFile = used('caFile', input('caFile'));
  const clientCertFile = used('clientCertFile', input('clientCertFile'));
  const clientKeyFile = used('clientKeyFile', input('clientKeyFile'));
  const timeout = used('timeout', input('timeout'));

  // URL: http(s) only; credentials written into it (user:pass@) become basic auth and leave the URL,
  // so that the URL can be printed in messages.
  let url: string | null = null;
  let urlUser: { username: string; password: string } | null = null;
  let https = false;
  if (urlInput) {
    const split = splitUrlCredentials(urlInput.value);
    if (!split) {
      // The text may carry user:pass@, which is shown as …@.
      const shown = urlInput.value.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@]*@/i, '$1…@').slice(0, 60);
      problems.push(
        `${urlInput.from} "${shown}" must be an http(s) URL, like http://prometheus.monitoring:9090`,
      );
    } else {
      ({ url, user: urlUser } = split);
      https = url.startsWith('https:');
    }
  }

  // Credentials: at most one kind.
  let auth: PrometheusAuth = { kind: 'none' };
  const kinds = [
    bearerToken ? bearerToken.from : null,
    bearerTokenFile ? bearerTokenFile.from : null,
    username || passwordFile ? (username?.from ?? passwordFile?.from ?? '') : null,
    urlUser ? `credentials in ${urlInput?.from ?? 'the URL'}` : null,
  ].filter((k): k is string => k !== null);
  if (kinds.length > 1) {
    problems.push(
      `${kinds.join(' and ')} are both set: Prometheus takes one kind of credentials, so keep one`,
    );
  } else if (bearerToken) {
    if (!HEADER_VALUE.test(bearerToken.value) || /\s/.test(bearerToken.value))
      problems.push(
        `${bearerToken.from} holds a space, line break or non-ASCII character, which a bearer token cannot: check how it was copied`,
      );
    else auth = { kind: 'bearer', token: bearerToken.value };
  } else if (bearerTokenFile) {
    if (readSettingFile(bearerTokenFile.value, bearerTokenFile.from, 'secret', problems) !== null)
      auth = { kind: 'bearer-file', file: bearerTokenFile.value };
  } else if (username || passwordFile) {
    if (!username)
      problems.push(
        `${passwordFile?.from ?? PROMETHEUS_VARIABLES.passwordFile} is set without ${PROMETHEUS_VARIABLES.username}: basic auth needs both`,
      );
    else if (!passwordFile)
      problems.push(
        `${username.from} is set without ${PROMETHEUS_VARIABLES.passwordFile}: basic auth needs both (put the password in a file)`,
      );
    else if (username.value.includes(':'))
      problems.push(`${username.from} holds a colon, which basic auth cannot carry in a user name`);
    else if (readSettingFile(passwordFile.value, passwordFile.from, 'secret', problems) !== null)
      auth = { kind: 'basic-file', username: username.value, passwordFile: passwordFile.value };
  } else if (urlUser) {
    auth = { kind: 'basic', ...urlUser };
  }

  // Headers: the flags replace the variable.
  const headers: PrometheusHeader[] = [];
  const headerEntries: Array<{ entry: string; where: string }> = [];
  if (flags.headers !== undefined && flags.headers.length > 0) {
    sources.headers = PROMETHEUS_FLAGS.headers ?? PROMETHEUS_VARIABLES.headers;
    flags.headers.forEach((entry, i) =>
      headerEntries.push({ entry: entry.trim(), where: `--prometheus-header number ${i + 1}` }),
    );
  } else {
    const text = env[PROMETHEUS_VARIABLES.headers]?.trim();
    if (text) {
      sources.headers = PROMETHEUS_VARIABLES.headers;
      splitHeaderList(text).forEach((entry, i) =>
        headerEntries.push({ entry, where: `${PROMETHEUS_VARIABLES.headers} entry ${i + 1}` }),
      );
    }
  }
  for (const { entry, where } of headerEntries) {
    const header = parseHeader(entry, where);
    if (typeof header === 'string') {
      problems.push(header);
      continue;
    }
    if (headers.some((h) => h.name.toLowerCase() === header.name.toLowerCase()))
      problems.push(`${where}: ${header.name} is given twice; give it once`);
    else if (header.name.toLowerCase() === 'authorization' && auth.kind !== 'none')
      problems.push(
        `${where}: an Authorization header and ${kinds[0] ?? 'credentials'} are both set: keep one`,
      );
    else headers.push(header);
  }

  // TLS.
  let insecureSkipVerify = false;
  let insecureFrom: string | undefined;
  if (flags.insecureSkipVerify !== undefined) {
    insecureSkipVerify = flags.insecureSkipVerify;
    insecureFrom = PROMETHEUS_FLAGS.insecureSkipVerify;
  } else {
    const text = env[PROMETHEUS_VARIABLES.insecureSkipVerify]?.trim();
    if (text) {
      insecureFrom = PROMETHEUS_VARIABLES.insecureSkipVerify;
      const value = parseBoolean(text);
      if (value === null)
        problems.push(
          `${PROMETHEUS_VARIABLES.insecureSkipVerify} "${text.slice(0, 20)}" must be true or false`,
        );
      else insecureSkipVerify = value;
    }
  }
  if (insecureFrom && insecureSkipVerify) sources.insecureSkipVerify = insecureFrom;
  if (caFile) readSettingFile(caFile.value, caFile.from, 'certificate', problems);
  if (clientCertFile) readSettingFile(clientCertFile.value, clientCertFile.from, 'certificate', problems);
  if (clientKeyFile) readSettingFile(clientKeyFile.value, clientKeyFile.from, 'private-key', problems);
  if (clientCertFile && !clientKeyFile)
    problems.push(
      `${clientCertFile.from} is set without ${PROMETHEUS_VARIABLES.clientKeyFile}: a client certificate needs its key`,
    );
  if (clientKeyFile && !clientCertFile)
    problems.push(
      `${clientKeyFile.from} is set without ${PROMETHEUS_VARIABLES.clientCertFile}: a client key needs its certificate`,
    );
  if (caFile && insecureSkipVerify)
    problems.push(
      `${caFile.from} and ${insecureFrom ?? PROMETHEUS_VARIABLES.insecureSkipVerify} are both set: with the CA the certificate can be verified, so drop the skip`,
    );
  const tlsFrom = [caFile, clientCertFile, clientKeyFile]
    .map((i) => i?.from)
    .concat(insecureSkipVerify ? [insecureFrom] : [])
    .filter((f): f is string => f !== undefined);
  if (url !== null && !https && tlsFrom.length > 0)
    problems.push(
      `${tlsFrom.join(', ')} set, but ${urlInput?.from ?? PROMETHEUS_VARIABLES.url} is http://: TLS settings apply to https:// only, so use https://`,
    );

  let timeoutMs = DEFAULT_PROMETHEUS_TIMEOUT_MS;
  if (timeout) {
    try {
      timeoutMs = parseDuration(timeout.value, timeout.from);
      if (timeoutMs < MIN_TIMEOUT_MS || timeoutMs > MAX_TIMEOUT_MS)
        problems.push(`${timeout.from} "${timeout.value.slice(0, 20)}" must be from 1s to 10m`);
    } catch (error) {
      problems.push(`${timeout.from}: ${(error as Error).message}`);
    }
  }

  if (url === null) {
    if (urlInput === undefined) {
      const orphans = Object.entries(sources)
        .filter(([key]) => key !== 'url')
        .map(([, from]) => from);
      if (orphans.length > 0)
        problems.push(
          `${orphans.join(', ')} set, but no Prometheus URL: set ${PROMETHEUS_VARIABLES.url} (or --prometheus-url) too`,
        );
    }
    return { settings: null, problems };
  }
  if (problems.length > 0) return { settings: null, problems };
  return {
    settings: {
      url,
      auth,
      headers,
      tls: {
        caFile: caFile?.value ?? null,
        clientCertFile: clientCertFile?.value ?? null,
        clientKeyFile: clientKeyFile?.value ?? null,
        insecureSkipVerify,
      },
      timeoutMs,
      sources,
    },
    problems,
  };
}

/**
 * Settings for a bare URL (tests, the benchmark, older callers): no TLS options; credentials written
 * into the URL become basic auth and leave it, so that the URL stays printable.
 */
export function plainPrometheusSettings(
  url: string,
  timeoutMs = DEFAULT_PROMETHEUS_TIMEOUT_MS,
): PrometheusSettings {
  const split = splitUrlCredentials(url);
  return {
    url: split?.url ?? url.replace(/\/+$/, ''),
    auth: split?.user ? { kind: 'basic', ...split.user } : { kind: 'none' },
    headers: [],
    tls: { caFile: null, clientCertFile: null, clientKeyFile: null, insecureSkipVerify: false },
    timeoutMs,
    sources: {},
  };
}
