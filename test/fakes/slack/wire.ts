// The fake Slack API's wire format: request bodies as Slack reads them (form, JSON, multipart), Slack-style
// `{ok:false, error}` errors thrown from method handlers, and the answers written back.

import type * as http from 'node:http';
import { randomUUID } from 'node:crypto';

/** A Slack `{ok:false, error}` answer, thrown from inside a method handler. */
export class SlackApiError extends Error {
  constructor(
    readonly error: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
  }
}

export function invalidArguments(...messages: string[]): SlackApiError {
  return new SlackApiError('invalid_arguments', { response_metadata: { messages } });
}

export type Args = Record<string, unknown>;
export type Answer = Record<string, unknown>;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string argument; form values are strings already, JSON bodies may carry numbers. '' counts as absent. */
export function str(args: Args, key: string): string | undefined {
  const value = args[key];
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function present(args: Args, key: string): boolean {
  const value = args[key];
  return value !== undefined && value !== null && value !== '';
}

export function compareTs(a: string, b: string): number {
  const [as = '0', au = '0'] = a.split('.');
  const [bs = '0', bu = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(au.padEnd(6, '0')) - Number(bu.padEnd(6, '0'));
}

export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------

interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) return undefined;
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts; // "--": the closing delimiter
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) return undefined;
    const end = body.indexOf(next, headerEnd + 4);
    if (end < 0) return undefined;
    const headers = body.subarray(pos, headerEnd).toString('utf8');
    const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? '';
    const type = /^content-type:\s*(.*)$/im.exec(headers)?.[1]?.trim();
    const part: MultipartPart = {
      name: /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? '',
      data: body.subarray(headerEnd + 4, end),
    };
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    if (filename !== undefined) part.filename = filename;
    if (type !== undefined) part.contentType = type;
    parts.push(part);
    pos = end + 2; // at the next delimiter
  }
}

/** Fields that travel as JSON strings inside form bodies. */
const JSON_FIELDS = ['blocks', 'attachments', 'files', 'view', 'metadata'] as const;

export interface ParsedRequest {
  args: Args;
  token: string | null;
  warnings: string[];
  /** A body Slack could not read: answered with this error after the call is recorded. */
  bodyError?: string;
}

export function parseApiRequest(req: http.IncomingMessage, url: URL, raw: Buffer): ParsedRequest {
  const args: Args = Object.fromEntries(url.searchParams.entries());
  const warnings: string[] = [];
  let bodyError: string | undefined;
  let formToken: string | undefined;
  const contentType = req.headers['content-type'] ?? '';
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  const hasCharset = /;\s*charset=/i.test(contentType);
  let isJson = false;

  if (raw.length > 0) {
    if (media === 'application/json') {
      isJson = true;
      if (!hasCharset) warnings.push('missing_charset');
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (isObject(parsed)) Object.assign(args, parsed);
        else bodyError = 'invalid_form_data';
      } catch {
        bodyError = 'invalid_form_data';
      }
    } else if (media === 'application/x-www-form-urlencoded') {
      if (hasCharset) warnings.push('superfluous_charset');
      for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) args[key] = value;
    } else if (media === 'multipart/form-data') {
      const parts = parseMultipart(raw, contentType);
      if (!parts) bodyError = 'invalid_form_data';
      for (const part of parts ?? []) {
        args[part.name] = part.filename !== undefined ? Buffer.from(part.data) : part.data.toString('utf8');
      }
    } else if (media === '') {
      bodyError = 'missing_post_type';
    } else {
      bodyError = 'invalid_post_type';
    }
  }

  // Token: the Authorization header, else a `token` field (never from a JSON body, as on the real API).
  if (typeof args.token === 'string' && !isJson) formToken = args.token;
  delete args.token;
  const auth = req.headers.authorization;
  let token: string | null = null;
  if (auth !== undefined && auth !== '') {
    const m = /^Bearer\s+(.*)$/i.exec(auth);
    token = m?.[1]?.trim() || 'malformed-authorization-header';
  } else if (formToken) {
    token = formToken;
  }

  if (!isJson) {
    for (const key of JSON_FIELDS) {
      const value = args[key];
      if (typeof value !== 'string' || value === '') continue;
      try {
        args[key] = JSON.parse(value) as unknown;
      } catch {
        // left as the raw string; the method's validation rejects it
      }
    }
  }
  const parsed: ParsedRequest = { args, token, warnings };
  if (bodyError !== undefined) parsed.bodyError = bodyError;
  return parsed;
}

export function sendJson(
  res: http.ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'X-Slack-Req-Id': randomUUID().replace(/-/g, ''),
    ...headers,
  });
  res.end(text);
}

export function sendText(res: http.ServerResponse, code: number, text: string): void {
  res.writeHead(code, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}
