// The one error vocabulary. Every failure a person can meet is an OomdoctorError with a stable
// `code`; the CLI's exit code, a job's retry decision and the Slack wording read the code, not the
// class. Adapters map what they catch into it once, at the boundary. Parsers throw ParseError
// (code `parse`) and nothing else, whatever the input.

/** What went wrong, in a word a program can switch on. Stable: logs, metrics and tests use them. */
export type ErrorCode =
  | 'usage' // bad command-line arguments
  | 'parse' // input that could not be understood (a quantity, a target, a payload)
  | 'config' // a setting that cannot work; fix it and restart
  | 'not-found' // the pod, workload or container does not exist
  | 'kube-unreachable' // the Kubernetes API could not be reached at all
  | 'kubeconfig' // the kubeconfig cannot be used (file, context, credentials): fix it and restart
  | 'kube-unauthorized' // the API refused the credentials (401)
  | 'kube-forbidden' // the API refused the request (403): a missing RBAC permission
  | 'kube-conflict' // the object changed between read and write (409)
  | 'kube-rejected' // validation, admission or quota refused a change (400, 422, admission 403)
  | 'kube-throttled' // the API asked us to slow down (429)
  | 'kube-server-error' // the API failed (5xx)
  | 'source-unavailable' // a source of evidence could not be read; the diagnosis goes on without it
  | 'prometheus-unreachable'
  | 'prometheus-unauthorized' // Prometheus refused the credentials (401/403)
  | 'prometheus-bad-query' // Prometheus refused the query (4xx): usually a relabelled metric or label
  | 'prometheus-server-error' // Prometheus failed (5xx)
  | 'prometheus-timeout' // Prometheus gave no answer within PROMETHEUS_TIMEOUT
  | 'prometheus-tls' // the TLS handshake with Prometheus failed (unknown CA, client certificate)
  | 'slack-refused' // Slack answered an error no retry will fix (channel_not_found, invalid_auth...)
  | 'slack-rate-limited' // Slack answered 429 and retries ran out
  | 'slack-unreachable' // Slack could not be reached
  | 'queue-unavailable' // Redis is down: the webhook answers 503 so Alertmanager retries
  | 'job-permanent' // a job failed in a way no retry will fix
  | 'deadline' // the per-diagnosis deadline passed
  | 'internal'; // a bug: anything not mapped above

/** Codes that no retry can fix. Everything else is worth another try (with backoff). */
const PERMANENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'usage',
  'parse',
  'config',
  'kubeconfig',
  'not-found',
  'kube-unauthorized',
  'kube-forbidden',
  'kube-rejected',
  'prometheus-unauthorized',
  'prometheus-bad-query',
  'prometheus-tls',
  'slack-refused',
  'job-permanent',
  'internal',
]);

export interface OomdoctorErrorOptions {
  /** Overrides the code's default (for example a 404 that may be a race and is worth one retry). */
  permanent?: boolean;
  /** What to do about it, one sentence ("check KUBECONFIG"). */
  fix?: string;
  cause?: unknown;
}

/**
 * A failure with a stable code. `message` is one line for a person (never a secret, never a stack);
 * `fix` says what to do when there is something to do.
 */
export class OomdoctorError extends Error {
  readonly code: ErrorCode;
  readonly permanent: boolean;
  readonly fix: string | undefined;

  constructor(code: ErrorCode, message: string, options: OomdoctorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OomdoctorError';
    this.code = code;
    this.permanent = options.permanent ?? PERMANENT_CODES.has(code);
    this.fix = options.fix;
  }

  /** The message and the fix, as one line. */
  get sentence(): string {
    return this.fix ? `${this.message}; ${this.fix}` : this.message;
  }
}

/** Anything thrown, as an OomdoctorError: unmapped errors are `internal` (a bug to report). */
export function asOomdoctorError(error: unknown): OomdoctorError {
  if (error instanceof OomdoctorError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OomdoctorError('internal', firstLine(message), { cause: error });
}

/** True when retrying cannot help. Unknown errors count as passing, so they get their retries. */
export function isPermanent(error: unknown): boolean {
  return error instanceof OomdoctorError && error.permanent;
}

export function errorCodeOf(error: unknown): ErrorCode {
  return error instanceof OomdoctorError ? error.code : 'internal';
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/**
 * Input that could not be understood. `message` is one sentence saying what was wrong and what
 * would be accepted; `field` names what was being parsed ("memory quantity", "target", "--window").
 */
export class ParseError extends OomdoctorError {
  readonly field: string;

  constructor(field: string, message: string) {
    super('parse', message);
    this.name = 'ParseError';
    this.field = field;
  }
}

const DISPLAY_CHARS = 40;
/** Escapes are up to 10 characters each: without this bound 40 of them made a 400-character line. */
const DISPLAY_WIDTH = 80;

/**
 * Quotes user input for an error message: at most 40 characters of it and 80 of quoted text, and
 * anything that is not printable ASCII shown as an escape (\u{41c} for a Cyrillic "М", \u{0} for
 * NUL), so lookalikes and control characters are visible and nothing odd reaches a terminal or a
 * Slack message.
 */
export function quoteInput(text: string): string {
  let out = '';
  let count = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    let shown: string;
    if (ch === '"' || ch === '\\') shown = `\\${ch}`;
    else if (code >= 0x20 && code <= 0x7e) shown = ch;
    else shown = `\\u{${code.toString(16)}}`;
    if (count === DISPLAY_CHARS || out.length + shown.length > DISPLAY_WIDTH) {
      out += '...';
      break;
    }
    out += shown;
    count += 1;
  }
  return `"${out}"`;
}

function isAsciiSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/** Removes surrounding ASCII whitespace only (a no-break space is a character to report, not to hide). */
export function trimAscii(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isAsciiSpace(text.charCodeAt(start))) start += 1;
  while (end > start && isAsciiSpace(text.charCodeAt(end - 1))) end -= 1;
  return text.slice(start, end);
}

/**
 * The checks every parser starts with: a string, not blank, not longer than `maxLength` once
 * trimmed, printable ASCII only. Returns the trimmed text; `hint` ends each message with what
 * would be accepted ("use a number with a unit such as 512Mi").
 */
export function checkInputText(text: unknown, field: string, maxLength: number, hint: string): string {
  if (typeof text !== 'string') throw new ParseError(field, `${field} is missing: ${hint}`);
  const trimmed = trimAscii(text);
  if (trimmed === '') throw new ParseError(field, `${field} is empty: ${hint}`);
  if (trimmed.length > maxLength) {
    throw new ParseError(
      field,
      `${field} is too long (${trimmed.length} characters, at most ${maxLength}): ${hint}`,
    );
  }
  for (const ch of trimmed) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code > 0x7e) {
      const name = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
      throw new ParseError(
        field,
        `${field} ${quoteInput(trimmed)} contains ${name}, which is not a plain ASCII character: ${hint}`,
      );
    }
  }
  return trimmed;
}
