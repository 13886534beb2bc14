// The Slack calls "Apply fix" needs beyond posting: modals (views.open within the trigger's 3 seconds,
// views.update after) and user-group membership (usergroups.users.list), cached briefly because
// every button press asks.
import { WebClient } from '@slack/web-api';
import type { ModalView } from '@slack/types';
import { toDeliveryError } from './slack';

export interface SlackInteractive {
  /** Opens a modal; the trigger id is single-use and expires 3 seconds after the click. */
  openView(triggerId: string, view: ModalView): Promise<{ id: string }>;
  updateView(viewId: string, view: ModalView): Promise<void>;
  /** Members of a user group (S…); null when Slack does not know it or will not say. */
  usergroupMembers(groupId: string): Promise<string[] | null>;
}

export class WebSlackInteractive implements SlackInteractive {
  readonly client: WebClient;

  constructor(options: { token: string; apiUrl: string }) {
    // No retries for views.open: the trigger would have expired by the time a retry goes out.
    this.client = new WebClient(options.token, { slackApiUrl: options.apiUrl, retryConfig: { retries: 0 } });
  }

  async openView(triggerId: string, view: ModalView): Promise<{ id: string }> {
    try {
      const result = await this.client.views.open({ trigger_id: triggerId, view });
      return { id: String(result.view?.id ?? '') };
    } catch (error) {
      throw toDeliveryError(error, 'opening the confirmation');
    }
  }

  async updateView(viewId: string, view: ModalView): Promise<void> {
    try {
      await this.client.views.update({ view_id: viewId, view });
    } catch (error) {
      throw toDeliveryError(error, 'updating the confirmation');
    }
  }

  async usergroupMembers(groupId: string): Promise<string[] | null> {
    try {
      const result = await this.client.usergroups.users.list({ usergroup: groupId });
      return (result.users ?? []).map(String);
    } catch {
      return null;
    }
  }
}

/**
 * Which of the given user groups a user belongs to, asking Slack at most once a minute per group.
 * A group Slack will not list counts as having no members (and so grants nothing).
 */
export class GroupMembership {
  private readonly cache = new Map<string, { members: string[] | null; at: number }>();

  constructor(
    private readonly slack: Pick<SlackInteractive, 'usergroupMembers'>,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  private async members(groupId: string): Promise<string[] | null> {
    const hit = this.cache.get(groupId);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.members;
    const members = await this.slack.usergroupMembers(groupId);
    this.cache.set(groupId, { members, at: this.now() });
    return members;
  }

  async groupsOf(userId: string, groupIds: readonly string[]): Promise<string[]> {
    const members = await Promise.all(groupIds.map((g) => this.members(g)));
    return groupIds.filter((_, i) => members[i]?.includes(userId) ?? false);
  }
}
