// Channels and membership in the fake Slack workspace: the addChannel fixture, how chat.* and
// conversations.* name a conversation (id, "#name", or a person's DM with the bot), the bot's membership
// checks, and conversations.join/info. Separate because the message and file methods all find their
// channel through here.

import { SlackApiError, str, type Answer, type Args } from './wire';
import { BASE_TS_SECONDS, type ChannelState, type WorkspaceState } from './workspace-state';

export interface ChannelFixture {
  id: string;
  name: string;
  is_private?: boolean;
  members?: string[];
}

export function addChannel(state: WorkspaceState, channel: ChannelFixture): void {
  if (!channel.id) throw new Error('FakeSlackApi.addChannel: id is required');
  state.channels.set(channel.id, {
    id: channel.id,
    name: channel.name.replace(/^#/, ''),
    is_private: channel.is_private ?? false,
    is_im: false,
    members: new Set(channel.members ?? []),
    created: BASE_TS_SECONDS - 86400,
  });
}

/** A channel id, a "#name"/"name", or a person's user id (their DM with the bot), as chat.post* accept. */
export function resolveTarget(state: WorkspaceState, target: string | undefined): ChannelState {
  if (target === undefined) throw new SlackApiError('channel_not_found');
  const byId = state.channels.get(target);
  if (byId) return byId;
  const user = state.users.get(target);
  if (user && !user.is_bot) return imWith(state, user.id);
  const name = target.replace(/^#/, '');
  for (const channel of state.channels.values()) {
    if (!channel.is_im && channel.name === name) return channel;
  }
  throw new SlackApiError('channel_not_found');
}

/** The id of the channel a chat.post* target names (a DM's for a person), or the target itself when it names none. */
export function channelIdOf(state: WorkspaceState, target: string | undefined): string | undefined {
  try {
    return resolveTarget(state, target).id;
  } catch {
    return target;
  }
}

export function channelById(state: WorkspaceState, id: string | undefined): ChannelState {
  const channel = id === undefined ? undefined : state.channels.get(id);
  if (!channel) throw new SlackApiError('channel_not_found');
  return channel;
}

function imWith(state: WorkspaceState, userId: string): ChannelState {
  const id = `D${userId.replace(/^[UW]/, '')}`;
  let im = state.channels.get(id);
  if (!im) {
    im = {
      id,
      name: id,
      is_private: true,
      is_im: true,
      user: userId,
      members: new Set([userId, state.botUserId]),
      created: BASE_TS_SECONDS,
    };
    state.channels.set(id, im);
  }
  return im;
}

export function requireMember(state: WorkspaceState, channel: ChannelState): void {
  if (!channel.members.has(state.botUserId)) throw new SlackApiError('not_in_channel');
}

/** Reading a conversation: the bot must be in it; a private one it is not in does not exist for it. */
export function readableChannel(state: WorkspaceState, id: string | undefined): ChannelState {
  const channel = channelById(state, id);
  if (!channel.members.has(state.botUserId)) {
    throw new SlackApiError(channel.is_private ? 'channel_not_found' : 'not_in_channel');
  }
  return channel;
}

function channelInfo(state: WorkspaceState, channel: ChannelState): Answer {
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
    context_team_id: state.teamId,
    creator: '',
    is_ext_shared: false,
    shared_team_ids: [state.teamId],
    is_member: channel.members.has(state.botUserId),
    topic: { value: '', creator: '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
    previous_names: [],
  };
}

export function join(state: WorkspaceState, args: Args): Answer {
  const channel = channelById(state, str(args, 'channel'));
  if (channel.is_private || channel.is_im) throw new SlackApiError('method_not_supported_for_channel_type');
  if (channel.members.has(state.botUserId)) {
    return { channel: channelInfo(state, channel), warning: 'already_in_channel' };
  }
  channel.members.add(state.botUserId);
  return { channel: channelInfo(state, channel) };
}

export function conversationInfo(state: WorkspaceState, args: Args): Answer {
  const channel = channelById(state, str(args, 'channel'));
  // A private channel the bot is not in does not exist, as far as the bot can tell.
  if (channel.is_private && !channel.members.has(state.botUserId))
    throw new SlackApiError('channel_not_found');
  return { channel: channelInfo(state, channel) };
}
