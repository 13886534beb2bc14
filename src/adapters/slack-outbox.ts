// The Slack outbox: every Web API write of the bot goes through here.
//
// - Each call draws from its method's budget (per channel for chat.postMessage, per workspace for
//   the rest), shared by every process through the outbox state (Redis), with headroom kept for
//   interactive answers (slack-budget.ts). A 429 blocks that method's bucket for its Retry-After and
//   nothing else.
// - Edits to one message are coalesced: a pending edit is replaced by a newer one, one edit is in
//   flight per message, and an edit older than the one Slack shows already is dropped (versions per
//   message, shared), so a late progress edit can never overwrite a finished diagnosis.
// - Cosmetic edits (progress) are dropped when their budget is short instead of waiting.
// - Posts and uploads under a key happen once through retries and crashes: Slack has no
//   idempotency keys, so the key goes into the message's metadata and a record of it into the
//   state before and after the call; a retry that finds a record without a ts reads the thread
//   (conversations.replies) for the key before posting again.
import type { Logger } from 'pino';
import { OomdoctorError } from '../core/errors';
import { MINUTE_MS } from '../core/time';
import type { OutboxState } from './outbox-state';
import {
  SlackDeliveryError,
  toDeliveryError,
  type PostedMessage,
  type SlackMessage,
  type SlackWire,
} from './slack-wire';
import { SlackBudget } from './slack-budget';
import { PRIORITY_ORDER, type WritePriority } from './slack-limits';

export interface OutboxOptions {
  wire: SlackWire;
  state: OutboxState;
  logger: Logger;
  /** How long a write keeps trying through rate limits and passing failures before it gives up. */
  maxWaitMs?: number;
  /** Called after every Web API call, for metrics: the method and `ok`, `ratelimited` or an error code. */
  onCall?: (method: string, outcome: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface EditOptions {
  priority?: WritePriority;
  /** Cosmetic: dropped, not delayed, when the budget is short or a newer edit is waiting. */
  droppable?: boolean;
  /** At most one edit of this message per `throttleMs` (parent messages: their counts move often). */
  throttleMs?: number;
}

export interface PostOptions {
  /** Posts under a key happen once, whatever retries and crashes happen in between. */
  key?: string;
  priority?: WritePriority;
}

/** What a message should show; a function renders it when its turn comes (null: nothing to send). */
export type Content = SlackMessage | (() => Promise<SlackMessage | null>);

interface PendingEdit {
  content: Content;
  /** Null for content rendered at send time: its version is taken then. */
  version: number | null;
  priority: WritePriority;
  droppable: boolean;
  throttleMs: number;
  failures: number;
  startedAt: number;
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

interface MessageLane {
  pending: PendingEdit | null;
  running: boolean;
}

interface ShowEntry {
  message: SlackMessage;
  priority: WritePriority;
  /** Bumped by each show; `sentVersion` is the one that went out with the post. */
  version: number;
  sentVersion: number;
  posted: Promise<PostedMessage>;
}

const METADATA_EVENT = 'oomdoctor_message';
const DEFAULT_MAX_WAIT_MS = 15 * MINUTE_MS;
const PASSING_RETRY_MS = [1_000, 3_000, 10_000, 30_000];
/** Longer than one call may take (the wire's timeout is 10 s), so a lock never lapses mid-call. */
const MESSAGE_LOCK_MS = 30_000;

/**
 * Unref'd: a write waiting for its turn or its retry never keeps the process alive by itself. A
 * shutdown that waits for the jobs writing holds the process with its own grace timer.
 */
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Slack's error for a call, read off the SDK's error object. */
function rateLimitOf(error: unknown): number | null {
  const e = error as { code?: string; retryAfter?: number };
  return e.code === 'slack_webapi_rate_limited_error' ? Math.max(1, e.retryAfter ?? 1) : null;
}

/** A string field of a Web API answer, or '' (answers are untyped JSON). */
function field(result: Record<string, unknown> | null, name: string): string {
  const value = result?.[name];
  return typeof value === 'string' ? value : '';
}

/** Where a post landed; a post Slack acknowledged without a ts is a protocol error. */
function postedAt(result: Record<string, unknown> | null, channel: string): PostedMessage {
  const ts = field(result, 'ts');
  if (!ts)
    throw new SlackDeliveryError('invalid_response', false, 'Slack acknowledged a post without its ts');
  return { channel: field(result, 'channel') || channel, ts };
}

function messageArgs(message: SlackMessage): Record<string, unknown> {
  return { text: message.text, ...(message.blocks ? { blocks: message.blocks } : {}) };
}

export class SlackOutbox {
  private readonly wire: SlackWire;
  private readonly state: OutboxState;
  private readonly logger: Logger;
  private readonly maxWaitMs: number;
  private readonly onCall: (method: string, outcome: string) => void;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly lanes = new Map<string, MessageLane>();
  private readonly joined = new Set<string>();
  private readonly posting = new Map<string, Promise<PostedMessage>>();
  private readonly shows = new Map<string, ShowEntry>();
  private readonly budget: SlackBudget;

  constructor(options: OutboxOptions) {
    this.wire = options.wire;
    this.state = options.state;
    this.logger = options.logger;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.onCall = options.onCall ?? (() => undefined);
    this.sleep = options.sleep ?? realSleep;
    this.budget = new SlackBudget(this.state, this.logger, this.sleep);
  }

  /** Stops waiting writes: they reject, so jobs end instead of hanging on shutdown. */
  close(): void {
    this.budget.close();
  }

  /**
   * One call within the budget: waits for its turn, honours a 429 for that bucket only, retries
   * passing failures (not for posts: see postOnce), and gives up after maxWaitMs.
   */
  private async send(
    method: string,
    channel: string | null,
    args: Record<string, unknown>,
    options: { priority: () => WritePriority; droppable?: boolean; retryPassing?: boolean },
  ): Promise<Record<string, unknown> | null> {
    const started = Date.now();
    let passing = 0;
    for (;;) {
      const granted = await this.budget.acquire(
        method,
        channel,
        options.priority,
        options.droppable ?? false,
      );
      if (!granted) return null;
      try {
        const result = await this.wire.call(method, args);
        this.onCall(method, 'ok');
        return result;
      } catch (error) {
        const retryAfter = rateLimitOf(error);
        if (retryAfter !== null) {
          this.onCall(method, 'ratelimited');
          await this.budget.block(method, channel, retryAfter * 1000);
          this.logger.info(
            { method, channel, retryAfter },
            'Slack rate-limited a call; waiting for Retry-After',
          );
          if (options.droppable) return null;
          if (Date.now() - started > this.maxWaitMs)
            throw new SlackDeliveryError(
              'ratelimited',
              false,
              `Slack kept rate-limiting ${method} for ${Math.round((Date.now() - started) / 1000)} s`,
            );
          continue;
        }
        const delivery = toDeliveryError(error, method);
        this.onCall(method, delivery instanceof SlackDeliveryError ? delivery.slackError : 'error');
        if (delivery instanceof SlackDeliveryError && delivery.slackError === 'not_in_channel' && channel) {
          await this.join(channel);
          continue;
        }
        const passingFailure = !(delivery instanceof OomdoctorError) || !delivery.permanent;
        if (
          !passingFailure ||
          options.droppable ||
          options.retryPassing === false ||
          passing >= PASSING_RETRY_MS.length ||
          Date.now() - started > this.maxWaitMs
        )
          throw delivery;
        await this.sleep(PASSING_RETRY_MS[passing++]!);
      }
    }
  }

  /** A public channel the bot has not joined: join once (and remember only a join that worked). */
  private async join(channel: string): Promise<void> {
    if (this.joined.has(channel))
      throw new SlackDeliveryError(
        'not_in_channel',
        true,
        `the bot is not in channel ${channel}: invite it with /invite @oomdoctor`,
      );
    try {
      await this.send('conversations.join', null, { channel }, { priority: () => 'reply' });
      this.joined.add(channel);
    } catch (error) {
      throw new SlackDeliveryError(
        'not_in_channel',
        true,
        `the bot is not in channel ${channel} and cannot join it (${(error as Error).message}): invite it with /invite @oomdoctor`,
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Posts.

  /** Posts a message; under a key, exactly once (see the file's header). */
  async post(
    channel: string,
    message: SlackMessage,
    threadTs?: string,
    options: PostOptions = {},
  ): Promise<PostedMessage> {
    const priority = options.priority ?? 'reply';
    if (!options.key) {
      const result = await this.send(
        'chat.postMessage',
        channel,
        { channel, ...messageArgs(message), ...(threadTs ? { thread_ts: threadTs } : {}), ...NO_UNFURL },
        { priority: () => priority, retryPassing: false },
      );
      return postedAt(result, channel);
    }
    const key = options.key;
    const running = this.posting.get(key);
    if (running) return running;
    const attempt = this.postOnce(
      key,
      channel,
      threadTs ?? null,
      () => message,
      () => priority,
    );
    this.posting.set(key, attempt);
    try {
      return await attempt;
    } finally {
      this.posting.delete(key);
    }
  }

  /**
   * Shows `message` as the keyed message in a thread: posts it if it was never posted, edits it if
   * it was. A show that arrives while the post is still waiting for its turn replaces the content
   * waiting to go out (so a diagnosis ready before its placeholder's turn is posted directly) and
   * raises its priority. Resolves once Slack shows this content or a newer one.
   */
  async show(
    key: string,
    channel: string,
    threadTs: string | null,
    message: SlackMessage,
    options: { priority?: WritePriority } = {},
  ): Promise<PostedMessage> {
    const priority = options.priority ?? 'reply';
    // Registered before anything is awaited, so two shows of one key never both post.
    let entry = this.shows.get(key);
    if (entry) {
      entry.message = message;
      entry.version += 1;
      if (PRIORITY_ORDER[priority] < PRIORITY_ORDER[entry.priority]) entry.priority = priority;
    } else {
      const created: ShowEntry = {
        message,
        priority,
        version: 1,
        sentVersion: 0,
        posted: Promise.resolve({ channel, ts: '' }),
      };
      created.posted = (async () => {
        const record = await this.state.getPost(key);
        if (record?.ts) return { channel: record.channel, ts: record.ts }; // posted before: edit it
        return this.postOnce(
          key,
          channel,
          threadTs,
          () => {
            created.sentVersion = created.version;
            return created.message;
          },
          () => created.priority,
        );
      })();
      this.shows.set(key, created);
      void created.posted
        .catch(() => undefined)
        .finally(() => {
          if (this.shows.get(key) === created) this.shows.delete(key);
        });
      entry = created;
    }
    const mine = entry.version;
    const posted = await entry.posted;
    if (entry.sentVersion < mine) await this.update(posted.channel, posted.ts, message, { priority });
    return posted;
  }

  /** The ts of a keyed post, if it was made (by any process). */
  async postedUnder(key: string): Promise<PostedMessage | null> {
    const record = await this.state.getPost(key);
    return record?.ts ? { channel: record.channel, ts: record.ts } : null;
  }

  private async postOnce(
    key: string,
    channel: string,
    threadTs: string | null,
    content: () => SlackMessage,
    priority: () => WritePriority,
  ): Promise<PostedMessage> {
    const existing = await this.state.getPost(key);
    if (existing?.ts) return { channel: existing.channel, ts: existing.ts };
    if (existing) {
      const found = await this.lookUp(key, existing);
      if (found) return found;
    }
    const record = existing ?? { channel, threadTs, since: Date.now(), ts: null };
    await this.state.setPost(key, record);
    for (let attempt = 0; ; attempt++) {
      try {
        const message = content();
        const result = await this.send(
          'chat.postMessage',
          channel,
          {
            channel,
            ...messageArgs(message),
            ...(threadTs ? { thread_ts: threadTs } : {}),
            metadata: { event_type: METADATA_EVENT, event_payload: { key } },
            ...NO_UNFURL,
          },
          // A post is never re-sent blindly after a network error: it may have gone through.
          { priority, retryPassing: false },
        );
        const posted = postedAt(result, channel);
        await this.state.setPost(key, { ...record, channel: posted.channel, ts: posted.ts });
        return posted;
      } catch (error) {
        if ((error instanceof OomdoctorError && error.permanent) || attempt >= PASSING_RETRY_MS.length)
          throw error;
        await this.sleep(PASSING_RETRY_MS[attempt]!);
        const found = await this.lookUp(key, record);
        if (found) return found;
      }
    }
  }

  /** Finds a keyed post Slack may have made although its answer never arrived. */
  private async lookUp(key: string, record: { channel: string; threadTs: string | null; since: number }) {
    try {
      const messages = await this.readBack(record.channel, record.threadTs, record.since);
      const hit = messages.find(
        (m) => (m.metadata as { event_payload?: { key?: unknown } } | undefined)?.event_payload?.key === key,
      );
      if (!hit) return null;
      const posted = { channel: record.channel, ts: String(hit.ts) };
      await this.state.setPost(key, { ...record, ts: posted.ts });
      this.logger.info({ key }, 'found an earlier post in Slack; not posting it again');
      return posted;
    } catch (error) {
      // Without the history scopes we cannot tell; posting again risks a duplicate, which is logged.
      this.logger.warn(
        { err: (error as Error).message, key },
        'could not read the thread back; posting again',
      );
      return null;
    }
  }

  private async readBack(
    channel: string,
    threadTs: string | null,
    since: number,
  ): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await this.send(
        threadTs ? 'conversations.replies' : 'conversations.history',
        null,
        {
          channel,
          ...(threadTs ? { ts: threadTs } : { oldest: String(Math.floor(since / 1000) - 60) }),
          include_all_metadata: true,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        },
        { priority: () => 'reply' },
      );
      out.push(...((result?.messages as Array<Record<string, unknown>> | undefined) ?? []));
      cursor = (result?.response_metadata as { next_cursor?: string } | undefined)?.next_cursor || undefined;
      if (!cursor) break;
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Edits: coalesced per message, newest wins.

  /**
   * Sets what a message shows. Resolves when this content, or a newer one, is on Slack (or was
   * dropped, for droppable edits); rejects when Slack refuses for good or the wait runs out.
   * Content given as a function is rendered when its turn comes, so it shows the latest state.
   */
  async update(channel: string, ts: string, content: Content, options: EditOptions = {}): Promise<void> {
    const id = `${channel}:${ts}`;
    // The version is taken now, when the state is decided, not when it is sent: an edit decided
    // earlier can then never replace one decided later, whichever process sends it.
    const version = typeof content === 'function' ? null : await this.state.nextVersion(id);
    const lane = this.lanes.get(id) ?? { pending: null, running: false };
    this.lanes.set(id, lane);
    const priority = options.priority ?? 'reply';
    const droppable = options.droppable ?? false;
    return new Promise<void>((resolve, reject) => {
      const previous = lane.pending;
      if (droppable && (lane.running || previous)) {
        // Cosmetic, and this message already has an edit on its way: never queue behind it.
        resolve();
        return;
      }
      if (previous && droppable && !previous.droppable) {
        resolve(); // progress never displaces a real state that is waiting
        return;
      }
      if (previous && version !== null && previous.version !== null && previous.version > version) {
        previous.waiters.push({ resolve, reject }); // a newer state is already waiting
        return;
      }
      lane.pending = {
        content,
        version,
        priority:
          previous && PRIORITY_ORDER[previous.priority] < PRIORITY_ORDER[priority]
            ? previous.priority
            : priority,
        droppable,
        throttleMs: Math.max(options.throttleMs ?? 0, previous?.throttleMs ?? 0),
        failures: 0,
        startedAt: previous?.startedAt ?? Date.now(),
        waiters: [...(previous?.waiters ?? []), { resolve, reject }],
      };
      if (!lane.running) void this.drain(id, channel, ts, lane);
    });
  }

  private async drain(id: string, channel: string, ts: string, lane: MessageLane): Promise<void> {
    lane.running = true;
    try {
      while (lane.pending) {
        const edit = lane.pending;
        if (edit.throttleMs > 0) {
          let wait: number;
          try {
            wait = await this.state.throttle(id, edit.throttleMs);
          } catch (error) {
            // The shared state is gone (Redis down, shutting down): this edit cannot be ordered.
            lane.pending = null;
            for (const w of edit.waiters) w.reject(error);
            continue;
          }
          if (wait > 0) {
            await this.sleep(wait);
            continue; // a newer edit may have replaced this one meanwhile
          }
        }
        lane.pending = null;
        let outcome: 'done' | 'retry';
        try {
          outcome = await this.deliver(channel, ts, id, edit);
        } catch (error) {
          for (const w of edit.waiters) w.reject(error);
          continue;
        }
        if (outcome === 'done') {
          for (const w of edit.waiters) w.resolve();
          continue;
        }
        // Not delivered (rate-limited, a passing failure): it goes back unless a newer one waits.
        if (Date.now() - edit.startedAt > this.maxWaitMs) {
          const error = new SlackDeliveryError(
            'ratelimited',
            false,
            `Slack did not take an edit of message ${ts} in ${Math.round(this.maxWaitMs / 1000)} s (rate limits or failures)`,
          );
          for (const w of edit.waiters) w.reject(error);
          continue;
        }
        // (lane.pending may have been set by update() while this edit was out.)
        const newer = lane.pending as PendingEdit | null;
        if (newer) newer.waiters.push(...edit.waiters);
        else lane.pending = edit;
      }
    } finally {
      lane.running = false;
      if (!lane.pending) this.lanes.delete(id);
    }
  }

  private async deliver(
    channel: string,
    ts: string,
    id: string,
    edit: PendingEdit,
  ): Promise<'done' | 'retry'> {
    const granted = await this.budget.acquire('chat.update', null, () => edit.priority, edit.droppable);
    if (!granted) return 'done'; // cosmetic and the budget is short: dropped
    const token = await this.lockMessage(id);
    try {
      const version = edit.version ?? (await this.state.nextVersion(id));
      if (!(await this.state.isCurrent(id, version))) return 'done'; // a newer state is on Slack
      const message = typeof edit.content === 'function' ? await edit.content() : edit.content;
      if (!message) return 'done';
      try {
        await this.wire.call('chat.update', { channel, ts, ...messageArgs(message) });
        this.onCall('chat.update', 'ok');
        await this.state.markDelivered(id, version);
        return 'done';
      } catch (error) {
        const retryAfter = rateLimitOf(error);
        if (retryAfter !== null) {
          this.onCall('chat.update', 'ratelimited');
          await this.budget.block('chat.update', null, retryAfter * 1000);
          return edit.droppable ? 'done' : 'retry';
        }
        const delivery = toDeliveryError(error, 'updating a message');
        this.onCall('chat.update', delivery instanceof SlackDeliveryError ? delivery.slackError : 'error');
        if (
          (delivery instanceof OomdoctorError && delivery.permanent) ||
          edit.failures >= PASSING_RETRY_MS.length
        )
          throw delivery;
        if (edit.droppable) return 'done';
        await this.sleep(PASSING_RETRY_MS[edit.failures++]!);
        return 'retry';
      }
    } finally {
      if (token) await this.state.unlock(id, token).catch(() => undefined);
    }
  }

  /** Waits briefly for the message's lock; after that goes on without it rather than stall. */
  private async lockMessage(id: string): Promise<string | null> {
    for (let i = 0; i < 200; i++) {
      const token = await this.state.tryLock(id, MESSAGE_LOCK_MS);
      if (token) return token;
      await this.sleep(50);
    }
    this.logger.warn({ message: id }, 'message lock still held after 10 s; editing without it');
    return null;
  }

  // -------------------------------------------------------------------------------------------
  // Uploads, ephemerals, the rest.

  /** Uploads a file into a thread; under a key, once (a retried job never posts a second chart). */
  async upload(
    channel: string,
    threadTs: string,
    file: { filename: string; title: string; bytes: Buffer },
    options: { key?: string; priority?: WritePriority } = {},
  ): Promise<void> {
    const priority = () => options.priority ?? 'reply';
    const key = options.key;
    if (key) {
      const record = await this.state.getUpload(key);
      if (record?.done) return;
      if (record?.fileId && (await this.fileInThread(channel, threadTs, record.fileId))) {
        await this.state.setUpload(key, { fileId: record.fileId, done: true });
        return;
      }
    }
    const ticket = await this.send(
      'files.getUploadURLExternal',
      null,
      { filename: file.filename, length: file.bytes.length },
      { priority },
    );
    const uploadUrl = field(ticket, 'upload_url');
    const fileId = field(ticket, 'file_id');
    try {
      await this.wire.sendBytes(uploadUrl, file.bytes);
    } catch (error) {
      throw new SlackDeliveryError(
        'network',
        false,
        `could not send the chart's bytes to Slack: ${(error as Error).message}`,
      );
    }
    if (key) await this.state.setUpload(key, { fileId, done: false });
    await this.send(
      'files.completeUploadExternal',
      null,
      { files: [{ id: fileId, title: file.title }], channel_id: channel, thread_ts: threadTs },
      { priority, retryPassing: false },
    );
    if (key) await this.state.setUpload(key, { fileId, done: true });
  }

  private async fileInThread(channel: string, threadTs: string, fileId: string): Promise<boolean> {
    try {
      const messages = await this.readBack(channel, threadTs, 0);
      return messages.some((m) =>
        ((m.files as Array<{ id?: unknown }> | undefined) ?? []).some((f) => f.id === fileId),
      );
    } catch {
      return false;
    }
  }

  async ephemeral(channel: string, user: string, message: SlackMessage): Promise<void> {
    await this.send(
      'chat.postEphemeral',
      null,
      { channel, user, ...messageArgs(message) },
      { priority: () => 'interactive', retryPassing: false },
    );
  }

  /** Any other call (views, user groups, conversations.info) within its budget. */
  async call(
    method: string,
    args: Record<string, unknown>,
    priority: WritePriority = 'interactive',
  ): Promise<Record<string, unknown>> {
    const result = await this.send(method, null, args, { priority: () => priority, retryPassing: false });
    return result ?? {};
  }
}

const NO_UNFURL = { unfurl_links: false, unfurl_media: false };
