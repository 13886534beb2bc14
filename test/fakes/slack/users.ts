// People in the fake Slack workspace: the addUser fixture, auth.test (the bot's own identity), users.info
// with its time zone, and user groups. Separate from channels.ts: nothing here reads a conversation.

import { SlackApiError, invalidArguments, str, type Answer, type Args } from './wire';
import { BASE_TS_SECONDS, type WorkspaceState } from './workspace-state';

export interface UserFixture {
  id: string;
  name: string;
  tz?: string;
  groups?: string[];
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

export function addUser(state: WorkspaceState, user: UserFixture): void {
  const tz = user.tz ?? 'America/Los_Angeles';
  tzInfo(tz); // throws a RangeError for an unknown zone, here rather than in the middle of a request
  state.users.set(user.id, {
    id: user.id,
    name: user.name,
    tz,
    groups: [...(user.groups ?? [])],
    is_bot: false,
  });
}

export function authTest(state: WorkspaceState): Answer {
  return {
    url: 'https://fake-workspace.slack.com/',
    team: 'Fake Workspace',
    user: state.users.get(state.botUserId)?.name ?? 'oomdoctor',
    team_id: state.teamId,
    user_id: state.botUserId,
    bot_id: state.botId,
    is_enterprise_install: false,
  };
}

export function userInfo(state: WorkspaceState, args: Args): Answer {
  const id = str(args, 'user');
  const user = id === undefined ? undefined : state.users.get(id);
  if (!user) throw new SlackApiError('user_not_found');
  const { tz_label, tz_offset } = tzInfo(user.tz);
  const profile: Answer = {
    real_name: user.name,
    display_name: user.name,
    real_name_normalized: user.name,
    display_name_normalized: user.name,
    team: state.teamId,
  };
  if (user.is_bot) {
    profile.bot_id = state.botId;
    profile.api_app_id = state.appId;
  }
  return {
    user: {
      id: user.id,
      team_id: state.teamId,
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

export function usergroupUsers(state: WorkspaceState, args: Args): Answer {
  const group = str(args, 'usergroup');
  if (group === undefined) throw invalidArguments('[ERROR] missing required field: usergroup');
  const members = [...state.users.values()].filter((u) => u.groups.includes(group)).map((u) => u.id);
  if (members.length === 0) throw new SlackApiError('no_such_subteam');
  return { users: members };
}
