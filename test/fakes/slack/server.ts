// The fake Slack API's HTTP server: routes /api/<method> and upload URLs, records every call, checks the
// token, answers injected failures and rate limits, and hands the call to the workspace. Socket Mode
// upgrades go to the hub.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { SocketModeHub, type SocketAck, type SocketEnvelopeType } from './socket-mode';
import {
  SlackWorkspace,
  WORKSPACE_METHODS,
  type ChannelFixture,
  type FakeEphemeral,
  type FakeMessage,
  type MessageFixture,
  type UploadedFile,
  type UserFixture,
} from './workspace';
import { SlackRateLimits } from './rate-limits';
import {
  SlackApiError,
  isObject,
  parseApiRequest,
  parseMultipart,
  readBody,
  sendJson,
  sendText,
  str,
  type Answer,
  type Args,
} from './wire';

export interface SlackCall {
  /** "chat.postMessage"…; uploads to an upload_url are recorded as "(upload_url)". */
  method: string;
  /** Form/JSON/query fields, with JSON-string fields (blocks, attachments, files, view, metadata) parsed. The token is not repeated here. */
  args: Record<string, unknown>;
  token: string | null;
  at: number;
  /** The HTTP status answered: 200 (also for `ok:false`), 429 when rate limited, 404 for an unknown upload_url. */
  status: number;
  /** The `error` of an `ok:false` answer. */
  error?: string;
}

/** A call made before the Retry-After of a 429 the same token got for the same method (and channel) had passed. */
export interface EarlyResend {
  method: string;
  /** chat.postMessage's channel id (its limit is per channel). */
  channel?: string;
  at: number;
  /** The Retry-After (seconds) that was not waited out, and how much of it was left. */
  retryAfterSeconds: number;
  earlyByMs: number;
}

export interface SlackStats {
  /** Every recorded call, admitted or refused; uploads to an upload_url as "(upload_url)". */
  callsByMethod: Record<string, number>;
  /** The 429s answered, enforced or injected with rateLimitNext. */
  rateLimitedByMethod: Record<string, number>;
  earlyResends: EarlyResend[];
}

export interface FakeSlackOptions {
  botToken?: string;
  botUserId?: string;
  botId?: string;
  teamId?: string;
  appToken?: string;
  /** The app id (bot messages, views, Socket Mode hello). Default 'A0TEST'. */
  appId?: string;
  /**
   * How many times faster than real time Slack's rate limits run (default 1): windows `speed` times
   * shorter, rates `speed` times higher. Retry-After stays whole seconds (see ./rate-limits.ts).
   */
  speed?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class FakeSlackApi {
  readonly calls: SlackCall[] = [];
  readonly messages: FakeMessage[];
  readonly files: UploadedFile[];
  readonly ephemerals: FakeEphemeral[];

  private readonly workspace: SlackWorkspace;
  private readonly socketMode: SocketModeHub;
  private readonly failures = new Map<string, string[]>();
  private readonly injectedRateLimits = new Map<string, number[]>();
  /** "token method [channel]" -> when the last 429's Retry-After runs out, and what it said. */
  private readonly retryAfterUntil = new Map<string, { until: number; seconds: number }>();
  private readonly earlyResends: EarlyResend[] = [];
  private stopped = false;

  private readonly botToken: string;
  private readonly appToken: string;

  private constructor(
    private readonly server: http.Server,
    private readonly origin: string,
    options: FakeSlackOptions,
    private readonly limits: SlackRateLimits,
  ) {
    this.botToken = options.botToken ?? 'xoxb-test-token';
    this.appToken = options.appToken ?? 'xapp-test';
    const appId = options.appId ?? 'A0TEST';
    this.workspace = new SlackWorkspace({
      botUserId: options.botUserId ?? 'U0BOT',
      botId: options.botId ?? 'B0BOT',
      teamId: options.teamId ?? 'T0001',
      appId,
      origin,
    });
    this.socketMode = new SocketModeHub(origin, appId);
    this.messages = this.workspace.messages;
    this.files = this.workspace.files;
    this.ephemerals = this.workspace.ephemerals;
  }

  static async start(options: FakeSlackOptions = {}): Promise<FakeSlackApi> {
    // Before listening: a bad speed throws without leaving a server open.
    const limits = new SlackRateLimits(options.speed ?? 1);
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const fake = new FakeSlackApi(server, `http://127.0.0.1:${port}`, options, limits);
    server.on(
      'request',
      (req: http.IncomingMessage, res: http.ServerResponse) => void fake.onRequest(req, res),
    );
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      fake.socketMode.onUpgrade(req, socket, head),
    );
    return fake;
  }

  /** "http://127.0.0.1:PORT/api/", as WebClient's slackApiUrl expects it. */
  get url(): string {
    return `${this.origin}/api/`;
  }

  // -- fixtures ---------------------------------------------------------------

  addChannel(channel: ChannelFixture): void {
    this.workspace.addChannel(channel);
  }

  addUser(user: UserFixture): void {
    this.workspace.addUser(user);
  }

  /** A message somebody else wrote (a person answering in a thread, say). Not part of the wire API. */
  addMessage(message: MessageFixture): FakeMessage {
    return this.workspace.addMessage(message);
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
    const queue = this.injectedRateLimits.get(method) ?? [];
    for (let i = 0; i < count; i++) queue.push(retryAfterSeconds);
    this.injectedRateLimits.set(method, queue);
  }

  // -- inspection -------------------------------------------------------------

  stats(): SlackStats {
    const callsByMethod: Record<string, number> = {};
    const rateLimitedByMethod: Record<string, number> = {};
    for (const call of this.calls) {
      callsByMethod[call.method] = (callsByMethod[call.method] ?? 0) + 1;
      if (call.status === 429) rateLimitedByMethod[call.method] = (rateLimitedByMethod[call.method] ?? 0) + 1;
    }
    return { callsByMethod, rateLimitedByMethod, earlyResends: [...this.earlyResends] };
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /**
   * The replies in a thread (not the parent), oldest first. The messages that share a file into the thread
   * (files.completeUploadExternal with thread_ts; they are in `messages` and on the wire, as on Slack) are
   * left out unless withFiles: the bot's own replies are what most tests count; `files` has the uploads.
   */
  thread(channel: string, threadTs: string, options: { withFiles?: boolean } = {}): FakeMessage[] {
    return this.workspace.thread(channel, threadTs, options);
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
  ): Promise<SocketAck> {
    if (this.stopped) throw new Error('FakeSlackApi.sendSocketEnvelope: the fake is stopped');
    return this.socketMode.sendEnvelope(envelope, options);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.socketMode.stop();
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve, reject) =>
      this.server.close((err) => (err ? reject(err) : resolve())),
    );
    // Keep-alive sockets from fetch would otherwise hold close() open (and jest with it).
    this.server.closeAllConnections();
    await closed;
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
        sendText(res, 404, 'Not Found');
        return;
      }
      this.onApiCall(m[1]!, req, url, raw, res);
    } catch (err) {
      // A bug in the fake: answer as Slack does when it breaks, but say what broke.
      sendJson(res, 500, {
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
    const now = Date.now();
    const call: SlackCall = { method, args: parsed.args, token: parsed.token, at: now, status: 200 };
    this.calls.push(call);

    if (!WORKSPACE_METHODS.has(method) && method !== 'apps.connections.open') {
      call.error = 'unknown_method';
      sendJson(res, 200, { ok: false, error: 'unknown_method', req_method: method });
      return;
    }
    // chat.postMessage is limited per channel: the channel's id, whichever way the target names it.
    const channel =
      method === 'chat.postMessage' ? this.workspace.channelIdOf(str(parsed.args, 'channel')) : undefined;
    const resendKey = `${parsed.token} ${method}${channel !== undefined ? ` ${channel}` : ''}`;
    this.noteEarlyResend(resendKey, method, channel, now);
    const rateLimited = (retryAfter: number): void => {
      call.status = 429;
      call.error = 'ratelimited';
      this.retryAfterUntil.set(resendKey, { until: now + retryAfter * 1000, seconds: retryAfter });
      sendJson(res, 429, { ok: false, error: 'ratelimited' }, { 'Retry-After': String(retryAfter) });
    };
    const injected = this.injectedRateLimits.get(method)?.shift();
    if (injected !== undefined) {
      rateLimited(injected);
      return;
    }
    let answer: Answer;
    try {
      if (parsed.bodyError !== undefined) throw new SlackApiError(parsed.bodyError);
      this.authenticate(method, parsed.token);
      // Limits count per token, so only calls with a valid one reach them.
      const retryAfter = this.limits.take(parsed.token ?? '', method, channel, now);
      if (retryAfter !== undefined) {
        rateLimited(retryAfter);
        return;
      }
      const failure = this.failures.get(method)?.shift();
      if (failure !== undefined) throw new SlackApiError(failure);
      answer = { ok: true, ...this.dispatch(method, parsed.args) };
    } catch (err) {
      if (!(err instanceof SlackApiError)) throw err;
      answer = { ok: false, error: err.error, ...err.extra };
      call.error = err.error;
    }
    const warnings = [...parsed.warnings, ...(typeof answer.warning === 'string' ? [answer.warning] : [])];
    if (warnings.length > 0) {
      answer.warning = warnings.join(',');
      const meta = isObject(answer.response_metadata) ? answer.response_metadata : {};
      answer.response_metadata = { ...meta, warnings };
    }
    sendJson(res, 200, answer);
  }

  private noteEarlyResend(key: string, method: string, channel: string | undefined, now: number): void {
    const last = this.retryAfterUntil.get(key);
    if (last === undefined || now >= last.until) return;
    const early: EarlyResend = {
      method,
      at: now,
      retryAfterSeconds: last.seconds,
      earlyByMs: last.until - now,
    };
    if (channel !== undefined) early.channel = channel;
    this.earlyResends.push(early);
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
    if (method === 'apps.connections.open') return { url: this.socketMode.openConnectionUrl() };
    return this.workspace.dispatch(method, args);
  }

  /** The upload_url: accepts multipart (what @slack/web-api sends: one part named "body") or the raw bytes. */
  private onUpload(req: http.IncomingMessage, res: http.ServerResponse, url: URL, raw: Buffer): void {
    const key = url.pathname.slice('/upload/v1/'.length);
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
    const fileId = this.workspace.receiveUpload(key, req.method === 'POST' ? bytes : undefined);
    if (fileId !== undefined) args.file_id = fileId;
    const auth = req.headers.authorization;
    const call: SlackCall = {
      method: '(upload_url)',
      args,
      token: auth?.replace(/^Bearer\s+/i, '') ?? null,
      at: Date.now(),
      status: 200,
    };
    this.calls.push(call);
    if (req.method !== 'POST' || fileId === undefined) {
      call.status = 404;
      sendText(res, 404, 'Not Found');
      return;
    }
    sendText(res, 200, `OK - ${bytes.length}`);
  }
}
