// Modals in the fake Slack workspace: views.open and views.update, and the trigger_ids views.open
// exchanges (single use, expiring after 3 s). Separate because views share nothing with messages or files
// but the id counter, and the trigger rules are tested on their own.

import { randomUUID } from 'node:crypto';
import { viewErrors } from './block-kit';
import { SlackApiError, invalidArguments, str, type Answer, type Args } from './wire';
import { nextId, type WorkspaceState } from './workspace-state';

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

function storeView(
  state: WorkspaceState,
  view: Record<string, unknown>,
  previous: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const id = typeof previous?.id === 'string' ? previous.id : nextId(state, 'V');
  const stored: Record<string, unknown> = {
    id,
    team_id: state.teamId,
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
    app_id: state.appId,
    external_id: view.external_id ?? previous?.external_id ?? '',
    app_installed_team_id: state.teamId,
    bot_id: state.botId,
  };
  state.views.set(id, stored);
  return stored;
}

function viewArg(args: Args): Record<string, unknown> {
  const view = args.view;
  if (view === undefined || view === '') throw invalidArguments('[ERROR] missing required field: view');
  const errors = viewErrors(view);
  if (errors.length > 0) throw invalidArguments(...errors);
  return view as Record<string, unknown>;
}

export function openView(state: WorkspaceState, args: Args): Answer {
  const trigger = str(args, 'trigger_id');
  if (trigger === undefined) throw invalidArguments('[ERROR] missing required field: trigger_id');
  const view = viewArg(args);
  if (state.usedTriggers.has(trigger)) throw new SlackApiError('exchanged_trigger_id');
  if (triggerExpired(trigger)) throw new SlackApiError('expired_trigger_id');
  state.usedTriggers.add(trigger);
  if (
    typeof view.external_id === 'string' &&
    [...state.views.values()].some((v) => v.external_id === view.external_id)
  ) {
    throw new SlackApiError('duplicate_external_id');
  }
  return { view: storeView(state, view, undefined) };
}

export function updateView(state: WorkspaceState, args: Args): Answer {
  const viewId = str(args, 'view_id');
  const externalId = str(args, 'external_id');
  if (viewId === undefined && externalId === undefined)
    throw invalidArguments('[ERROR] must provide either view_id or external_id');
  const view = viewArg(args);
  const existing =
    viewId !== undefined
      ? state.views.get(viewId)
      : [...state.views.values()].find((v) => v.external_id === externalId);
  if (!existing) throw new SlackApiError('not_found');
  const hash = str(args, 'hash');
  if (hash !== undefined && hash !== existing.hash) throw new SlackApiError('hash_conflict');
  return { view: storeView(state, view, existing) };
}
