// A fake Slack Web API (and Socket Mode) server for tests. It speaks Slack's wire format, so the product
// can be pointed at it with `new WebClient(token, { slackApiUrl: fake.url })` or Bolt's
// `clientOptions: { slackApiUrl: fake.url }`, with no workspace.
//
// Wire format, as the real API has it:
// - Methods are POST (or GET) /api/<method>; bodies are application/x-www-form-urlencoded (what
//   @slack/web-api sends; nested values such as `blocks` arrive as JSON strings inside the form),
//   application/json (token only in the Authorization header there) or multipart/form-data.
//   Query-string arguments are merged in.
// - Every answer is HTTP 200 JSON with `ok`; errors are `{ok:false, error}` (plus `response_metadata.messages`
//   for argument errors). A missing token is `not_authed`, a wrong one `invalid_auth`, the app-level token
//   on a bot method `not_allowed_token_type`. Rate limiting is HTTP 429 with `Retry-After: <seconds>`.
// - JSON without `charset=utf-8` earns the `missing_charset` warning, a form with a charset `superfluous_charset`.
// - files.uploadV2 is files.getUploadURLExternal, a POST of the bytes (multipart or raw) to the returned
//   upload_url (answered `OK - <length>` as text/plain), then files.completeUploadExternal.
// - Socket Mode: apps.connections.open (app-level token only) hands out a single-use ws:// URL on this
//   server; a client that connects gets `hello`, and sendSocketEnvelope() delivers an envelope and
//   resolves with the client's ack.
//
// What it models, beyond plain storage: channel membership (not_in_channel, conversations.join on public
// channels only, private channels invisible to conversations.info when the bot is not in them), channel
// names ("#ops") and user ids (a DM) as chat.postMessage targets, Block Kit limits (50 blocks a message,
// 100 a view, 3000 characters a section text, 150 a header, 24 a modal title), single-use trigger_ids,
// view hashes (hash_conflict), only the bot's own messages being editable.
//
// Not modelled: scopes, conversations.history/replies, reactions, pagination, Events API over HTTP,
// retries of unacknowledged envelopes (sendSocketEnvelope rejects instead).

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';

export interface SlackCall {
  /** "chat.postMessage"…; uploads to an upload_url are recorded as "(upload_url)". */
  method: string;
  /** Form/JSON/query fields, with JSON-string fields (blocks, attachments, files, view, metadata) parsed. The token is not repeated here. */
  args: Record<string, unknown>;
  token: string | null;
  at: number;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  /** The bot user id for messages the bot posted; a person's id for messages added with addMessage(). */
  user: string;
  edits: number;
}

export interface UploadedFile {
  id: string;
  filename: string;
  title?: string;
  bytes: Buffer;
  channel?: string;
  thread_ts?: string;
}

export interface FakeEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  message_ts: string;
}

export interface FakeSlackOptions {
  botToken?: string;
  botUserId?: string;
  botId?: string;
  teamId?: string;
  appToken?: string;
  /** The app id (bot messages, views, Socket Mode hello). Default 'A0TEST'. */
  appId?: string;
}

export type SocketEnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

// ---------------------------------------------------------------------------
// `ws` (a transitive dependency, without type declarations here): the slice of its API the fake uses
// ---------------------------------------------------------------------------

type WsData = Buffer | ArrayBuffer | Buffer[];

interface WsSocket {
  readonly readyState: number;
  send(data: string, cb?: (err?: Error) => void): void;
  terminate(): void;
  on(event: 'message', listener: (data: WsData, isBinary: boolean) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

interface WsServer {
  handleUpgrade(
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (socket: WsSocket) => void,
  ): void;
  close(cb?: (err?: Error) => void): void;
}

interface WsModule {
  WebSocketServer: new (options: { noServer: true; clientTracking: boolean }) => WsServer;
}

const WS_OPEN = 1;

function loadWs(): WsModule {
  // Loaded on the first Socket Mode connection, so the HTTP side works without `ws`.
  return require('ws') as WsModule;
}

// ---------------------------------------------------------------------------
// Errors and small helpers
// ---------------------------------------------------------------------------

/** A Slack `{ok:false, error}` answer, thrown from inside a method handler. */
class SlackApiError extends Error {
  constructor(
    readonly error: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
  }
}

function invalidArguments(...messages: string[]): SlackApiError {
  return new SlackApiError('invalid_arguments', { response_metadata: { messages } });
}

type Args = Record<string, unknown>;
type Answer = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string argument; form values are strings already, JSON bodies may carry numbers. '' counts as absent. */
function str(args: Args, key: string): string | undefined {
  const value = args[key];
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function present(args: Args, key: string): boolean {
  const value = args[key];
  return value !== undefined && value !== null && value !== '';
}

function compareTs(a: string, b: string): number {
  const [as = '0', au = '0'] = a.split('.');
  const [bs = '0', bu = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(au.padEnd(6, '0')) - Number(bu.padEnd(6, '0'));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function wsDataToString(data: WsData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Label and offset (seconds east of UTC, now) of an IANA time zone, as users.info reports them. */
function tzInfo(tz: string, at = new Date()): { tz_label: string; tz_offset: number } {
  const part = (style: 'long' | 'longOffset'): string | undefined =>
    new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: style })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value;
  const offsetText = part('longOffset') ?? 'GMT'; // "GMT-07:00", or "GMT" for UTC
  const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(offsetText);
  const offset = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60) : 0;
  return { tz_label: part('long') ?? tz, tz_offset: offset };
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

function parseMultipart(body: Buffer, contentType: string): MultipartPart[] | undefined {
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

interface ParsedRequest {
  args: Args;
  token: string | null;
  warnings: string[];
  /** A body Slack could not read: answered with this error after the call is recorded. */
  bodyError?: string;
}

function parseApiRequest(req: http.IncomingMessage, url: URL, raw: Buffer): ParsedRequest {
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

// ---------------------------------------------------------------------------
// Block Kit validation (the limits the real API enforces and a bot is likely to hit)
// ---------------------------------------------------------------------------

const BLOCK_TYPES = new Set([
  'actions',
  'context',
  'context_actions',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

/** "[ERROR] <problem> [json-pointer:/blocks/0/text/text]" messages, as in Slack's response_metadata.messages. */
function blockErrors(blocks: unknown, pointer: string, maxBlocks: number): string[] {
  const errors: string[] = [];
  const err = (message: string, at: string): void => {
    errors.push(`[ERROR] ${message} [json-pointer:${at}]`);
  };
  if (!Array.isArray(blocks)) {
    err('must be an array', pointer);
    return errors;
  }
  if (blocks.length > maxBlocks) err(`no more than ${maxBlocks} items allowed`, pointer);
  const textObject = (value: unknown, at: string, max: number, plainOnly = false): void => {
    if (!isObject(value)) return err('must be an object', at);
    if (value.type !== 'plain_text' && (plainOnly || value.type !== 'mrkdwn')) {
      return err(`must be ${plainOnly ? "'plain_text'" : "'plain_text' or 'mrkdwn'"}`, `${at}/type`);
    }
    if (typeof value.text !== 'string') return err('missing required field: text', `${at}/text`);
    if (value.text.length === 0) err('must be more than 0 characters', `${at}/text`);
    if (value.text.length > max) err(`must be less than ${max + 1} characters`, `${at}/text`);
  };
  const blockIds = new Set<string>();
  blocks.forEach((block: unknown, i) => {
    const at = `${pointer}/${i}`;
    if (!isObject(block)) return err('must be an object', at);
    if (typeof block.type !== 'string') return err('missing required field: type', at);
    if (!BLOCK_TYPES.has(block.type)) return err(`unsupported type: ${block.type}`, `${at}/type`);
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== 'string' || block.block_id.length > 255)
        err('must be a string of at most 255 characters', `${at}/block_id`);
      else if (blockIds.has(block.block_id)) err(`duplicate block_id: ${block.block_id}`, `${at}/block_id`);
      else blockIds.add(block.block_id);
    }
    const elements = (min: number, max: number): void => {
      if (!Array.isArray(block.elements)) return err('missing required field: elements', at);
      if (block.elements.length < min) err(`must provide at least ${min} items`, `${at}/elements`);
      if (block.elements.length > max) err(`no more than ${max} items allowed`, `${at}/elements`);
    };
    switch (block.type) {
      case 'section':
        if (block.text === undefined && block.fields === undefined)
          err('must provide either text or fields', at);
        if (block.text !== undefined) textObject(block.text, `${at}/text`, 3000);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields)) err('must be an array', `${at}/fields`);
          else {
            if (block.fields.length > 10) err('no more than 10 items allowed', `${at}/fields`);
            block.fields.forEach((f: unknown, j) => textObject(f, `${at}/fields/${j}`, 2000));
          }
        }
        break;
      case 'header':
        textObject(block.text, `${at}/text`, 150, true);
        break;
      case 'context':
        elements(1, 10);
        break;
      case 'actions':
        elements(1, 25);
        break;
      case 'rich_text':
        elements(0, Infinity);
        break;
      case 'input':
        textObject(block.label, `${at}/label`, 2000, true);
        if (!isObject(block.element)) err('missing required field: element', at);
        break;
      case 'image':
        if (typeof block.image_url !== 'string' && !isObject(block.slack_file))
          err('must provide either image_url or slack_file', at);
        if (typeof block.alt_text !== 'string') err('missing required field: alt_text', at);
        break;
      case 'markdown':
        if (typeof block.text !== 'string') err('missing required field: text', at);
        else if (block.text.length > 12000) err('must be less than 12001 characters', `${at}/text`);
        break;
    }
  });
  return errors;
}

function viewErrors(view: unknown): string[] {
  if (!isObject(view)) return ['[ERROR] must be an object [json-pointer:/view]'];
  const errors: string[] = [];
  const err = (message: string, at: string): void => {
    errors.push(`[ERROR] ${message} [json-pointer:/view${at}]`);
  };
  if (view.type !== 'modal' && view.type !== 'home') {
    err(
      view.type === undefined ? 'missing required field: type' : `unsupported type: ${String(view.type)}`,
      '/type',
    );
    return errors;
  }
  const plain = (value: unknown, at: string, max: number): void => {
    if (!isObject(value) || value.type !== 'plain_text' || typeof value.text !== 'string') {
      return err("must be a 'plain_text' text object", at);
    }
    if (value.text.length === 0) err('must be more than 0 characters', `${at}/text`);
    if (value.text.length > max) err(`must be less than ${max + 1} characters`, `${at}/text`);
  };
  if (view.type === 'modal') {
    if (view.title === undefined) err('missing required field: title', '');
    else plain(view.title, '/title', 24);
    if (view.submit !== undefined) plain(view.submit, '/submit', 24);
    if (view.close !== undefined) plain(view.close, '/close', 24);
  }
  if (view.blocks === undefined) err('missing required field: blocks', '');
  else {
    errors.push(...blockErrors(view.blocks, '/view/blocks', 100));
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (view.type === 'modal' && hasInput && view.submit === undefined)
      err('must provide a submit property when using input blocks', '');
  }
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000)
    err('must be less than 3001 characters', '/private_metadata');
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255)
    err('must be less than 256 characters', '/callback_id');
  return errors;
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

interface ChannelState {
  id: string;
  name: string;
  is_private: boolean;
  is_im: boolean;
  /** For a DM: the person. */
  user?: string;
  members: Set<string>;
  created: number;
}

interface UserState {
  id: string;
  name: string;
  tz: string;
  groups: string[];
  is_bot: boolean;
}

interface PendingUpload {
  id: string;
  key: string;
  filename: string;
  length: number;
  bytes?: Buffer;
}

interface PendingEnvelope {
  resolve: (ack: { envelope_id: string; ackPayload?: unknown }) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const API_METHODS = new Set([
  'auth.test',
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'chat.delete',
  'conversations.join',
  'conversations.info',
  'users.info',
  'usergroups.users.list',
  'files.getUploadURLExternal',
  'files.completeUploadExternal',
  'views.open',
  'views.update',
  'apps.connections.open',
]);

const MIME_TYPES: Readonly<Record<string, string>> = {
  txt: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  json: 'application/json',
  yaml: 'application/x-yaml',
  yml: 'application/x-yaml',
  csv: 'text/csv',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
};

const BASE_TS_SECONDS = 1700000000;

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

export class FakeSlackApi {
  readonly calls: SlackCall[] = [];
  readonly messages: FakeMessage[] = [];
  readonly files: UploadedFile[] = [];
  readonly ephemerals: FakeEphemeral[] = [];

  private readonly channels = new Map<string, ChannelState>();
  private readonly users = new Map<string, UserState>();
  private readonly failures = new Map<string, string[]>();
  private readonly rateLimits = new Map<string, number[]>();
  private readonly uploads = new Map<string, PendingUpload>(); // file id -> pending upload
  private readonly views = new Map<string, Record<string, unknown>>(); // view id -> view
  private readonly usedTriggers = new Set<string>();
  private readonly tickets = new Set<string>();
  private readonly sockets = new Set<WsSocket>();
  private readonly pendingEnvelopes = new Map<string, PendingEnvelope>();
  private wss: WsServer | undefined;
  private tsCounter = 0;
  private idCounter = 0;
  private stopped = false;

  private readonly botToken: string;
  private readonly botUserId: string;
  private readonly botId: string;
  private readonly teamId: string;
  private readonly appToken: string;
  private readonly appId: string;

  private constructor(
    private readonly server: http.Server,
    private readonly origin: string,
    options: FakeSlackOptions,
  ) {
    this.botToken = options.botToken ?? 'xoxb-test-token';
    this.botUserId = options.botUserId ?? 'U0BOT';
    this.botId = options.botId ?? 'B0BOT';
    this.teamId = options.teamId ?? 'T0001';
    this.appToken = options.appToken ?? 'xapp-test';
    this.appId = options.appId ?? 'A0TEST';
    this.users.set(this.botUserId, {
      id: this.botUserId,
      name: 'oomdoctor',
      tz: 'America/Los_Angeles',
      groups: [],
      is_bot: true,
    });
  }

  static async start(options: FakeSlackOptions = {}): Promise<FakeSlackApi> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const fake = new FakeSlackApi(server, `http://127.0.0.1:${port}`, options);
    server.on(
      'request',
      (req: http.IncomingMessage, res: http.ServerResponse) => void fake.onRequest(req, res),
    );
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      fake.onUpgrade(req, socket, head),
    );
    return fake;
  }

  /** "http://127.0.0.1:PORT/api/", as WebClient's slackApiUrl expects it. */
  get url(): string {
    return `${this.origin}/api/`;
  }

  // -- fixtures ---------------------------------------------------------------

  addChannel(channel: { id: string; name: string; is_private?: boolean; members?: string[] }): void {
    if (!channel.id) throw new Error('FakeSlackApi.addChannel: id is required');
    this.channels.set(channel.id, {
      id: channel.id,
      name: channel.name.replace(/^#/, ''),
      is_private: channel.is_private ?? false,
      is_im: false,
      members: new Set(channel.members ?? []),
      created: BASE_TS_SECONDS - 86400,
    });
  }

  addUser(user: { id: string; name: string; tz?: string; groups?: string[] }): void {
    const tz = user.tz ?? 'America/Los_Angeles';
    tzInfo(tz); // throws a RangeError for an unknown zone, here rather than in the middle of a request
    this.users.set(user.id, {
      id: user.id,
      name: user.name,
      tz,
      groups: [...(user.groups ?? [])],
      is_bot: false,
    });
  }

  /** A message somebody else wrote (a person answering in a thread, say). Not part of the wire API. */
  addMessage(message: {
    channel: string;
    user: string;
    text: string;
    ts?: string;
    thread_ts?: string;
    blocks?: unknown[];
  }): FakeMessage {
    if (!this.channels.has(message.channel))
      throw new Error(`FakeSlackApi.addMessage: unknown channel ${message.channel}`);
    const stored: FakeMessage = {
      channel: message.channel,
      ts: message.ts ?? this.nextTs(),
      text: message.text,
      user: message.user,
      edits: 0,
    };
    if (message.thread_ts !== undefined) stored.thread_ts = message.thread_ts;
    if (message.blocks !== undefined) stored.blocks = message.blocks;
    this.messages.push(stored);
    return stored;
  }

  failNext(method: string, error: string, count = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < count; i++) queue.push(error);
    this.failures.set(method, queue);
  }

  rateLimitNext(method: string, retryAfterSeconds: number, count = 1): void {
    if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
      throw new Error(
        `FakeSlackApi.rateLimitNext: Retry-After must be a whole number of seconds, got ${retryAfterSeconds}`,
      );
    }
    const queue = this.rateLimits.get(method) ?? [];
    for (let i = 0; i < count; i++) queue.push(retryAfterSeconds);
    this.rateLimits.set(method, queue);
  }

  // -- inspection -------------------------------------------------------------

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** The replies in a thread (not the parent), oldest first. */
  thread(channel: string, threadTs: string): FakeMessage[] {
    return this.messages
      .filter((m) => m.channel === channel && m.thread_ts === threadTs && m.ts !== threadTs)
      .sort((a, b) => compareTs(a.ts, b.ts));
  }

  async waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() >= deadline)
        throw new Error(`FakeSlackApi.waitFor: condition not met within ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  // -- Socket Mode ------------------------------------------------------------

  /**
   * Sends an envelope to the connected Socket Mode client (waiting up to 5 s for one to connect) and
   * resolves with its ack. Rejects when no ack arrives within ackTimeoutMs (default 3000: Slack's own
   * deadline, after which the user sees a timeout).
   */
  async sendSocketEnvelope(
    envelope: { type: SocketEnvelopeType; payload: unknown },
    options: { ackTimeoutMs?: number } = {},
  ): Promise<{ envelope_id: string; ackPayload?: unknown }> {
    const open = (): WsSocket | undefined => [...this.sockets].find((s) => s.readyState === WS_OPEN);
    if (this.stopped) throw new Error('FakeSlackApi.sendSocketEnvelope: the fake is stopped');
    if (open() === undefined) {
      try {
        await this.waitFor(() => open() !== undefined || this.stopped, 5000);
      } catch {
        throw new Error('FakeSlackApi.sendSocketEnvelope: no Socket Mode client connected');
      }
    }
    const socket = open();
    if (!socket || this.stopped)
      throw new Error(
        'FakeSlackApi.sendSocketEnvelope: no Socket Mode client connected (or the fake stopped)',
      );
    const envelopeId = randomUUID();
    const ackTimeoutMs = options.ackTimeoutMs ?? 3000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingEnvelopes.delete(envelopeId);
        reject(
          new Error(
            `FakeSlackApi.sendSocketEnvelope: no ack for ${envelope.type} envelope ${envelopeId} within ${ackTimeoutMs} ms`,
          ),
        );
      }, ackTimeoutMs);
      this.pendingEnvelopes.set(envelopeId, { resolve, reject, timer });
      const frame = {
        envelope_id: envelopeId,
        type: envelope.type,
        payload: envelope.payload,
        accepts_response_payload: true,
        retry_attempt: 0,
        retry_reason: '',
      };
      socket.send(JSON.stringify(frame), (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pendingEnvelopes.delete(envelopeId);
        reject(err);
      });
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const [id, pending] of this.pendingEnvelopes) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`FakeSlackApi stopped before envelope ${id} was acknowledged`));
    }
    this.pendingEnvelopes.clear();
    // Upgraded sockets are no longer the HTTP server's: end them here, or they hold the process open.
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
    const wss = this.wss;
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve, reject) =>
      this.server.close((err) => (err ? reject(err) : resolve())),
    );
    // Keep-alive sockets from fetch would otherwise hold close() open (and jest with it).
    this.server.closeAllConnections();
    await closed;
  }

  // -- ids --------------------------------------------------------------------

  private nextTs(): string {
    this.tsCounter++;
    const micros = this.tsCounter * 100;
    const seconds = BASE_TS_SECONDS + Math.floor(micros / 1_000_000);
    return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  private nextId(prefix: string): string {
    this.idCounter++;
    return `${prefix}0${this.idCounter.toString(36).toUpperCase().padStart(8, '0')}`;
  }

  // -- HTTP -------------------------------------------------------------------

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const raw = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://fake.invalid');
      if (url.pathname.startsWith('/upload/v1/')) {
        this.onUpload(req, res, url, raw);
        return;
      }
      const m = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
      if (!m || (req.method !== 'POST' && req.method !== 'GET')) {
        this.sendText(res, 404, 'Not Found');
        return;
      }
      this.onApiCall(m[1]!, req, url, raw, res);
    } catch (err) {
      // A bug in the fake: answer as Slack does when it breaks, but say what broke.
      this.sendJson(res, 500, {
        ok: false,
        error: 'fatal_error',
        detail: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private onApiCall(
    method: string,
    req: http.IncomingMessage,
    url: URL,
    raw: Buffer,
    res: http.ServerResponse,
  ): void {
    const parsed = parseApiRequest(req, url, raw);
    this.calls.push({ method, args: parsed.args, token: parsed.token, at: Date.now() });

    if (!API_METHODS.has(method)) {
      this.sendJson(res, 200, { ok: false, error: 'unknown_method', req_method: method });
      return;
    }
    const retryAfter = this.rateLimits.get(method)?.shift();
    if (retryAfter !== undefined) {
      this.sendJson(res, 429, { ok: false, error: 'ratelimited' }, { 'Retry-After': String(retryAfter) });
      return;
    }
    let answer: Answer;
    try {
      if (parsed.bodyError !== undefined) throw new SlackApiError(parsed.bodyError);
      this.authenticate(method, parsed.token);
      const failure = this.failures.get(method)?.shift();
      if (failure !== undefined) throw new SlackApiError(failure);
      answer = { ok: true, ...this.dispatch(method, parsed.args) };
    } catch (err) {
      if (!(err instanceof SlackApiError)) throw err;
      answer = { ok: false, error: err.error, ...err.extra };
    }
    const warnings = [...parsed.warnings, ...(typeof answer.warning === 'string' ? [answer.warning] : [])];
    if (warnings.length > 0) {
      answer.warning = warnings.join(',');
      const meta = isObject(answer.response_metadata) ? answer.response_metadata : {};
      answer.response_metadata = { ...meta, warnings };
    }
    this.sendJson(res, 200, answer);
  }

  private authenticate(method: string, token: string | null): void {
    if (token === null) throw new SlackApiError('not_authed');
    if (method === 'apps.connections.open') {
      if (token !== this.appToken) throw new SlackApiError('invalid_auth');
      return;
    }
    if (token === this.appToken) throw new SlackApiError('not_allowed_token_type');
    if (token !== this.botToken) throw new SlackApiError('invalid_auth');
  }

  private dispatch(method: string, args: Args): Answer {
    switch (method) {
      case 'auth.test':
        return {
          url: 'https://fake-workspace.slack.com/',
          team: 'Fake Workspace',
          user: this.users.get(this.botUserId)?.name ?? 'oomdoctor',
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
          is_enterprise_install: false,
        };
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.updateMessage(args);
      case 'chat.postEphemeral':
        return this.postEphemeral(args);
      case 'chat.delete':
        return this.deleteMessage(args);
      case 'conversations.join':
        return this.join(args);
      case 'conversations.info':
        return this.conversationInfo(args);
      case 'users.info':
        return this.userInfo(args);
      case 'usergroups.users.list':
        return this.usergroupUsers(args);
      case 'files.getUploadURLExternal':
        return this.getUploadUrl(args);
      case 'files.completeUploadExternal':
        return this.completeUpload(args);
      case 'views.open':
        return this.openView(args);
      case 'views.update':
        return this.updateView(args);
      case 'apps.connections.open': {
        const ticket = randomUUID();
        this.tickets.add(ticket);
        const wsOrigin = this.origin.replace(/^http/, 'ws');
        return { url: `${wsOrigin}/socket-mode?ticket=${ticket}&app_id=${this.appId}` };
      }
      default:
        throw new SlackApiError('unknown_method');
    }
  }

  private sendJson(
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

  private sendText(res: http.ServerResponse, code: number, text: string): void {
    res.writeHead(code, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  // -- channels and messages ----------------------------------------------------

  /** A channel id, a "#name"/"name", or a person's user id (their DM with the bot), as chat.post* accept. */
  private resolveTarget(target: string | undefined): ChannelState {
    if (target === undefined) throw new SlackApiError('channel_not_found');
    const byId = this.channels.get(target);
    if (byId) return byId;
    const user = this.users.get(target);
    if (user && !user.is_bot) return this.imWith(user.id);
    const name = target.replace(/^#/, '');
    for (const channel of this.channels.values()) {
      if (!channel.is_im && channel.name === name) return channel;
    }
    throw new SlackApiError('channel_not_found');
  }

  private channelById(id: string | undefined): ChannelState {
    const channel = id === undefined ? undefined : this.channels.get(id);
    if (!channel) throw new SlackApiError('channel_not_found');
    return channel;
  }

  private imWith(userId: string): ChannelState {
    const id = `D${userId.replace(/^[UW]/, '')}`;
    let im = this.channels.get(id);
    if (!im) {
      im = {
        id,
        name: id,
        is_private: true,
        is_im: true,
        user: userId,
        members: new Set([userId, this.botUserId]),
        created: BASE_TS_SECONDS,
      };
      this.channels.set(id, im);
    }
    return im;
  }

  private requireMember(channel: ChannelState): void {
    if (!channel.members.has(this.botUserId)) throw new SlackApiError('not_in_channel');
  }

  /** text/blocks/attachments as chat.postMessage and friends validate them. */
  private content(
    args: Args,
    requireSome: boolean,
  ): { text?: string; blocks?: unknown[]; attachments?: unknown[] } {
    const out: { text?: string; blocks?: unknown[]; attachments?: unknown[] } = {};
    if (typeof args.text === 'string' || typeof args.text === 'number') out.text = String(args.text);
    if (present(args, 'blocks')) {
      if (!Array.isArray(args.blocks)) throw new SlackApiError('invalid_blocks_format');
      const errors = blockErrors(args.blocks, '/blocks', 50);
      if (errors.length > 0)
        throw new SlackApiError('invalid_blocks', {
          errors: errors.map((e) => e.replace(/^\[ERROR\] /, '')),
          response_metadata: { messages: errors },
        });
      out.blocks = args.blocks;
    }
    if (present(args, 'attachments')) {
      if (!Array.isArray(args.attachments)) throw new SlackApiError('invalid_attachments');
      if (args.attachments.length > 100) throw new SlackApiError('too_many_attachments');
      out.attachments = args.attachments;
    }
    if ((out.text ?? '').length > 40000) throw new SlackApiError('msg_too_long');
    if (requireSome && !out.text && !out.blocks?.length && !out.attachments?.length)
      throw new SlackApiError('no_text');
    return out;
  }

  private findMessage(channel: string, ts: string | undefined): FakeMessage | undefined {
    return ts === undefined ? undefined : this.messages.find((m) => m.channel === channel && m.ts === ts);
  }

  /** A message as the API returns it (chat.postMessage's `message`). */
  private wire(message: FakeMessage): Answer {
    const out: Answer = { user: message.user, type: 'message', ts: message.ts };
    if (message.user === this.botUserId) {
      out.bot_id = this.botId;
      out.app_id = this.appId;
    }
    out.text = message.text;
    out.team = this.teamId;
    if (message.user === this.botUserId) {
      out.bot_profile = {
        id: this.botId,
        deleted: false,
        name: 'oomdoctor',
        updated: BASE_TS_SECONDS,
        app_id: this.appId,
        icons: { image_36: 'https://a.slack-edge.com/80588/img/plugins/app/bot_36.png' },
        team_id: this.teamId,
      };
    }
    if (message.blocks) out.blocks = message.blocks;
    if (message.attachments)
      out.attachments = message.attachments.map((a, i) => (isObject(a) ? { id: i + 1, ...a } : a));
    if (message.thread_ts !== undefined) {
      out.thread_ts = message.thread_ts;
      const parent = this.findMessage(message.channel, message.thread_ts);
      if (parent) out.parent_user_id = parent.user;
    }
    return out;
  }

  private postMessage(args: Args): Answer {
    const channel = this.resolveTarget(str(args, 'channel'));
    this.requireMember(channel);
    const content = this.content(args, true);
    const message: FakeMessage = {
      channel: channel.id,
      ts: this.nextTs(),
      text: content.text ?? '',
      user: this.botUserId,
      edits: 0,
    };
    if (content.blocks) message.blocks = content.blocks;
    if (content.attachments) message.attachments = content.attachments;
    // The real API accepts a thread_ts that names no message (the reply then shows up nowhere); so does this.
    const threadTs = str(args, 'thread_ts');
    if (threadTs !== undefined) message.thread_ts = threadTs;
    this.messages.push(message);
    return { channel: channel.id, ts: message.ts, message: this.wire(message) };
  }

  private updateMessage(args: Args): Answer {
    const channel = this.channelById(str(args, 'channel'));
    const message = this.findMessage(channel.id, str(args, 'ts'));
    if (!message) throw new SlackApiError('message_not_found');
    if (message.user !== this.botUserId) throw new SlackApiError('cant_update_message');
    const content = this.content(args, true);
    if (content.text !== undefined) message.text = content.text;
    if (content.blocks !== undefined) message.blocks = content.blocks;
    if (content.attachments !== undefined) message.attachments = content.attachments;
    message.edits++;
    const wire = this.wire(message);
    delete wire.ts;
    return {
      channel: channel.id,
      ts: message.ts,
      text: message.text,
      message: { ...wire, edited: { user: this.botUserId, ts: this.nextTs() } },
    };
  }

  private deleteMessage(args: Args): Answer {
    const channel = this.channelById(str(args, 'channel'));
    const message = this.findMessage(channel.id, str(args, 'ts'));
    if (!message) throw new SlackApiError('message_not_found');
    if (message.user !== this.botUserId) throw new SlackApiError('cant_delete_message');
    this.messages.splice(this.messages.indexOf(message), 1);
    return { channel: channel.id, ts: message.ts };
  }

  private postEphemeral(args: Args): Answer {
    const channel = this.resolveTarget(str(args, 'channel'));
    this.requireMember(channel);
    const user = str(args, 'user');
    if (user === undefined) throw invalidArguments('[ERROR] missing required field: user');
    if (!channel.members.has(user)) throw new SlackApiError('user_not_in_channel');
    const content = this.content(args, true);
    const ephemeral: FakeEphemeral = {
      channel: channel.id,
      user,
      text: content.text ?? '',
      message_ts: this.nextTs(),
    };
    if (content.blocks) ephemeral.blocks = content.blocks;
    const threadTs = str(args, 'thread_ts');
    if (threadTs !== undefined) ephemeral.thread_ts = threadTs;
    this.ephemerals.push(ephemeral);
    return { message_ts: ephemeral.message_ts };
  }

  private channelInfo(channel: ChannelState): Answer {
    if (channel.is_im) {
      return {
        id: channel.id,
        created: channel.created,
        is_im: true,
        is_org_shared: false,
        user: channel.user,
        is_user_deleted: false,
        priority: 0,
      };
    }
    return {
      id: channel.id,
      name: channel.name,
      is_channel: !channel.is_private,
      is_group: false,
      is_im: false,
      is_mpim: false,
      is_private: channel.is_private,
      created: channel.created,
      is_archived: false,
      is_general: false,
      unlinked: 0,
      name_normalized: channel.name,
      is_shared: false,
      is_org_shared: false,
      is_pending_ext_shared: false,
      pending_shared: [],
      context_team_id: this.teamId,
      creator: '',
      is_ext_shared: false,
      shared_team_ids: [this.teamId],
      is_member: channel.members.has(this.botUserId),
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
      previous_names: [],
    };
  }

  private join(args: Args): Answer {
    const channel = this.channelById(str(args, 'channel'));
    if (channel.is_private || channel.is_im) throw new SlackApiError('method_not_supported_for_channel_type');
    if (channel.members.has(this.botUserId)) {
      return { channel: this.channelInfo(channel), warning: 'already_in_channel' };
    }
    channel.members.add(this.botUserId);
    return { channel: this.channelInfo(channel) };
  }

  private conversationInfo(args: Args): Answer {
    const channel = this.channelById(str(args, 'channel'));
    // A private channel the bot is not in does not exist, as far as the bot can tell.
    if (channel.is_private && !channel.members.has(this.botUserId))
      throw new SlackApiError('channel_not_found');
    return { channel: this.channelInfo(channel) };
  }

  // -- users ------------------------------------------------------------------

  private userInfo(args: Args): Answer {
    const id = str(args, 'user');
    const user = id === undefined ? undefined : this.users.get(id);
    if (!user) throw new SlackApiError('user_not_found');
    const { tz_label, tz_offset } = tzInfo(user.tz);
    const profile: Answer = {
      real_name: user.name,
      display_name: user.name,
      real_name_normalized: user.name,
      display_name_normalized: user.name,
      team: this.teamId,
    };
    if (user.is_bot) {
      profile.bot_id = this.botId;
      profile.api_app_id = this.appId;
    }
    return {
      user: {
        id: user.id,
        team_id: this.teamId,
        name: user.name,
        deleted: false,
        color: '9f69e7',
        real_name: user.name,
        tz: user.tz,
        tz_label,
        tz_offset,
        profile,
        is_admin: false,
        is_owner: false,
        is_primary_owner: false,
        is_restricted: false,
        is_ultra_restricted: false,
        is_bot: user.is_bot,
        is_app_user: false,
        updated: BASE_TS_SECONDS,
      },
    };
  }

  private usergroupUsers(args: Args): Answer {
    const group = str(args, 'usergroup');
    if (group === undefined) throw invalidArguments('[ERROR] missing required field: usergroup');
    const members = [...this.users.values()].filter((u) => u.groups.includes(group)).map((u) => u.id);
    if (members.length === 0) throw new SlackApiError('no_such_subteam');
    return { users: members };
  }

  // -- files --------------------------------------------------------------------

  private getUploadUrl(args: Args): Answer {
    const filename = str(args, 'filename');
    const lengthText = str(args, 'length');
    const messages: string[] = [];
    if (filename === undefined) messages.push('[ERROR] missing required field: filename');
    if (lengthText === undefined) messages.push('[ERROR] missing required field: length');
    const length = Number(lengthText);
    if (lengthText !== undefined && (!Number.isInteger(length) || length < 1))
      messages.push('[ERROR] must be a positive integer [json-pointer:/length]');
    if (messages.length > 0) throw invalidArguments(...messages);
    const upload: PendingUpload = {
      id: this.nextId('F'),
      key: randomUUID().replace(/-/g, ''),
      filename: filename!,
      length,
    };
    this.uploads.set(upload.id, upload);
    return { upload_url: `${this.origin}/upload/v1/${upload.key}`, file_id: upload.id };
  }

  /** The upload_url: accepts multipart (what @slack/web-api sends: one part named "body") or the raw bytes. */
  private onUpload(req: http.IncomingMessage, res: http.ServerResponse, url: URL, raw: Buffer): void {
    const key = url.pathname.slice('/upload/v1/'.length);
    const upload = [...this.uploads.values()].find((u) => u.key === key);
    const contentType = req.headers['content-type'] ?? '';
    const args: Args = { content_type: contentType };
    let bytes = raw;
    if (/^multipart\/form-data/i.test(contentType)) {
      const parts = parseMultipart(raw, contentType) ?? [];
      const part = parts.find((p) => p.filename !== undefined) ?? parts[0];
      if (part) {
        bytes = Buffer.from(part.data);
        args.field = part.name;
        if (part.filename !== undefined) args.filename = part.filename;
      }
    }
    args.length = bytes.length;
    if (upload) args.file_id = upload.id;
    const auth = req.headers.authorization;
    this.calls.push({
      method: '(upload_url)',
      args,
      token: auth?.replace(/^Bearer\s+/i, '') ?? null,
      at: Date.now(),
    });
    if (req.method !== 'POST' || !upload) {
      this.sendText(res, 404, 'Not Found');
      return;
    }
    upload.bytes = bytes;
    this.sendText(res, 200, `OK - ${bytes.length}`);
  }

  private completeUpload(args: Args): Answer {
    const files = args.files;
    if (
      !Array.isArray(files) ||
      files.length === 0 ||
      !files.every((f) => isObject(f) && typeof f.id === 'string')
    ) {
      throw invalidArguments('[ERROR] missing required field: files');
    }
    const channelId = str(args, 'channel_id') ?? str(args, 'channels');
    let channel: ChannelState | undefined;
    if (channelId !== undefined) {
      channel = this.channelById(channelId);
      this.requireMember(channel);
    }
    const threadTs = str(args, 'thread_ts');
    const entries = files as Array<{ id: string; title?: unknown }>;
    const pending = entries.map((f) => {
      const upload = this.uploads.get(f.id);
      if (!upload || upload.bytes === undefined) throw new SlackApiError('file_not_found');
      return {
        upload,
        bytes: upload.bytes,
        title: typeof f.title === 'string' && f.title !== '' ? f.title : undefined,
      };
    });
    const now = Math.floor(Date.now() / 1000);
    const out: Answer[] = [];
    for (const { upload, bytes, title } of pending) {
      this.uploads.delete(upload.id);
      const stored: UploadedFile = { id: upload.id, filename: upload.filename, bytes };
      if (title !== undefined) stored.title = title;
      if (channel) stored.channel = channel.id;
      if (channel && threadTs !== undefined) stored.thread_ts = threadTs;
      this.files.push(stored);
      const ext = upload.filename.includes('.') ? upload.filename.split('.').pop()!.toLowerCase() : '';
      out.push({
        id: upload.id,
        created: now,
        timestamp: now,
        name: upload.filename,
        title: title ?? upload.filename,
        mimetype: MIME_TYPES[ext] ?? 'application/octet-stream',
        filetype: ext || 'binary',
        user: this.botUserId,
        user_team: this.teamId,
        editable: false,
        size: bytes.length,
        mode: 'hosted',
        is_external: false,
        external_type: '',
        is_public: channel !== undefined && !channel.is_private,
        public_url_shared: false,
        url_private: `${this.origin}/files-pri/${this.teamId}-${upload.id}/${encodeURIComponent(upload.filename)}`,
        url_private_download: `${this.origin}/files-pri/${this.teamId}-${upload.id}/download/${encodeURIComponent(upload.filename)}`,
        permalink: `https://fake-workspace.slack.com/files/${this.botUserId}/${upload.id}/${encodeURIComponent(upload.filename)}`,
        // Sharing into the channel happens asynchronously on the real API, so these start empty.
        channels: [],
        groups: [],
        ims: [],
        shares: {},
        comments_count: 0,
      });
    }
    return { files: out };
  }

  // -- views --------------------------------------------------------------------

  private storeView(
    view: Record<string, unknown>,
    previous: Record<string, unknown> | undefined,
  ): Record<string, unknown> {
    const id = typeof previous?.id === 'string' ? previous.id : this.nextId('V');
    const stored: Record<string, unknown> = {
      id,
      team_id: this.teamId,
      type: view.type,
      blocks: view.blocks,
      private_metadata: view.private_metadata ?? '',
      callback_id: view.callback_id ?? '',
      state: { values: {} },
      hash: `${Math.floor(Date.now() / 1000)}.${randomUUID().slice(0, 8)}`,
      title: view.title,
      clear_on_close: view.clear_on_close ?? false,
      notify_on_close: view.notify_on_close ?? false,
      close: view.close ?? null,
      submit: view.submit ?? null,
      previous_view_id: null,
      root_view_id: previous?.root_view_id ?? id,
      app_id: this.appId,
      external_id: view.external_id ?? previous?.external_id ?? '',
      app_installed_team_id: this.teamId,
      bot_id: this.botId,
    };
    this.views.set(id, stored);
    return stored;
  }

  private viewArg(args: Args): Record<string, unknown> {
    const view = args.view;
    if (view === undefined || view === '') throw invalidArguments('[ERROR] missing required field: view');
    const errors = viewErrors(view);
    if (errors.length > 0) throw invalidArguments(...errors);
    return view as Record<string, unknown>;
  }

  private openView(args: Args): Answer {
    const trigger = str(args, 'trigger_id');
    if (trigger === undefined) throw invalidArguments('[ERROR] missing required field: trigger_id');
    const view = this.viewArg(args);
    if (this.usedTriggers.has(trigger)) throw new SlackApiError('exchanged_trigger_id');
    this.usedTriggers.add(trigger);
    if (
      typeof view.external_id === 'string' &&
      [...this.views.values()].some((v) => v.external_id === view.external_id)
    ) {
      throw new SlackApiError('duplicate_external_id');
    }
    return { view: this.storeView(view, undefined) };
  }

  private updateView(args: Args): Answer {
    const viewId = str(args, 'view_id');
    const externalId = str(args, 'external_id');
    if (viewId === undefined && externalId === undefined)
      throw invalidArguments('[ERROR] must provide either view_id or external_id');
    const view = this.viewArg(args);
    const existing =
      viewId !== undefined
        ? this.views.get(viewId)
        : [...this.views.values()].find((v) => v.external_id === externalId);
    if (!existing) throw new SlackApiError('not_found');
    const hash = str(args, 'hash');
    if (hash !== undefined && hash !== existing.hash) throw new SlackApiError('hash_conflict');
    return { view: this.storeView(view, existing) };
  }

  // -- Socket Mode (WebSocket side) -----------------------------------------------

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const ticket = url.searchParams.get('ticket');
    const refuse = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (this.stopped || url.pathname !== '/socket-mode') return refuse('404 Not Found');
    if (ticket === null || !this.tickets.delete(ticket)) return refuse('401 Unauthorized'); // tickets are single-use
    let ws: WsModule;
    try {
      ws = loadWs();
    } catch {
      return refuse('501 Not Implemented'); // `ws` is not installed
    }
    this.wss ??= new ws.WebSocketServer({ noServer: true, clientTracking: false });
    this.wss.handleUpgrade(req, socket, head, (client) => this.onSocket(client));
  }

  private onSocket(socket: WsSocket): void {
    if (this.stopped) {
      socket.terminate();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => this.sockets.delete(socket));
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let frame: unknown;
      try {
        frame = JSON.parse(wsDataToString(data));
      } catch {
        return; // Slack ignores what it cannot parse
      }
      if (!isObject(frame) || typeof frame.envelope_id !== 'string') return;
      const pending = this.pendingEnvelopes.get(frame.envelope_id);
      if (!pending) return;
      this.pendingEnvelopes.delete(frame.envelope_id);
      clearTimeout(pending.timer);
      const ack: { envelope_id: string; ackPayload?: unknown } = { envelope_id: frame.envelope_id };
      if ('payload' in frame) ack.ackPayload = frame.payload;
      pending.resolve(ack);
    });
    const open = [...this.sockets].filter((s) => s.readyState === WS_OPEN).length;
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: open,
        debug_info: { host: 'fake' },
        connection_info: { app_id: this.appId },
      }),
    );
  }
}
