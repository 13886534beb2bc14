// The Slack Web API's wire: message shapes, Slack's errors in the error vocabulary, and the raw
// call the outbox makes. Nothing here waits or retries; the outbox decides that.
import axios from 'axios';
import { ErrorCode, type WebAPICallError } from '@slack/web-api';
import { OomdoctorError, type ErrorCode as OomdoctorErrorCode } from '../core/errors';

export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

export interface PostedMessage {
  channel: string;
  ts: string;
}

/** One Web API call, as the wire answers it; errors are the SDK's (with rejectRateLimitedCalls on). */
export interface SlackWire {
  call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** The bytes of an upload, POSTed to the upload_url Slack handed out. */
  sendBytes(uploadUrl: string, bytes: Buffer): Promise<void>;
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

/** The wire over the Web API client: 429s come back to the outbox instead of pausing the client. */
export function webClientWire(client: {
  apiCall(method: string, options?: Record<string, unknown>): Promise<unknown>;
}): SlackWire {
  return {
    call: async (method, args) => (await client.apiCall(method, args)) as Record<string, unknown>,
    async sendBytes(uploadUrl, bytes) {
      const res = await axios.post(uploadUrl, bytes, {
        headers: { 'Content-Type': 'application/octet-stream' },
        timeout: 30_000,
        validateStatus: () => true,
        maxBodyLength: 20 * 1024 * 1024,
      });
      if (res.status !== 200) throw new Error(`the upload URL answered HTTP ${res.status}`);
    },
  };
}
