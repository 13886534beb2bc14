// Messages and threads in the fake Slack workspace: chat.postMessage/update/delete/postEphemeral with
// their content and metadata checks, conversations.history and conversations.replies with cursor
// pagination, chat.getPermalink, and messages as the API returns them. Separate because these are the
// methods most tests lean on, and they share the message's wire form and the thread bookkeeping.

import { blockErrors } from './block-kit';
import { channelById, readableChannel, requireMember, resolveTarget } from './channels';
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
import {
  BASE_TS_SECONDS,
  nextTs,
  type FakeEphemeral,
  type FakeMessage,
  type MessageMetadata,
  type WorkspaceState,
} from './workspace-state';

/** conversations.history's and conversations.replies' page sizes (docs: history 100 by default, at most 999; replies up to 1000). */
const HISTORY_DEFAULT_LIMIT = 100;
const HISTORY_MAX_LIMIT = 999;
const REPLIES_DEFAULT_LIMIT = 1000;
const REPLIES_MAX_LIMIT = 1000;

export interface MessageFixture {
  channel: string;
  user: string;
  text: string;
  ts?: string;
  thread_ts?: string;
  blocks?: unknown[];
}

/** A message somebody else wrote (a person answering in a thread, say). Not part of the wire API. */
export function addMessage(state: WorkspaceState, message: MessageFixture): FakeMessage {
  if (!state.channels.has(message.channel))
    throw new Error(`FakeSlackApi.addMessage: unknown channel ${message.channel}`);
  const stored: FakeMessage = {
    channel: message.channel,
    ts: message.ts ?? nextTs(state),
    text: message.text,
    user: message.user,
    edits: 0,
  };
  if (message.thread_ts !== undefined) stored.thread_ts = message.thread_ts;
  if (message.blocks !== undefined) stored.blocks = message.blocks;
  state.messages.push(stored);
  return stored;
}

/** The replies in a thread (not the parent), oldest first; file shares only with withFiles. */
export function thread(
  state: WorkspaceState,
  channel: string,
  threadTs: string,
  options: { withFiles?: boolean } = {},
): FakeMessage[] {
  return state.messages
    .filter(
      (m) =>
        m.channel === channel &&
        m.thread_ts === threadTs &&
        m.ts !== threadTs &&
        (options.withFiles === true || m.files === undefined),
    )
    .sort((a, b) => compareTs(a.ts, b.ts));
}

/** text/blocks/attachments as chat.postMessage and friends validate them. */
function content(
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

function findMessage(
  state: WorkspaceState,
  channel: string,
  ts: string | undefined,
): FakeMessage | undefined {
  return ts === undefined ? undefined : state.messages.find((m) => m.channel === channel && m.ts === ts);
}

/** A message as the API returns it (chat.postMessage's `message`). */
function wireMessage(state: WorkspaceState, message: FakeMessage, withMetadata = true): Answer {
  const out: Answer = { user: message.user, type: 'message', ts: message.ts };
  if (message.user === state.botUserId) {
    out.bot_id = state.botId;
    out.app_id = state.appId;
  }
  out.text = message.text;
  out.team = state.teamId;
  if (message.user === state.botUserId) {
    out.bot_profile = {
      id: state.botId,
      deleted: false,
      name: 'oomdoctor',
      updated: BASE_TS_SECONDS,
      app_id: state.appId,
      icons: { image_36: 'https://a.slack-edge.com/80588/img/plugins/app/bot_36.png' },
      team_id: state.teamId,
    };
  }
  if (message.blocks) out.blocks = message.blocks;
  if (message.attachments)
    out.attachments = message.attachments.map((a, i) => (isObject(a) ? { id: i + 1, ...a } : a));
  if (message.files) out.files = message.files.map((f) => ({ ...f }));
  if (message.metadata && withMetadata) out.metadata = message.metadata;
  if (message.thread_ts !== undefined) {
    out.thread_ts = message.thread_ts;
    const parent = findMessage(state, message.channel, message.thread_ts);
    if (parent && parent !== message) out.parent_user_id = parent.user;
  }
  const replies = state.messages.filter(
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
function metadataArg(args: Args): MessageMetadata | undefined {
  if (!present(args, 'metadata')) return undefined;
  const metadata = args.metadata;
  if (!isObject(metadata) || typeof metadata.event_type !== 'string' || metadata.event_type === '')
    throw new SlackApiError('invalid_metadata_format');
  if (!isObject(metadata.event_payload)) throw new SlackApiError('invalid_metadata_format');
  return { event_type: metadata.event_type, event_payload: metadata.event_payload };
}

/** One page of `items` from an opaque cursor (an offset here), as the paginated methods answer. */
function page<T>(
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

function inTimeRange(message: FakeMessage, args: Args): boolean {
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

function flag(args: Args, key: string): boolean {
  const value = args[key];
  return value === true || value === 'true' || value === '1' || value === 1;
}

/** The channel's messages, newest first; thread replies stay in their thread. */
export function history(state: WorkspaceState, args: Args): Answer {
  const channel = readableChannel(state, str(args, 'channel'));
  const withMetadata = flag(args, 'include_all_metadata');
  const messages = state.messages
    .filter(
      (m) =>
        m.channel === channel.id &&
        (m.thread_ts === undefined || m.thread_ts === m.ts) &&
        inTimeRange(m, args),
    )
    .sort((a, b) => compareTs(b.ts, a.ts));
  const { items, hasMore, nextCursor } = page(messages, args, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT);
  return {
    messages: items.map((m) => wireMessage(state, m, withMetadata)),
    has_more: hasMore,
    pin_count: 0,
    channel_actions_ts: null,
    channel_actions_count: 0,
    response_metadata: { next_cursor: nextCursor },
  };
}

/** A thread: its parent first, then the replies oldest first. `ts` may name the parent or any reply. */
export function replies(state: WorkspaceState, args: Args): Answer {
  const channel = readableChannel(state, str(args, 'channel'));
  const ts = str(args, 'ts');
  if (ts === undefined) throw invalidArguments('[ERROR] missing required field: ts');
  const named = findMessage(state, channel.id, ts);
  if (!named) throw new SlackApiError('thread_not_found');
  const parentTs = named.thread_ts ?? named.ts;
  const withMetadata = flag(args, 'include_all_metadata');
  const messages = state.messages
    .filter(
      (m) =>
        m.channel === channel.id && (m.ts === parentTs || m.thread_ts === parentTs) && inTimeRange(m, args),
    )
    .sort((a, b) => compareTs(a.ts, b.ts));
  const { items, hasMore, nextCursor } = page(messages, args, REPLIES_DEFAULT_LIMIT, REPLIES_MAX_LIMIT);
  return {
    messages: items.map((m) => wireMessage(state, m, withMetadata)),
    has_more: hasMore,
    response_metadata: { next_cursor: nextCursor },
  };
}

export function permalink(state: WorkspaceState, args: Args): Answer {
  const channel = channelById(state, str(args, 'channel'));
  const message = findMessage(state, channel.id, str(args, 'message_ts'));
  if (!message) throw new SlackApiError('message_not_found');
  const p = `p${message.ts.replace('.', '')}`;
  const threadQuery =
    message.thread_ts !== undefined && message.thread_ts !== message.ts
      ? `?thread_ts=${message.thread_ts}&cid=${channel.id}`
      : '';
  return {
    channel: channel.id,
    permalink: `https://fake-workspace.slack.com/archives/${channel.id}/${p}${threadQuery}`,
  };
}

export function postMessage(state: WorkspaceState, args: Args): Answer {
  const channel = resolveTarget(state, str(args, 'channel'));
  requireMember(state, channel);
  const body = content(args, true);
  const message: FakeMessage = {
    channel: channel.id,
    ts: nextTs(state),
    text: body.text ?? '',
    user: state.botUserId,
    edits: 0,
  };
  if (body.blocks) message.blocks = body.blocks;
  if (body.attachments) message.attachments = body.attachments;
  const metadata = metadataArg(args);
  if (metadata) message.metadata = metadata;
  // The real API accepts a thread_ts that names no message (the reply then shows up nowhere); so does this.
  const threadTs = str(args, 'thread_ts');
  if (threadTs !== undefined) message.thread_ts = threadTs;
  state.messages.push(message);
  return { channel: channel.id, ts: message.ts, message: wireMessage(state, message) };
}

export function updateMessage(state: WorkspaceState, args: Args): Answer {
  const channel = channelById(state, str(args, 'channel'));
  const message = findMessage(state, channel.id, str(args, 'ts'));
  if (!message) throw new SlackApiError('message_not_found');
  if (message.user !== state.botUserId) throw new SlackApiError('cant_update_message');
  const body = content(args, true);
  if (body.text !== undefined) message.text = body.text;
  if (body.blocks !== undefined) message.blocks = body.blocks;
  if (body.attachments !== undefined) message.attachments = body.attachments;
  const metadata = metadataArg(args);
  if (metadata) message.metadata = metadata;
  message.edits++;
  const wire = wireMessage(state, message);
  delete wire.ts;
  return {
    channel: channel.id,
    ts: message.ts,
    text: message.text,
    message: { ...wire, edited: { user: state.botUserId, ts: nextTs(state) } },
  };
}

export function deleteMessage(state: WorkspaceState, args: Args): Answer {
  const channel = channelById(state, str(args, 'channel'));
  const message = findMessage(state, channel.id, str(args, 'ts'));
  if (!message) throw new SlackApiError('message_not_found');
  if (message.user !== state.botUserId) throw new SlackApiError('cant_delete_message');
  state.messages.splice(state.messages.indexOf(message), 1);
  return { channel: channel.id, ts: message.ts };
}

export function postEphemeral(state: WorkspaceState, args: Args): Answer {
  const channel = resolveTarget(state, str(args, 'channel'));
  requireMember(state, channel);
  const user = str(args, 'user');
  if (user === undefined) throw invalidArguments('[ERROR] missing required field: user');
  if (!channel.members.has(user)) throw new SlackApiError('user_not_in_channel');
  const body = content(args, true);
  const ephemeral: FakeEphemeral = {
    channel: channel.id,
    user,
    text: body.text ?? '',
    message_ts: nextTs(state),
  };
  if (body.blocks) ephemeral.blocks = body.blocks;
  const threadTs = str(args, 'thread_ts');
  if (threadTs !== undefined) ephemeral.thread_ts = threadTs;
  state.ephemerals.push(ephemeral);
  return { message_ts: ephemeral.message_ts };
}
