// Slack's Web API as the bot uses it: post, edit, upload, answer a command. Every write goes
// through the outbox (rate budgets per method, coalesced edits, exactly-once keyed posts); see
// slack-outbox.ts. The Web API client hands 429s back instead of pausing all its calls.
import axios from 'axios';
import { WebClient, type Logger as SlackLogger } from '@slack/web-api';
import type { Logger } from 'pino';
import { MemoryOutboxState, type OutboxState } from './outbox-state';
import { SlackOutbox, type Content, type EditOptions, type PostOptions } from './slack-outbox';
import type { WritePriority } from './slack-limits';
import { SlackDeliveryError, webClientWire, type PostedMessage, type SlackMessage } from './slack-wire';

export {
  SlackDeliveryError,
  toDeliveryError,
  type PostedMessage,
  type SlackMessage,
  type SlackWire,
} from './slack-wire';
export type { EditOptions, PostOptions } from './slack-outbox';
export type { WritePriority } from './slack-limits';

export interface SlackPoster {
  /** Posts a message; under `options.key`, exactly once through retries and crashes. */
  post(
    channel: string,
    message: SlackMessage,
    threadTs?: string,
    options?: PostOptions,
  ): Promise<PostedMessage>;
  /** Posts the keyed message in a thread, or edits it when it was posted: see SlackOutbox.show. */
  show(
    key: string,
    channel: string,
    threadTs: string | null,
    message: SlackMessage,
    options?: { priority?: WritePriority },
  ): Promise<PostedMessage>;
  /** The message a keyed post made, if it was made (by any process). */
  postedUnder(key: string): Promise<PostedMessage | null>;
  /** Sets what a message shows; edits to one message coalesce and the newest wins. */
  update(channel: string, ts: string, message: Content, options?: EditOptions): Promise<void>;
  ephemeral(channel: string, user: string, message: SlackMessage): Promise<void>;
  /** Uploads a file into a thread; under `options.key`, once. */
  upload(
    channel: string,
    threadTs: string,
    file: { filename: string; title: string; bytes: Buffer },
    options?: { key?: string; priority?: WritePriority },
  ): Promise<void>;
  respond(
    responseUrl: string,
    message: SlackMessage & { replace_original?: boolean; response_type?: 'ephemeral' | 'in_channel' },
  ): Promise<void>;
  permalink(channel: string, ts: string): Promise<string | null>;
  authTest(): Promise<boolean>;
}

export interface WebSlackOptions {
  token: string;
  apiUrl: string;
  /** Shared budgets and records (Redis); in memory when absent, for one process. */
  state?: OutboxState;
  /** Where the outbox logs its rate limits and retries. */
  logger: Logger;
  /** Where the Web API client logs; the default writes plain text to the console. */
  clientLogger?: SlackLogger;
  /** How long a write keeps trying through rate limits before it gives up (default 15 min). */
  maxWaitMs?: number;
  onCall?: (method: string, outcome: string) => void;
}

/** Slack's own request timeout for one Web API call; the outbox retries what is safe to retry. */
const CALL_TIMEOUT_MS = 10_000;

export class WebSlackPoster implements SlackPoster {
  readonly client: WebClient;
  readonly outbox: SlackOutbox;
  private workspaceUrl: string | null = null;

  constructor(options: WebSlackOptions) {
    this.client = new WebClient(options.token, {
      slackApiUrl: options.apiUrl,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      timeout: CALL_TIMEOUT_MS,
      ...(options.clientLogger ? { logger: options.clientLogger } : {}),
    });
    this.outbox = new SlackOutbox({
      wire: webClientWire(this.client),
      state: options.state ?? new MemoryOutboxState(),
      logger: options.logger,
      ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
      ...(options.onCall ? { onCall: options.onCall } : {}),
    });
  }

  post(
    channel: string,
    message: SlackMessage,
    threadTs?: string,
    options?: PostOptions,
  ): Promise<PostedMessage> {
    return this.outbox.post(channel, message, threadTs, options);
  }

  show(
    key: string,
    channel: string,
    threadTs: string | null,
    message: SlackMessage,
    options?: { priority?: WritePriority },
  ): Promise<PostedMessage> {
    return this.outbox.show(key, channel, threadTs, message, options);
  }

  postedUnder(key: string): Promise<PostedMessage | null> {
    return this.outbox.postedUnder(key);
  }

  update(channel: string, ts: string, message: Content, options?: EditOptions): Promise<void> {
    return this.outbox.update(channel, ts, message, options);
  }

  ephemeral(channel: string, user: string, message: SlackMessage): Promise<void> {
    return this.outbox.ephemeral(channel, user, message);
  }

  upload(
    channel: string,
    threadTs: string,
    file: { filename: string; title: string; bytes: Buffer },
    options?: { key?: string; priority?: WritePriority },
  ): Promise<void> {
    return this.outbox.upload(channel, threadTs, file, options);
  }

  async respond(
    responseUrl: string,
    message: SlackMessage & { replace_original?: boolean; response_type?: 'ephemeral' | 'in_channel' },
  ): Promise<void> {
    // A response_url is not a Web API method: Slack allows 5 posts to it within 30 minutes.
    try {
      await axios.post(responseUrl, message, { timeout: CALL_TIMEOUT_MS });
    } catch (error) {
      throw new SlackDeliveryError(
        'response_url',
        false,
        `could not answer through the command's response_url: ${(error as Error).message}`,
      );
    }
  }

  async permalink(channel: string, ts: string): Promise<string | null> {
    // Built from auth.test's workspace URL: one call per process instead of one per message.
    if (this.workspaceUrl === null) {
      try {
        const auth = await this.outbox.call('auth.test', {}, 'background');
        this.workspaceUrl = typeof auth.url === 'string' ? auth.url.replace(/\/?$/, '/') : '';
      } catch {
        return null;
      }
    }
    return this.workspaceUrl ? `${this.workspaceUrl}archives/${channel}/p${ts.replace('.', '')}` : null;
  }

  async authTest(): Promise<boolean> {
    try {
      const result = await this.outbox.call('auth.test', {}, 'background');
      return result.ok === true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.outbox.close();
  }
}
