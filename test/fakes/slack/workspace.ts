// The workspace the fake Slack API stores: channels and membership, people, messages, ephemerals, files
// and views, and the Web API methods that read and change them. No HTTP here: the server parses a call,
// checks the token and the limits, and hands the arguments to dispatch().
//
// This file is the facade: SlackWorkspace owns the state (./workspace-state.ts) and routes each method to
// the module that answers it (./channels.ts, ./users.ts, ./messages.ts, ./files.ts, ./views.ts).

import { addChannel, channelIdOf, conversationInfo, join, type ChannelFixture } from './channels';
import { completeUpload, getUploadUrl, receiveUpload } from './files';
import {
  addMessage,
  deleteMessage,
  history,
  permalink,
  postEphemeral,
  postMessage,
  replies,
  thread,
  updateMessage,
  type MessageFixture,
} from './messages';
import { addUser, authTest, userInfo, usergroupUsers, type UserFixture } from './users';
import { openView, updateView } from './views';
import { SlackApiError, type Answer, type Args } from './wire';
import {
  createWorkspaceState,
  type FakeEphemeral,
  type FakeMessage,
  type UploadedFile,
  type WorkspaceIdentity,
  type WorkspaceState,
} from './workspace-state';

export type {
  FakeEphemeral,
  FakeMessage,
  MessageMetadata,
  UploadedFile,
  WorkspaceIdentity,
} from './workspace-state';
export { TRIGGER_LIFETIME_MS, triggerExpired } from './views';
export type { ChannelFixture, MessageFixture, UserFixture };

type MethodHandler = (state: WorkspaceState, args: Args) => Answer;

const HANDLERS: ReadonlyMap<string, MethodHandler> = new Map<string, MethodHandler>([
  ['auth.test', authTest],
  ['chat.postMessage', postMessage],
  ['chat.update', updateMessage],
  ['chat.postEphemeral', postEphemeral],
  ['chat.delete', deleteMessage],
  ['conversations.join', join],
  ['conversations.info', conversationInfo],
  ['users.info', userInfo],
  ['usergroups.users.list', usergroupUsers],
  ['files.getUploadURLExternal', getUploadUrl],
  ['files.completeUploadExternal', completeUpload],
  ['views.open', openView],
  ['views.update', updateView],
  ['conversations.history', history],
  ['conversations.replies', replies],
  ['chat.getPermalink', permalink],
]);

/** The Web API methods the workspace answers (apps.connections.open is the Socket Mode hub's). */
export const WORKSPACE_METHODS = new Set(HANDLERS.keys());

export class SlackWorkspace {
  readonly messages: FakeMessage[];
  readonly files: UploadedFile[];
  readonly ephemerals: FakeEphemeral[];

  private readonly state: WorkspaceState;

  constructor(identity: WorkspaceIdentity) {
    this.state = createWorkspaceState(identity);
    this.messages = this.state.messages;
    this.files = this.state.files;
    this.ephemerals = this.state.ephemerals;
  }

  // -- fixtures and inspection (documented where they are implemented) ----------

  addChannel(channel: ChannelFixture): void {
    addChannel(this.state, channel);
  }

  addUser(user: UserFixture): void {
    addUser(this.state, user);
  }

  addMessage(message: MessageFixture): FakeMessage {
    return addMessage(this.state, message);
  }

  thread(channel: string, threadTs: string, options: { withFiles?: boolean } = {}): FakeMessage[] {
    return thread(this.state, channel, threadTs, options);
  }

  channelIdOf(target: string | undefined): string | undefined {
    return channelIdOf(this.state, target);
  }

  receiveUpload(key: string, bytes: Buffer | undefined): string | undefined {
    return receiveUpload(this.state, key, bytes);
  }

  dispatch(method: string, args: Args): Answer {
    const handler = HANDLERS.get(method);
    if (handler === undefined) throw new SlackApiError('unknown_method');
    return handler(this.state, args);
  }
}
