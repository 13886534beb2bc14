// The Slack calls "Apply fix" needs beyond posting: modals (views.open within the trigger's 3 seconds,
// views.update after) and user-group membership (usergroups.users.list), cached briefly because
// every button press asks.
import type { ModalView } from '@slack/types';
import { MINUTE_MS } from '../core/time';
import { toDeliveryError } from './slack';

export interface SlackInteractive {
  /** Opens a modal; the trigger id is single-use and expires 3 seconds after the click. */
  openView(triggerId: string, view: ModalView): Promise<{ id: string }>;
  updateView(viewId: string, view: ModalView): Promise<void>;
  /** Members of a user group (S…); null when Slack does not know it or will not say. */
  usergroupMembers(groupId: string): Promise<string[] | null>;
}

/** The outbox's generic call: within the method's budget, at interactive priority, never re-sent blindly. */
export interface SlackCaller {
  call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export class WebSlackInteractive implements SlackInteractive {
  // Through the outbox, so modals count against the same per-method budgets as every other call
  // (views.* are Tier 4, usergroups.users.list Tier 2) and take the headroom kept for them.
  constructor(private readonly slack: SlackCaller) {}

  async openView(triggerId: string, view: ModalView): Promise<{ id: string }> {
    try {
      const result = await this.slack.call('views.open', { trigger_id: triggerId, view });
      const opened = result.view as { id?: unknown } | undefined;
      return { id: typeof opened?.id === 'string' ? opened.id : '' };
    } catch (error) {
      throw toDeliveryError(error, 'opening the confirmation');
    }
  }

  async updateView(viewId: string, view: ModalView): Promise<void> {
    try {
      await this.slack.call('views.update', { view_id: viewId, view });
    } catch (error) {
      throw toDeliveryError(error, 'updating the confirmation');
    }
  }

  async usergroupMembers(groupId: string): Promise<string[] | null> {
    try {
      const result = await this.slack.call('usergroups.users.list', { usergroup: groupId });
      return Array.isArray(result.users) ? result.users.map(String) : [];
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
    private readonly ttlMs = MINUTE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  private async members(groupId: string): Promise<string[] | null> {
    const hit = this.cache.get(groupId);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.members;
    const members = await this.slack.usergroupMembers(groupId);
    // Only an answer is cached: a failed read asks again next time rather than deny for a minute.
    if (members !== null) this.cache.set(groupId, { members, at: this.now() });
    return members;
  }

  async groupsOf(userId: string, groupIds: readonly string[]): Promise<string[]> {
    const members = await Promise.all(groupIds.map((g) => this.members(g)));
    return groupIds.filter((_, i) => members[i]?.includes(userId) ?? false);
  }
}
