// A fake Slack Web API (and Socket Mode) server for tests. It speaks Slack's wire format, so the product
// can be pointed at it with `new WebClient(token, { slackApiUrl: fake.url })` or Bolt's
// `clientOptions: { slackApiUrl: fake.url }`, with no workspace.
//
// Wire format, as the real API has it:
// - Methods are POST (or GET) /api/<method>; bodies are application/x-www-form-urlencoded (what
//   @slack/web-api sends; nested values such as `blocks` arrive as JSON strings inside the form),
//   application/json (token only in the Authorization header there) or multipart/form-data.
//   Query-string arguments are merged in.
// - Every answer is HTTP 200 JSON with `ok`; errors are `{ok:false, error}` (plus `response_metadata.messages`
//   for argument errors). A missing token is `not_authed`, a wrong one `invalid_auth`, the app-level token
//   on a bot method `not_allowed_token_type`. Rate limiting is HTTP 429 with `Retry-After: <seconds>`:
//   Slack's documented limits are always enforced (./slack/rate-limits.ts; `speed` compresses time),
//   and stats() counts calls, 429s and re-sends made before a Retry-After had passed.
// - JSON without `charset=utf-8` earns the `missing_charset` warning, a form with a charset `superfluous_charset`.
// - files.uploadV2 is files.getUploadURLExternal, a POST of the bytes (multipart or raw) to the returned
//   upload_url (answered `OK - <length>` as text/plain), then files.completeUploadExternal.
// - Socket Mode: apps.connections.open (app-level token only) hands out a single-use ws:// URL on this
//   server; a client that connects gets `hello`, and sendSocketEnvelope() delivers an envelope and
//   resolves with the client's ack.
//
// What it models, beyond plain storage: channel membership (not_in_channel, conversations.join on public
// channels only, private channels invisible to conversations.info when the bot is not in them), channel
// names ("#ops") and user ids (a DM) as chat.postMessage targets, Block Kit limits (50 blocks a message,
// 100 a view, 3000 characters a section text, 150 a header, 24 a modal title), single-use trigger_ids,
// view hashes (hash_conflict), only the bot's own messages being editable.
//
// The parts live in ./slack/: wire.ts (bodies in, answers out), block-kit.ts, workspace.ts (the stored
// state and the methods), socket-mode.ts, rate-limits.ts, server.ts (routing, tokens, limits, injected failures).
//
// Message metadata ({event_type, event_payload}) is stored and returned by conversations.history/replies
// with include_all_metadata; both paginate with cursors; a file completed into a conversation shows up
// there (in its thread with thread_ts) as a message with `files`; chat.getPermalink answers links.
//
// Not modelled: scopes, reactions, Events API over HTTP, retries of unacknowledged envelopes
// (sendSocketEnvelope rejects instead).

export {
  FakeSlackApi,
  type EarlyResend,
  type FakeSlackOptions,
  type SlackCall,
  type SlackStats,
} from './slack/server';
export type { FakeEphemeral, FakeMessage, UploadedFile } from './slack/workspace';
export type { SocketEnvelopeType } from './slack/socket-mode';
