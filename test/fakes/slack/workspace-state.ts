// What the fake Slack workspace stores, and the ts/id counters: one plain state object that the method
// modules (channels, users, messages, files, views) take as their first argument. Separate so that those
// modules share the state without importing each other or the SlackWorkspace facade.

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

export interface ChannelState {
  id: string;
  name: string;
  is_private: boolean;
  is_im: boolean;
  /** For a DM: the person. */
  user?: string;
  members: Set<string>;
  created: number;
}

export interface UserState {
  id: string;
  name: string;
  tz: string;
  groups: string[];
  is_bot: boolean;
}

export interface PendingUpload {
  id: string;
  key: string;
  filename: string;
  length: number;
  bytes?: Buffer;
}

export interface WorkspaceState extends Readonly<WorkspaceIdentity> {
  readonly messages: FakeMessage[];
  readonly files: UploadedFile[];
  readonly ephemerals: FakeEphemeral[];
  readonly channels: Map<string, ChannelState>;
  readonly users: Map<string, UserState>;
  /** file id -> pending upload */
  readonly uploads: Map<string, PendingUpload>;
  /** view id -> view */
  readonly views: Map<string, Record<string, unknown>>;
  readonly usedTriggers: Set<string>;
  tsCounter: number;
  idCounter: number;
}

export const BASE_TS_SECONDS = 1700000000;

/** An empty workspace with one member: the bot. */
export function createWorkspaceState(identity: WorkspaceIdentity): WorkspaceState {
  const state: WorkspaceState = {
    botUserId: identity.botUserId,
    botId: identity.botId,
    teamId: identity.teamId,
    appId: identity.appId,
    origin: identity.origin,
    messages: [],
    files: [],
    ephemerals: [],
    channels: new Map(),
    users: new Map(),
    uploads: new Map(),
    views: new Map(),
    usedTriggers: new Set(),
    tsCounter: 0,
    idCounter: 0,
  };
  state.users.set(state.botUserId, {
    id: state.botUserId,
    name: 'oomdoctor',
    tz: 'America/Los_Angeles',
    groups: [],
    is_bot: true,
  });
  return state;
}

export function nextTs(state: WorkspaceState): string {
  state.tsCounter++;
  const micros = state.tsCounter * 100;
  const seconds = BASE_TS_SECONDS + Math.floor(micros / 1_000_000);
  return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
}

export function nextId(state: WorkspaceState, prefix: string): string {
  state.idCounter++;
  return `${prefix}0${state.idCounter.toString(36).toUpperCase().padStart(8, '0')}`;
}
