// "Apply fix" and "Undo" in Slack: acknowledge at once, decide who may, open the modal while the
// trigger is fresh (3 s), and leave everything that talks to Kubernetes to a worker job. The button
// carries a suggestion id only; the modal's private_metadata the same id and the operation, both
// re-checked on submit.
import type { App, BlockAction, ButtonAction, ViewSubmitAction } from '@slack/bolt';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { SlackPoster } from '../src/adapters/slack';
import type { GroupMembership, SlackInteractive } from '../src/adapters/slack-interactive';
import { auditBase, type AuditLog } from '../src/apply/audit';
import { decide, groupsToCheck } from '../src/apply/authorize';
import { stateRefusal, SUGGESTION_ID } from '../src/apply/suggestion';
import type { ApplyOp, SuggestionRecord } from '../src/apply/types';
import type { BotConfig } from '../src/config/bot';
import type { JobQueue } from '../src/bot/queue';
import type { StateStore } from '../src/bot/store';
import {
  APPLY_IDS,
  checkingView,
  refusalMessage,
  refusedView,
  submittedView,
} from '../src/slack/apply-blocks';
import { ACTION_IDS } from '../src/slack/blocks';

export interface ApplyActionDeps {
  config: BotConfig;
  store: StateStore;
  queue: JobQueue;
  slack: SlackPoster;
  interactive: SlackInteractive;
  membership: GroupMembership;
  audit: AuditLog;
  logger: Logger;
}

const metadataSchema = z.strictObject({ s: z.string().regex(SUGGESTION_ID), op: z.enum(['apply', 'undo']) });

/** Who the user is, as far as applying goes: allowed or not (and why), and their relevant user groups. */
async function authorize(deps: ApplyActionDeps, userId: string, record: SuggestionRecord) {
  const groups = await deps.membership
    .groupsOf(userId, groupsToCheck(deps.config.apply))
    .catch((error: Error) => {
      deps.logger.warn({ err: error.message }, 'could not read user-group membership from Slack');
      return [] as string[];
    });
  return { groups, decision: decide(deps.config.apply, userId, groups, record.workload.namespace) };
}

/**
 * Queues the checks or the change. One job per modal, keyed by it: Slack re-sending the same
 * interaction finds it queued already. False when the queue is down (logged; the caller says so).
 */
async function enqueue(
  deps: ApplyActionDeps,
  kind: 'apply-preview' | 'apply',
  record: SuggestionRecord,
  op: ApplyOp,
  userId: string,
  userGroups: string[],
  viewId: string,
): Promise<boolean> {
  try {
    await deps.queue.add(
      { kind, receivedAt: Date.now(), suggestionId: record.id, op, userId, userGroups, viewId },
      `${kind}-${record.id}-${op}-${viewId}`,
    );
    return true;
  } catch (error) {
    deps.logger.error({ err: (error as Error).message, kind }, 'cannot queue the Apply job');
    return false;
  }
}

function queueDownView(op: ApplyOp) {
  return refusedView(
    op,
    'The job queue is not available right now.',
    'Nothing was changed. Try again in a minute.',
  );
}

export function registerApplyActions(app: App, deps: ApplyActionDeps): void {
  const onButton =
    (op: ApplyOp) =>
    async ({ ack, body, action }: { ack: () => Promise<void>; body: BlockAction; action: ButtonAction }) => {
      await ack();
      const userId = body.user.id;
      const channel = body.channel?.id ?? body.container?.channel_id;
      const id = action.value ?? '';
      const record = SUGGESTION_ID.test(id) ? await deps.store.getSuggestion(id) : null;
      const tell = async (reason: string) => {
        const where = record?.message.channel ?? channel;
        if (where)
          await deps.slack
            .ephemeral(where, userId, refusalMessage(op, reason))
            .catch((error: Error) =>
              deps.logger.warn({ err: error.message }, 'could not send an ephemeral refusal'),
            );
      };
      if (!record) {
        await deps.audit.write({
          ...auditBase(deps.config.clusterName, null, op, userId),
          suggestionId: SUGGESTION_ID.test(id) ? id : null,
          event: 'refused',
          reason: 'unknown or expired suggestion',
          code: 'expired',
        });
        await tell('this suggestion has expired or is unknown; re-run the diagnosis for a new one');
        return;
      }
      const { groups, decision } = await authorize(deps, userId, record);
      if (!decision.allowed) {
        await deps.audit.write({
          ...auditBase(deps.config.clusterName, record, op, userId),
          event: 'refused',
          reason: decision.reason,
          code: decision.code,
        });
        await tell(decision.reason);
        return;
      }
      const problem = stateRefusal(record, op);
      if (problem) {
        await deps.audit.write({
          ...auditBase(deps.config.clusterName, record, op, userId),
          event: 'refused',
          reason: problem,
          code: 'state',
        });
        await tell(problem);
        return;
      }
      let viewId: string;
      try {
        viewId = (
          await deps.interactive.openView(
            body.trigger_id,
            checkingView(op, record.workload, record.container),
          )
        ).id;
      } catch (error) {
        deps.logger.warn({ err: (error as Error).message }, 'could not open the Apply modal');
        await tell('Slack did not open the confirmation in time; press the button again');
        return;
      }
      await deps.audit.write({
        ...auditBase(deps.config.clusterName, record, op, userId),
        event: 'requested',
        reason: `modal opened (allowed by ${decision.via})`,
        code: 'opened',
      });
      if (!(await enqueue(deps, 'apply-preview', record, op, userId, groups, viewId)))
        await deps.interactive.updateView(viewId, queueDownView(op)).catch(() => undefined);
    };

  app.action<BlockAction<ButtonAction>>(ACTION_IDS.apply, onButton('apply'));
  app.action<BlockAction<ButtonAction>>(APPLY_IDS.undo, onButton('undo'));

  app.view<ViewSubmitAction>(APPLY_IDS.confirm, async ({ ack, body, view }) => {
    const userId = body.user.id;
    let metadata: z.infer<typeof metadataSchema>;
    try {
      metadata = metadataSchema.parse(JSON.parse(view.private_metadata || '{}'));
    } catch {
      await ack({
        response_action: 'update',
        view: refusedView(
          'apply',
          'This confirmation could not be read.',
          'Nothing was changed. Press the button in the thread again.',
        ),
      });
      return;
    }
    const { op } = metadata;
    const record = await deps.store.getSuggestion(metadata.s);
    if (!record) {
      await ack({
        response_action: 'update',
        view: refusedView(
          op,
          'This suggestion has expired.',
          'Nothing was changed. Re-run the diagnosis for a new one.',
        ),
      });
      return;
    }
    // The same rules as on the button: the configuration or the groups may have changed since.
    const { groups, decision } = await authorize(deps, userId, record);
    if (!decision.allowed) {
      await ack({ response_action: 'update', view: refusedView(op, 'You cannot do this.', decision.reason) });
      await deps.audit.write({
        ...auditBase(deps.config.clusterName, record, op, userId),
        event: 'refused',
        reason: decision.reason,
        code: decision.code,
      });
      return;
    }
    if (!(await enqueue(deps, 'apply', record, op, userId, groups, view.id))) {
      await ack({ response_action: 'update', view: queueDownView(op) });
      return;
    }
    await ack({ response_action: 'update', view: submittedView(op, record.workload, record.container) });
    await deps.audit.write({
      ...auditBase(deps.config.clusterName, record, op, userId),
      event: 'requested',
      reason: `confirmed in the modal (allowed by ${decision.via})`,
      code: 'confirmed',
    });
  });
}
