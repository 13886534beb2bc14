// /oom: acknowledge within Slack's 3 seconds, validate, enqueue. The diagnosis comes later, from a worker.
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { BotConfig } from '../src/config/bot';
import type { JobQueue } from '../src/bot/queue';
import { parseCommandTarget } from '../src/core/target';
import {
  badTargetMessage,
  commandAck,
  helpMessage,
  namespaceRefusedMessage,
  queueUnavailableMessage,
  unusableRequestMessage,
} from '../src/slack/blocks';

export interface CommandDeps {
  config: BotConfig;
  queue: JobQueue;
  logger: Logger;
}

/** The fields of a slash command this bot uses; Slack sends them form-encoded, all as strings. */
const commandPayload = z.object({
  text: z.string().max(300),
  channel_id: z.string().regex(/^[CDG][A-Z0-9]{2,20}$/),
  user_id: z.string().regex(/^[UW][A-Z0-9]{2,20}$/),
  response_url: z.string().url().max(2000).optional(),
  trigger_id: z.string().max(200),
});

export function registerSlashCommand(app: App, deps: CommandDeps): void {
  const name = deps.config.slack.commandName;
  app.command(name, async ({ command, ack }) => {
    const parsed = commandPayload.safeParse(command);
    if (!parsed.success) {
      deps.logger.warn({ issue: parsed.error.issues[0]?.message }, 'malformed slash command payload');
      await ack({
        response_type: 'ephemeral',
        ...unusableRequestMessage('That request could not be read.', name),
      });
      return;
    }
    const payload = parsed.data;
    const text = payload.text.trim();
    if (text === '' || text === 'help') {
      await ack({ response_type: 'ephemeral', ...helpMessage(name) });
      return;
    }
    let target;
    try {
      target = parseCommandTarget(text);
    } catch (error) {
      await ack({ response_type: 'ephemeral', ...badTargetMessage((error as Error).message, name) });
      return;
    }
    const allowed = deps.config.namespaces;
    if (allowed && target.kind !== 'bare' && !allowed.includes(target.namespace)) {
      await ack({ response_type: 'ephemeral', ...namespaceRefusedMessage(target.namespace, allowed) });
      return;
    }
    try {
      await deps.queue.add(
        {
          kind: 'command',
          receivedAt: Date.now(),
          channel: payload.channel_id,
          userId: payload.user_id,
          text,
          responseUrl: payload.response_url ?? null,
        },
        `cmd-${payload.trigger_id.replace(/[^A-Za-z0-9.]/g, '')}`,
      );
    } catch (error) {
      deps.logger.error({ err: (error as Error).message }, 'cannot queue a /oom command');
      await ack({ response_type: 'ephemeral', ...queueUnavailableMessage() });
      return;
    }
    await ack({ response_type: 'ephemeral', ...commandAck(text) });
  });
}
