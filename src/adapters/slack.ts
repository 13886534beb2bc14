// Slack's Web API behind a small interface: post, update, upload, answer a command. Slack's own
// errors become SlackDeliveryError with a code and whether retrying can help; not_in_channel is
// handled here once (join a public channel, then try again).
import { OomdoctorError, type ErrorCode as OomdoctorErrorCode } from '../core/errors';
import axios from 'axios';
import { ErrorCode, WebClient, type Logger as SlackLogger, type WebAPICallError } from '@slack/web-api';

export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

export interface PostedMessage {
  channel: string;
  ts: string;
}

export interface SlackPoster {
  post(channel: string, message: SlackMessage, threadTs?: string): Promise<PostedMessage>;
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
  ephemeral(channel: string, user: string, message: SlackMessage): Promise<void>;
  upload(
    channel: string,
    threadTs: string,
    file: { filename: string; title: string; bytes: Buffer },
  ): Promise<void>;
  respond(
    responseUrl: string,
    message: SlackMessage & { replace_original?: boolean; response_type?: 'ephemeral' | 'in_channel' },
  ): Promise<void>;
  permalink(channel: string, ts: string): Promise<string | null>;
  authTest(): Promise<boolean>;
}

/** A Slack Web API call that failed; `slackError` is Slack's own error string (`channel_not_found`). */
export class SlackDeliveryError extends OomdoctorError {
  constructor(
    readonly slackError: string,
    permanent: boolean,
    message: string,
  ) {
    const code: OomdoctorErrorCode =
      slackError === 'ratelimited'
        ? 'slack-rate-limited'
        : slackError === 'network'
          ? 'slack-unreachable'
          : 'slack-refused';
    super(code, message, { permanent });
    this.name = 'SlackDeliveryError';
  }
}

/** Slack error codes that no retry will fix. */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'invalid_blocks',
  'msg_too_long',
  'message_not_found',
  'cant_update_message',
  'restricted_action',
  'method_not_supported_for_channel_type',
  'file_not_found',
  'expired_url',
  'used_url',
]);

const HINTS: Record<string, string> = {
  channel_not_found:
    'the channel does not exist or the bot cannot see it (check SLACK_ALERT_CHANNEL, and invite the bot to private channels)',
  not_in_channel: 'the bot is not a member of the channel: invite it (/invite @oomdoctor)',
  is_archived: 'the channel is archived',
  invalid_auth: 'SLACK_BOT_TOKEN is not valid',
  not_authed: 'no Slack token was sent',
  missing_scope:
    "the app lacks a scope it needs (chat:write, commands, files:write, channels:join): add it in the app's OAuth & Permissions page and reinstall",
};

export function toDeliveryError(error: unknown, what: string): Error {
  const e = error as WebAPICallError & { data?: { error?: string }; retryAfter?: number };
  if (e.code === ErrorCode.PlatformError) {
    const code = e.data?.error ?? 'unknown_error';
    return new SlackDeliveryError(
      code,
      PERMANENT.has(code),
      `Slack refused ${what}: ${code}${HINTS[code] ? ` (${HINTS[code]})` : ''}`,
    );
  }
  if (e.code === ErrorCode.RateLimitedError)
    return new SlackDeliveryError(
      'ratelimited',
      false,
      `Slack rate-limited ${what}; retry after ${e.retryAfter ?? '?'} s`,
    );
  if (e.code === ErrorCode.RequestError || e.code === ErrorCode.HTTPError)
    return new SlackDeliveryError('network', false, `could not reach Slack for ${what}: ${e.message}`);
  return error instanceof Error ? error : new Error(String(error));
}

export interface WebSlackOptions {
  token: string;
  apiUrl: string;
  /** Retries of passing failures (429 with Retry-After, 5xx): the Web API client's own policy. */
  retries?: number;
  /** Where the Web API client logs (its retries and rate limits); the default writes plain text to the console. */
  logger?: SlackLogger;
}

export class WebSlackPoster implements SlackPoster {
  readonly client: WebClient;
  private workspaceUrl: string | null = null;
  private readonly joined = new Set<string>();

  constructor(options: WebSlackOptions) {
    this.client = new WebClient(options.token, {
      slackApiUrl: options.apiUrl,
      retryConfig: {
        retries: options.retries ?? 5,
        factor: 2,
        minTimeout: 500,
        maxTimeout: 30_000,
        randomize: true,
      },
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  private async call<T>(what: string, channel: string | null, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      const delivery = toDeliveryError(error, what);
      // A public channel the bot has not joined: join once and try again.
      if (
        channel &&
        delivery instanceof SlackDeliveryError &&
        delivery.slackError === 'not_in_channel' &&
        !this.joined.has(channel)
      ) {
        this.joined.add(channel);
        try {
          await this.client.conversations.join({ channel });
        } catch (joinError) {
          const joinFailure = toDeliveryError(joinError, `joining ${channel}`);
          throw new SlackDeliveryError(
            'not_in_channel',
            true,
            `the bot is not in channel ${channel} and cannot join it (${joinFailure.message}): invite it with /invite @oomdoctor`,
          );
        }
        return this.call(what, channel, request);
      }
      throw delivery;
    }
  }

  async post(channel: string, message: SlackMessage, threadTs?: string): Promise<PostedMessage> {
    const result = await this.call('posting a message', channel, () =>
      this.client.chat.postMessage({
        channel,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks as never } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    return { channel: String(result.channel ?? channel), ts: String(result.ts) };
  }

  async update(channel: string, ts: string, message: SlackMessage): Promise<void> {
    await this.call('updating a message', channel, () =>
      this.client.chat.update({
        channel,
        ts,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks as never } : {}),
      }),
    );
  }

  async ephemeral(channel: string, user: string, message: SlackMessage): Promise<void> {
    await this.call('an ephemeral message', null, () =>
      this.client.chat.postEphemeral({
        channel,
        user,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks as never } : {}),
      }),
    );
  }

  async upload(
    channel: string,
    threadTs: string,
    file: { filename: string; title: string; bytes: Buffer },
  ): Promise<void> {
    await this.call('uploading the chart', channel, () =>
      this.client.files.uploadV2({
        channel_id: channel,
        thread_ts: threadTs,
        file: file.bytes,
        filename: file.filename,
        title: file.title,
      }),
    );
  }

  async respond(
    responseUrl: string,
    message: SlackMessage & { replace_original?: boolean; response_type?: 'ephemeral' | 'in_channel' },
  ): Promise<void> {
    try {
      await axios.post(responseUrl, message, { timeout: 10_000 });
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
        const auth = await this.client.auth.test();
        this.workspaceUrl = typeof auth.url === 'string' ? auth.url.replace(/\/?$/, '/') : '';
      } catch {
        return null;
      }
    }
    return this.workspaceUrl ? `${this.workspaceUrl}archives/${channel}/p${ts.replace('.', '')}` : null;
  }

  async authTest(): Promise<boolean> {
    try {
      const result = await this.client.auth.test();
      return result.ok === true;
    } catch {
      return false;
    }
  }
}
