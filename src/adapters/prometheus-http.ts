// The HTTP side of Prometheus: one client with the credentials, extra headers, TLS and timeout of
// the settings; a retry where one can help (5xx, time-outs, a refused or reset connection), never
// for a 4xx; and every failure as one line saying what went wrong and what to do. Secrets (tokens,
// passwords, header values) never reach a message: anything the server says is redacted first.
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { ErrorCode } from '../core/errors';
import { formatDuration } from '../core/duration';
import { SourceError } from './errors';
import { RotatingTlsAgent, SecretFile } from './prometheus-files';
import {
  PROMETHEUS_VARIABLES,
  type PrometheusSettingKey,
  type PrometheusSettings,
} from '../config/prometheus';

export interface PrometheusHttpOptions {
  /** Retries after a failure a retry can help (default 2; a time-out is retried once at most). */
  retries?: number;
  /** First pause before a retry (default 250 ms), tripled each time. */
  backoffMs?: number;
  /** A prepared axios instance (the benchmark's keep-alive client); the settings' TLS is then its business. */
  http?: AxiosInstance;
  sleep?: (ms: number) => Promise<void>;
}

export interface PrometheusAnswer {
  /** The JSON body of a successful answer, to be checked by the caller. */
  body: unknown;
  /** One line per warning Prometheus attached (Thanos and Mimir report partial answers this way). */
  warnings: string[];
}

const SNIPPET_CHARS = 120;
const MIN_SECRET_TO_REDACT = 4;

type Attempt =
  { ok: true; answer: PrometheusAnswer } | { ok: false; error: SourceError; retry: 'no' | 'yes' | 'timeout' };

const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export class PrometheusHttp {
  /** The base URL, without credentials: safe to print. */
  readonly url: string;
  private readonly http: AxiosInstance;
  private readonly tokenFile: SecretFile | null;
  private readonly passwordFile: SecretFile | null;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly tls: RotatingTlsAgent | null;

  constructor(
    private readonly settings: PrometheusSettings,
    options: PrometheusHttpOptions = {},
  ) {
    this.url = settings.url;
    this.retries = options.retries ?? 2;
    this.backoffMs = options.backoffMs ?? 250;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const auth = settings.auth;
    this.tokenFile =
      auth.kind === 'bearer-file' ? new SecretFile(auth.file, this.from('bearerTokenFile')) : null;
    this.passwordFile =
      auth.kind === 'basic-file' ? new SecretFile(auth.passwordFile, this.from('passwordFile')) : null;
    this.http =
      options.http ?? axios.create({ baseURL: settings.url, timeout: settings.timeoutMs, maxRedirects: 0 });
    this.tls =
      options.http === undefined && settings.url.startsWith('https:')
        ? new RotatingTlsAgent(settings.tls, (key) => this.from(key))
        : null;
  }

  /** POSTs a form to an API path; retries what a retry can help; throws a SourceError otherwise. */
  async postForm(path: string, form: URLSearchParams): Promise<PrometheusAnswer> {
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.attempt(path, form);
      if (outcome.ok) return outcome.answer;
      const allowed =
        outcome.retry === 'no'
          ? 1
          : outcome.retry === 'timeout'
            ? Math.min(2, this.retries + 1)
            : this.retries + 1;
      if (attempt >= allowed) {
        if (attempt === 1) throw outcome.error;
        const { detail, code, fix } = outcome.error;
        throw new SourceError('prometheus', `${detail} (${attempt} attempts)`, {
          code,
          ...(fix !== undefined ? { fix } : {}),
        });
      }
      await this.sleep(this.backoffMs * 3 ** (attempt - 1));
    }
  }

  private async attempt(path: string, form: URLSearchParams): Promise<Attempt> {
    const headers: Record<string, string> = {};
    for (const header of this.settings.headers) headers[header.name] = header.value;
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const auth = this.settings.auth;
    if (auth.kind === 'bearer') headers.Authorization = `Bearer ${auth.token}`;
    else if (this.tokenFile) headers.Authorization = `Bearer ${this.tokenFile.read()}`;
    else if (auth.kind === 'basic' || this.passwordFile) {
      const user = auth.kind === 'basic' || auth.kind === 'basic-file' ? auth.username : '';
      const password = auth.kind === 'basic' ? auth.password : (this.passwordFile?.read() ?? '');
      headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    }
    const httpsAgent = this.tls?.agent();
    let response: AxiosResponse<unknown>;
    try {
      response = await this.http.post(path, form.toString(), {
        headers,
        ...(httpsAgent ? { httpsAgent } : {}),
        validateStatus: () => true,
        // The body is read as text and parsed here, so that a page that is not JSON can be described.
        responseType: 'text',
        transitional: { silentJSONParsing: true, forcedJSONParsing: false, clarifyTimeoutError: false },
      });
    } catch (error) {
      return this.networkFailure(error);
    }
    return this.answer(path, response);
  }

  private answer(path: string, response: AxiosResponse<unknown>): Attempt {
    const endpoint = `${this.url}${path}`;
    const status = response.status;
    const text = typeof response.data === 'string' ? response.data : JSON.stringify(response.data ?? '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const apiError = readApiError(body);
    const contentType = String(response.headers['content-type'] ?? '');
    const fail = (
      code: ErrorCode,
      detail: string,
      fix: string | null,
      retry: 'no' | 'yes' = 'no',
    ): Attempt => ({
      ok: false,
      error: new SourceError('prometheus', this.redact(detail), { code, ...(fix ? { fix } : {}) }),
      retry,
    });

    if (status === 401 || status === 403)
      return this.refused(endpoint, status, response, apiError ?? snippet(text));
    if (status >= 300 && status < 400) {
      const location = String(response.headers.location ?? '').split('?')[0] ?? '';
      return fail(
        'prometheus-unauthorized',
        `${endpoint} redirected (HTTP ${status}) to ${location.slice(0, 100) || 'another page'}, not a Prometheus answer`,
        `a redirect to a login page means an auth proxy stands in front: ${this.credentialsFix()}; otherwise check ${this.from('url')}`,
      );
    }
    if (status >= 500) {
      const reason = apiError ? ` (${apiError})` : '';
      const fix = apiError?.startsWith('timeout')
        ? "the query ran past Prometheus' own --query.timeout: try a shorter --window"
        : 'Prometheus, or a proxy in front of it, is failing: try again in a minute';
      return fail('prometheus-server-error', `HTTP ${status} from ${endpoint}${reason}`, fix, 'yes');
    }
    if (status >= 400) {
      if (apiError)
        return fail(
          'prometheus-bad-query',
          `Prometheus refused the query at ${endpoint} (${apiError})`,
          'if your setup relabels metrics, check OOMDOCTOR_METRIC_* and OOMDOCTOR_LABEL_*; otherwise please report it',
        );
      if (status === 404)
        return fail(
          'prometheus-bad-query',
          `HTTP 404 from ${endpoint}: no Prometheus API at that path`,
          `check ${this.from('url')}; behind a path prefix, include it (https://host/prometheus)`,
        );
      if (status === 429)
        return fail(
          'prometheus-bad-query',
          `HTTP 429 from ${endpoint}: Prometheus, or a proxy in front of it, is limiting the rate of queries`,
          'try again in a minute, or raise the limit for this client',
        );
      const said = snippet(text);
      return fail(
        'prometheus-bad-query',
        `HTTP ${status} from ${endpoint}${said ? ` ("${said}")` : ''}`,
        null,
      );
    }
    if (body === undefined) {
      const html = /html/i.test(contentType) || /^\s*</.test(text);
      return fail(
        'source-unavailable',
        html
          ? `${endpoint} answered with an HTML page, not the Prometheus API`
          : `unexpected answer from ${endpoint} (is this a Prometheus API?)`,
        html
          ? `if it is a login page, an auth proxy stands in front: ${this.credentialsFix()}; otherwise check ${this.from('url')}`
          : null,
      );
    }
    if (apiError)
      return fail(
        'prometheus-bad-query',
        `Prometheus refused the query at ${endpoint} (${apiError})`,
        'if your setup relabels metrics, check OOMDOCTOR_METRIC_* and OOMDOCTOR_LABEL_*; otherwise please report it',
      );
    return { ok: true, answer: { body, warnings: this.warnings(body) } };
  }

  /** 401 or 403: never a connection error; says what was sent (never its value) and what to set. */
  private refused(endpoint: string, status: number, response: AxiosResponse<unknown>, said: string): Attempt {
    const challenge =
      String(response.headers['www-authenticate'] ?? '')
        .split(/\s/)[0]
        ?.toLowerCase() ?? '';
    const auth = this.settings.auth;
    // An Authorization header may come from PROMETHEUS_HEADERS (Azure Monitor, custom schemes).
    const headerAuth = this.settings.headers.some((h) => h.name.toLowerCase() === 'authorization');
    const sent =
      auth.kind === 'none'
        ? headerAuth
          ? `the Authorization header of ${this.from('headers')} was sent`
          : 'no credentials were sent'
        : auth.kind === 'bearer'
          ? `the bearer token of ${this.from('bearerToken')} was sent`
          : auth.kind === 'bearer-file'
            ? `the bearer token in ${this.from('bearerTokenFile')}=${JSON.stringify(auth.file)} was sent`
            : auth.kind === 'basic-file'
              ? `basic auth as ${JSON.stringify(auth.username)} (${this.from('username')}, ${this.from('passwordFile')}) was sent`
              : `basic auth from the user:password in ${this.from('url')} was sent`;
    let fix: string;
    if (status === 403 && (auth.kind !== 'none' || headerAuth))
      fix =
        'the credentials are known but may not query: grant their identity read access (on OpenShift, the cluster-monitoring-view cluster role), or check the tenant header in PROMETHEUS_HEADERS';
    else if (headerAuth)
      fix = `check the Authorization header in ${this.from('headers')}, or ${this.credentialsFix()}`;
    else if (auth.kind === 'none' && challenge === 'basic')
      fix = `it asks for basic auth: set ${PROMETHEUS_VARIABLES.username} and ${PROMETHEUS_VARIABLES.passwordFile}`;
    else if (auth.kind === 'none') fix = this.credentialsFix();
    else if (auth.kind === 'bearer-file')
      fix = `check that ${this.from('bearerTokenFile')} holds a current token this Prometheus accepts`;
    else fix = `check the credentials, or ${this.credentialsFix()}`;
    const detail = `Prometheus refused the credentials: HTTP ${status} from ${endpoint}${said ? ` ("${said}")` : ''}, ${sent}`;
    return {
      ok: false,
      error: new SourceError('prometheus', this.redact(detail), { code: 'prometheus-unauthorized', fix }),
      retry: 'no',
    };
  }

  private credentialsFix(): string {
    return `set ${PROMETHEUS_VARIABLES.bearerTokenFile} (or ${PROMETHEUS_VARIABLES.bearerToken}, or ${PROMETHEUS_VARIABLES.username} with ${PROMETHEUS_VARIABLES.passwordFile}; a tenant header such as X-Scope-OrgID with ${PROMETHEUS_VARIABLES.headers})`;
  }

  private networkFailure(error: unknown): Attempt {
    const e = error as { code?: string; message?: string; cause?: { code?: string } };
    const code = e.code ?? e.cause?.code ?? '';
    const message = String(e.message ?? error);
    const fail = (
      errorCode: ErrorCode,
      detail: string,
      fix: string,
      retry: 'no' | 'yes' | 'timeout',
    ): Attempt => ({
      ok: false,
      error: new SourceError('prometheus', this.redact(detail), { code: errorCode, fix }),
      retry,
    });
    const url = this.url;
    const { tls } = this.settings;
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(message))
      return fail(
        'prometheus-timeout',
        `no answer from ${url} within ${formatDuration(this.settings.timeoutMs)}`,
        `raise ${this.from('timeout')} (now ${formatDuration(this.settings.timeoutMs)}), or try a shorter --window`,
        'timeout',
      );
    if (code === 'ECONNREFUSED')
      return fail(
        'prometheus-unreachable',
        `connection refused at ${url}`,
        'is Prometheus running there, and is the port right?',
        'yes',
      );
    if (code === 'ENOTFOUND')
      return fail(
        'prometheus-unreachable',
        `cannot resolve the host of ${url}`,
        `check the host name in ${this.from('url')}`,
        'no',
      );
    if (code === 'EAI_AGAIN')
      return fail(
        'prometheus-unreachable',
        `cannot resolve the host of ${url} (DNS did not answer)`,
        'check DNS from here',
        'yes',
      );
    if (TLS_VERIFY_CODES.has(code)) {
      let fix: string;
      if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
        fix = `the certificate does not name this host: use in ${this.from('url')} a host name it was issued for`;
      else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
        fix = 'the certificate is outside its validity period: renew it, and check the clock here';
      else if (tls.caFile)
        fix = `the certificate is not signed by the CA in ${this.from('caFile')}=${JSON.stringify(tls.caFile)}: name the CA that signed it`;
      else
        fix = `set ${PROMETHEUS_VARIABLES.caFile} to the CA that signed it (inside OpenShift: /var/run/secrets/kubernetes.io/serviceaccount/service-ca.crt), or ${PROMETHEUS_VARIABLES.insecureSkipVerify}=true to skip the check`;
      return fail('prometheus-tls', `cannot verify the TLS certificate of ${url} (${code})`, fix, 'no');
    }
    if (
      /CERTIFICATE_REQUIRED|certificate required|BAD_CERTIFICATE|bad certificate|UNKNOWN_CA|unknown ca|HANDSHAKE_FAILURE/i.test(
        `${code} ${message}`,
      )
    )
      return fail(
        'prometheus-tls',
        `the TLS handshake with ${url} failed: the server refused the client certificate (${code || 'handshake failure'})`,
        tls.clientCertFile
          ? `it does not trust the certificate in ${this.from('clientCertFile')}: use one signed by the CA it trusts`
          : `it asks for one: set ${PROMETHEUS_VARIABLES.clientCertFile} and ${PROMETHEUS_VARIABLES.clientKeyFile}`,
        'no',
      );
    if (/WRONG_VERSION_NUMBER|wrong version number/i.test(`${code} ${message}`))
      return fail(
        'prometheus-tls',
        `the TLS handshake with ${url} failed: the server does not speak TLS there`,
        `use http:// in ${this.from('url')}`,
        'no',
      );
    if (code === 'ECONNRESET' || /socket hang up/i.test(message))
      return fail(
        'prometheus-unreachable',
        `connection reset by ${url}`,
        !url.startsWith('https:')
          ? 'Prometheus or a proxy in front of it closed the connection: try again in a minute'
          : tls.clientCertFile
            ? `Prometheus or a proxy in front of it closed the connection; if it checks client certificates, it may not trust the one in ${this.from('clientCertFile')}`
            : `if the server asks for a client certificate, set ${PROMETHEUS_VARIABLES.clientCertFile} and ${PROMETHEUS_VARIABLES.clientKeyFile}`,
        'yes',
      );
    return fail(
      'prometheus-unreachable',
      `${firstLine(message)} (${url})`,
      `check ${this.from('url')}`,
      'no',
    );
  }

  /** Prometheus' `warnings` as lines; Thanos and Mimir use them to say an answer is partial. */
  private warnings(body: unknown): string[] {
    const list = (body as { warnings?: unknown }).warnings;
    if (!Array.isArray(list)) return [];
    return list
      .filter((w): w is string => typeof w === 'string' && w.trim() !== '')
      .map((w) => {
        const text = this.redact(firstLine(w)).slice(0, 200);
        return /partial|store|unavailable|ingester|not all|failed to/i.test(text)
          ? `prometheus: the answer from ${this.url} is partial ("${text}"), so the memory history may have gaps`
          : `prometheus: ${this.url} warned "${text}"`;
      });
  }

  /** Where a setting came from (the flag or variable a person set), or its variable. */
  private from(key: PrometheusSettingKey): string {
    return this.settings.sources[key] ?? PROMETHEUS_VARIABLES[key];
  }

  /** Replaces every secret this client knows with [redacted]. */
  redact(text: string): string {
    const secrets: string[] = [];
    const auth = this.settings.auth;
    if (auth.kind === 'bearer') secrets.push(auth.token);
    if (auth.kind === 'basic') secrets.push(auth.password);
    for (const file of [this.tokenFile, this.passwordFile]) {
      const value = file?.last();
      if (value) secrets.push(value);
    }
    for (const header of this.settings.headers) secrets.push(header.value);
    let out = text;
    for (const secret of secrets
      .filter((s) => s.length >= MIN_SECRET_TO_REDACT)
      .sort((a, b) => b.length - a.length))
      out = out.split(secret).join('[redacted]');
    return out;
  }
}

/** `errorType: error` from a Prometheus error body, or null. */
function readApiError(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const { status, errorType, error } = body as { status?: unknown; errorType?: unknown; error?: unknown };
  if (status !== 'error') return null;
  const type = typeof errorType === 'string' ? errorType : 'error';
  return `${type}: ${typeof error === 'string' ? firstLine(error).slice(0, 300) : 'no detail'}`;
}

/** The first line of what a server said, short, for a message (redacted by the caller). */
function snippet(text: string): string {
  const plain = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length > SNIPPET_CHARS ? `${plain.slice(0, SNIPPET_CHARS)}…` : plain;
}

function firstLine(text: string): string {
  return (text.split('\n', 1)[0] ?? '').trim();
}
