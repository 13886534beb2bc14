// The jobs the bot queues. Their data crosses Redis, so the worker re-validates it with these
// schemas before trusting it (an old or foreign job fails with a clear message, not deep inside).
import { z } from 'zod';
import { PATCHABLE_KINDS } from '../core/kubernetes-types';

const alertTarget = z.object({
  id: z.string().max(200),
  alertname: z.string().max(256),
  namespace: z.string().max(63),
  pod: z.string().max(253),
  container: z.string().max(63).nullable(),
  channel: z.string().max(100).nullable(),
  startsAt: z.string().max(64),
  crashLoop: z.boolean(),
});

export const botJobSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('alert-group'),
    receivedAt: z.number(),
    plan: z.object({
      status: z.enum(['firing', 'resolved']),
      groupKey: z.string().max(4096),
      groupId: z.string().max(64),
      targets: z.array(alertTarget).max(1000),
      undiagnosable: z.array(z.object({ label: z.string().max(600), why: z.string().max(600) })).max(1000),
      ignored: z.array(z.object({ alertname: z.string().max(256), why: z.string().max(600) })).max(1000),
      channel: z.string().max(100).nullable(),
      truncatedAlerts: z.number().int().nonnegative().default(0),
    }),
    alertName: z.string().max(256),
  }),
  z.object({
    kind: z.literal('diagnose-alert'),
    receivedAt: z.number(),
    groupId: z.string().max(64),
    target: alertTarget,
  }),
  z.object({
    kind: z.literal('command'),
    receivedAt: z.number(),
    channel: z.string().max(40),
    userId: z.string().max(40),
    text: z.string().max(300),
    responseUrl: z.string().max(2000).nullable(),
  }),
  z.object({
    kind: z.literal('rerun'),
    receivedAt: z.number(),
    channel: z.string().max(40),
    threadTs: z.string().max(40),
    userId: z.string().max(40),
    namespace: z.string().max(63),
    pod: z.string().max(253),
    container: z.string().max(63).nullable(),
  }),
  // "Apply fix": the checks and dry run behind the modal, then the change itself. Only ids travel:
  // the suggestion is read from the store, and every check runs again in the worker.
  z.object({
    kind: z.literal('apply-preview'),
    receivedAt: z.number(),
    suggestionId: z.string().max(64),
    op: z.enum(['apply', 'undo']),
    userId: z.string().max(40),
    /** The Slack user groups the user belongs to, as the web process found them (for impersonation). */
    userGroups: z.array(z.string().max(40)).max(100),
    viewId: z.string().max(40),
  }),
  z.object({
    kind: z.literal('apply'),
    receivedAt: z.number(),
    suggestionId: z.string().max(64),
    op: z.enum(['apply', 'undo']),
    userId: z.string().max(40),
    userGroups: z.array(z.string().max(40)).max(100),
    viewId: z.string().max(40).nullable(),
  }),
  // One check of a rollout after Apply or Undo: read the workload once, edit the thread message once,
  // and, unless it is over, queue the next check with a delay (no worker slot waits in between).
  // What the message shows besides the rollout line travels along: a check reads only the
  // suggestion's state (undone meanwhile?) from the store.
  z.object({
    kind: z.literal('rollout-follow'),
    receivedAt: z.number(),
    suggestionId: z.string().max(64),
    op: z.enum(['apply', 'undo']),
    workload: z.object({
      kind: z.enum(PATCHABLE_KINDS),
      namespace: z.string().max(63),
      name: z.string().max(253),
    }),
    container: z.string().max(63),
    /** The workload's generation the change produced: its rollout is the one followed. */
    generation: z.number().int().nonnegative(),
    /** When the change was made (ms): the deadline counts from it, and older pods are not this rollout's. */
    since: z.number(),
    /** The thread message that shows the rollout. */
    message: z.object({ channel: z.string().max(40), ts: z.string().max(40) }),
    changedBy: z.string().max(40),
    identity: z.string().max(300).nullable(),
    diff: z
      .array(
        z.object({ field: z.string().max(1000), before: z.string().max(1000), after: z.string().max(1000) }),
      )
      .max(500),
    /** 1 for the first check; part of each check's job id. */
    check: z.number().int().positive(),
    /** A digest of the rollout line last sent to the message ('' before the first), so an unchanged state is not sent again. */
    shown: z.string().max(64),
  }),
]);

export type BotJob = z.infer<typeof botJobSchema>;
export type AlertGroupJob = Extract<BotJob, { kind: 'alert-group' }>;
export type DiagnoseAlertJob = Extract<BotJob, { kind: 'diagnose-alert' }>;
export type CommandJob = Extract<BotJob, { kind: 'command' }>;
export type RerunJob = Extract<BotJob, { kind: 'rerun' }>;
export type ApplyPreviewJob = Extract<BotJob, { kind: 'apply-preview' }>;
export type ApplyJob = Extract<BotJob, { kind: 'apply' }>;
export type RolloutFollowJob = Extract<BotJob, { kind: 'rollout-follow' }>;
