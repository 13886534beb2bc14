// Buttons: "Re-run diagnosis" and the pod picker. Acknowledge, validate the value, enqueue.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { JobQueue } from '../src/bot/queue';
import { parseContainerName, parseNamespace, parsePodName } from '../src/core/target';
import { ACTION_IDS, commandAck, unusableRequestMessage } from '../src/slack/blocks';

export interface ActionDeps {
  queue: JobQueue;
  logger: Logger;
}

const rerunValue = z.object({
  namespace: z.string(),
  pod: z.string(),
  container: z.string().nullable().optional(),
});

export function registerActions(app: App, deps: ActionDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.rerun, async ({ ack, body, action, respond }) => {
    await ack();
    let target: { namespace: string; pod: string; container: string | null };
    try {
      const value = rerunValue.parse(JSON.parse(action.value ?? ''));
      target = {
        namespace: parseNamespace(value.namespace),
        pod: parsePodName(value.pod),
        container: value.container ? parseContainerName(value.container) : null,
      };
    } catch {
      deps.logger.warn({ user: body.user.id }, 'a Re-run button carried a value that is not a target');
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        ...unusableRequestMessage('That button no longer works.'),
      });
      return;
    }
    const channel = body.channel?.id ?? body.container?.channel_id;
    const threadTs =
      body.message?.thread_ts ?? body.message?.ts ?? body.container?.thread_ts ?? body.container?.message_ts;
    if (!channel || !threadTs) return;
    await deps.queue.add(
      { kind: 'rerun', receivedAt: Date.now(), channel, threadTs, userId: body.user.id, ...target },
      `rerun-${action.action_ts.replace('.', '')}-${body.user.id}`,
    );
  });

  app.action<BlockAction<ButtonAction>>(
    new RegExp(`^${ACTION_IDS.pickPodPrefix}\\d+$`),
    async ({ ack, body, action, respond }) => {
      await ack();
      const [namespaceText, podText] = (action.value ?? '').split('/');
      try {
        parseNamespace(namespaceText ?? '');
        parsePodName(podText ?? '');
      } catch {
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          ...unusableRequestMessage('That choice could not be read.'),
        });
        return;
      }
      const channel = body.channel?.id ?? body.container?.channel_id;
      if (!channel) return;
      await deps.queue.add(
        {
          kind: 'command',
          receivedAt: Date.now(),
          channel,
          userId: body.user.id,
          text: `${namespaceText}/${podText}`,
          responseUrl: body.response_url ?? null,
        },
        `pick-${action.action_ts.replace('.', '')}-${body.user.id}`,
      );
      await respond({
        response_type: 'ephemeral',
        replace_original: true,
        ...commandAck(`${namespaceText}/${podText}`),
      });
    },
  );
}
