// The workspace the fake Slack API stores: channels and membership, people, messages, ephemerals, files
// and views, and the Web API methods that read and change them. No HTTP here: the server parses a call,
// checks the token and the limits, and hands the arguments to dispatch().

import { randomUUID } from 'node:crypto';
import { blockErrors, viewErrors } from './block-kit';
import {
  SlackApiError,
  compareTs,
  invalidArguments,
  isObject,
  present,
  str,
  type Answer,
  type Args,
} from './wire';

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
  /** Message metadata as chat.postMessage/chat.update took it. */
  metadata?: MessageMetadata;
  /** Files shared with files.completeUploadExternal (channel_id, and thread_ts for a thread). */
  files?: Array<{ id: string; name: string; title: string }>;
}

export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
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

export interface WorkspaceIdentity {
  botUserId: string;
  botId: string;
  teamId: string;
  appId: string;
  /** "http://127.0.0.1:PORT": upload URLs and file links point here. */
  origin: string;
}

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

/** The Web API methods the workspace answers (apps.connections.open is the Socket Mode hub's). */
export const WORKSPACE_METHODS = new Set([
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
  'conversations.history',
  'conversations.replies',
  'chat.getPermalink',
]);

/** conversations.history's and conversations.replies' page sizes (docs: history 100 by default, at most 999; replies up to 1000). */
const HISTORY_DEFAULT_LIMIT = 100;
const HISTORY_MAX_LIMIT = 999;
const REPLIES_DEFAULT_LIMIT = 1000;
const REPLIES_MAX_LIMIT = 1000;

export class SlackWorkspace {
  readonly messages: FakeMessage[] = [];
  readonly files: UploadedFile[] = [];
  readonly ephemerals: FakeEphemeral[] = [];

  private readonly channels = new Map<string, ChannelState>();
  private readonly users = new Map<string, UserState>();
  private readonly uploads = new Map<string, PendingUpload>(); // file id -> pending upload
  private readonly views = new Map<string, Record<string, unknown>>(); // view id -> view
  private readonly usedTriggers = new Set<string>();
  private tsCounter = 0;
  private idCounter = 0;

  private readonly botUserId: string;
  private readonly botId: string;
  private readonly teamId: string;
  private readonly appId: string;
  private readonly origin: string;

  constructor(identity: WorkspaceIdentity) {
    this.botUserId = identity.botUserId;
    this.botId = identity.botId;
    this.teamId = identity.teamId;
    this.appId = identity.appId;
    this.origin = identity.origin;
    this.users.set(this.botUserId, {
      id: this.botUserId,
      name: 'oomdoctor',
      tz: 'America/Los_Angeles',
      groups: [],
      is_bot: true,
    });
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

  /** The replies in a thread (not the parent), oldest first; file shares only with withFiles. */
  thread(channel: string, threadTs: string, options: { withFiles?: boolean } = {}): FakeMessage[] {
    return this.messages
      .filter(
        (m) =>
          m.channel === channel &&
          m.thread_ts === threadTs &&
          m.ts !== threadTs &&
          (options.withFiles === true || m.files === undefined),
      )
      .sort((a, b) => compareTs(a.ts, b.ts));
  }

  /** The id of the channel a chat.post* target names (a DM's for a person), or the target itself when it names none. */
  channelIdOf(target: string | undefined): string | undefined {
    try {
      return this.resolveTarget(target).id;
    } catch {
      return target;
    }
  }

  /** Stores the bytes POSTed to an upload_url; the file id, or undefined when the URL names no pending upload. */
  receiveUpload(key: string, bytes: Buffer | undefined): string | undefined {
    const upload = [...this.uploads.values()].find((u) => u.key === key);
    if (upload && bytes !== undefined) upload.bytes = bytes;
    return upload?.id;
  }

  dispatch(method: string, args: Args): Answer {
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
      case 'conversations.history':
        return this.history(args);
      case 'conversations.replies':
        return this.replies(args);
      case 'chat.getPermalink':
        return this.permalink(args);
      default:
        throw new SlackApiError('unknown_method');
    }
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
  private wire(message: FakeMessage, withMetadata = true): Answer {
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
    if (message.files) out.files = message.files.map((f) => ({ ...f }));
    if (message.metadata && withMetadata) out.metadata = message.metadata;
    if (message.thread_ts !== undefined) {
      out.thread_ts = message.thread_ts;
      const parent = this.findMessage(message.channel, message.thread_ts);
      if (parent && parent !== message) out.parent_user_id = parent.user;
    }
    const replies = this.messages.filter(
      (m) => m.channel === message.channel && m.thread_ts === message.ts && m.ts !== message.ts,
    );
    if (replies.length > 0) {
      out.thread_ts = message.ts;
      out.reply_count = replies.length;
      out.reply_users = [...new Set(replies.map((m) => m.user))];
      out.reply_users_count = (out.reply_users as string[]).length;
      out.latest_reply = replies
        .map((m) => m.ts)
        .sort(compareTs)
        .at(-1);
    }
    return out;
  }

  /** `metadata` as chat.postMessage and chat.update take it: `{event_type, event_payload}`. */
  private metadataArg(args: Args): MessageMetadata | undefined {
    if (!present(args, 'metadata')) return undefined;
    const metadata = args.metadata;
    if (!isObject(metadata) || typeof metadata.event_type !== 'string' || metadata.event_type === '')
      throw new SlackApiError('invalid_metadata_format');
    if (!isObject(metadata.event_payload)) throw new SlackApiError('invalid_metadata_format');
    return { event_type: metadata.event_type, event_payload: metadata.event_payload };
  }

  /** Reading a conversation: the bot must be in it; a private one it is not in does not exist for it. */
  private readableChannel(id: string | undefined): ChannelState {
    const channel = this.channelById(id);
    if (!channel.members.has(this.botUserId)) {
      throw new SlackApiError(channel.is_private ? 'channel_not_found' : 'not_in_channel');
    }
    return channel;
  }

  /** One page of `items` from an opaque cursor (an offset here), as the paginated methods answer. */
  private page<T>(
    items: T[],
    args: Args,
    defaultLimit: number,
    maxLimit: number,
  ): { items: T[]; hasMore: boolean; nextCursor: string } {
    const limitText = str(args, 'limit');
    const limit = limitText === undefined ? defaultLimit : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1) throw new SlackApiError('invalid_limit');
    const cursor = str(args, 'cursor');
    let offset = 0;
    if (cursor !== undefined) {
      const m = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
      if (!m) throw new SlackApiError('invalid_cursor');
      offset = Number(m[1]);
    }
    const size = Math.min(limit, maxLimit);
    const slice = items.slice(offset, offset + size);
    const hasMore = offset + size < items.length;
    const nextCursor = hasMore ? Buffer.from(`offset:${offset + size}`).toString('base64') : '';
    return { items: slice, hasMore, nextCursor };
  }

  private inTimeRange(message: FakeMessage, args: Args): boolean {
    const oldest = str(args, 'oldest');
    const latest = str(args, 'latest');
    const inclusive = args.inclusive === true || args.inclusive === 'true' || args.inclusive === '1';
    if (oldest !== undefined) {
      const c = compareTs(message.ts, oldest);
      if (c < 0 || (c === 0 && !inclusive)) return false;
    }
    if (latest !== undefined) {
      const c = compareTs(message.ts, latest);
      if (c > 0 || (c === 0 && !inclusive)) return false;
    }
    return true;
  }

  private static flag(args: Args, key: string): boolean {
    const value = args[key];
    return value === true || value === 'true' || value === '1' || value === 1;
  }

  /** The channel's messages, newest first; thread replies stay in their thread. */
  private history(args: Args): Answer {
    const channel = this.readableChannel(str(args, 'channel'));
    const withMetadata = SlackWorkspace.flag(args, 'include_all_metadata');
    const messages = this.messages
      .filter(
        (m) =>
          m.channel === channel.id &&
          (m.thread_ts === undefined || m.thread_ts === m.ts) &&
          this.inTimeRange(m, args),
      )
      .sort((a, b) => compareTs(b.ts, a.ts));
    const { items, hasMore, nextCursor } = this.page(
      messages,
      args,
      HISTORY_DEFAULT_LIMIT,
      HISTORY_MAX_LIMIT,
    );
    return {
      messages: items.map((m) => this.wire(m, withMetadata)),
      has_more: hasMore,
      pin_count: 0,
      channel_actions_ts: null,
      channel_actions_count: 0,
      response_metadata: { next_cursor: nextCursor },
    };
  }

  /** A thread: its parent first, then the replies oldest first. `ts` may name the parent or any reply. */
  private replies(args: Args): Answer {
    const channel = this.readableChannel(str(args, 'channel'));
    const ts = str(args, 'ts');
    if (ts === undefined) throw invalidArguments('[ERROR] missing required field: ts');
    const named = this.findMessage(channel.id, ts);
    if (!named) throw new SlackApiError('thread_not_found');
    const parentTs = named.thread_ts ?? named.ts;
    const withMetadata = SlackWorkspace.flag(args, 'include_all_metadata');
    const thread = this.messages
      .filter(
        (m) =>
          m.channel === channel.id &&
          (m.ts === parentTs || m.thread_ts === parentTs) &&
          this.inTimeRange(m, args),
      )
      .sort((a, b) => compareTs(a.ts, b.ts));
    const { items, hasMore, nextCursor } = this.page(thread, args, REPLIES_DEFAULT_LIMIT, REPLIES_MAX_LIMIT);
    return {
      messages: items.map((m) => this.wire(m, withMetadata)),
      has_more: hasMore,
      response_metadata: { next_cursor: nextCursor },
    };
  }

  private permalink(args: Args): Answer {
    const channel = this.channelById(str(args, 'channel'));
    const message = this.findMessage(channel.id, str(args, 'message_ts'));
    if (!message) throw new SlackApiError('message_not_found');
    const p = `p${message.ts.replace('.', '')}`;
    const thread =
      message.thread_ts !== undefined && message.thread_ts !== message.ts
        ? `?thread_ts=${message.thread_ts}&cid=${channel.id}`
        : '';
    return {
      channel: channel.id,
      permalink: `https://fake-workspace.slack.com/archives/${channel.id}/${p}${thread}`,
    };
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
    const metadata = this.metadataArg(args);
    if (metadata) message.metadata = metadata;
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
    const metadata = this.metadataArg(args);
    if (metadata) message.metadata = metadata;
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
    // Shared into a conversation, the files appear there as a message of the bot's (in the thread, with thread_ts).
    if (channel) {
      const message: FakeMessage = {
        channel: channel.id,
        ts: this.nextTs(),
        text: str(args, 'initial_comment') ?? '',
        user: this.botUserId,
        edits: 0,
        files: pending.map(({ upload, title }) => ({
          id: upload.id,
          name: upload.filename,
          title: title ?? upload.filename,
        })),
      };
      if (threadTs !== undefined) message.thread_ts = threadTs;
      this.messages.push(message);
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
    if (triggerExpired(trigger)) throw new SlackApiError('expired_trigger_id');
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
}

/** Slack's trigger_ids expire 3 s after the user's action (docs: "Handling user interaction"). */
export const TRIGGER_LIFETIME_MS = 3_000;

/**
 * Whether a trigger_id is past its 3 s. The test harness issues trigger_ids that begin with the
 * time of the action in ms (Slack's own begin with an opaque number); only those can expire here.
 */
export function triggerExpired(trigger: string, now = Date.now()): boolean {
  const issuedAt = Number(trigger.split('.')[0]);
  const looksLikeMs = Number.isInteger(issuedAt) && issuedAt > 1e12 && issuedAt <= now;
  return looksLikeMs && now - issuedAt > TRIGGER_LIFETIME_MS;
}
