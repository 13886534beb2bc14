// The fake Slack API, driven through the real @slack/web-api WebClient and @slack/socket-mode client
// (and raw fetch / a raw `ws` client where the wire bytes themselves are the point).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, LogLevel, WebClient, type Logger, type WebClientOptions } from '@slack/web-api';
import { SocketModeClient } from '@slack/socket-mode';
import { FakeSlackApi, type FakeSlackOptions } from '../../fakes/slack-api';
import { TRIGGER_LIFETIME_MS, triggerExpired } from '../../fakes/slack/workspace';
import {
  POST_BURST,
  SlackRateLimits,
  TIER_2_PER_MINUTE,
  TIER_3_PER_MINUTE,
  TIER_4_PER_MINUTE,
} from '../../fakes/slack/rate-limits';

const FIXTURES = path.join(__dirname, '../../fixtures/real');
const TOKEN = 'xoxb-test-token';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

const started: FakeSlackApi[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((f) => f.stop()));
});

/**
 * The limits are always on; most tests here are about something else and post faster than one message
 * a second to a channel, so they run the limits 1000 times faster (a post a millisecond per channel).
 */
async function startFake(options: FakeSlackOptions = { speed: 1000 }): Promise<FakeSlackApi> {
  const fake = await FakeSlackApi.start(options);
  started.push(fake);
  fake.addChannel({ id: 'C0OPS', name: 'ops', members: ['U0BOT', 'U0ALICE'] });
  fake.addChannel({ id: 'C0RANDOM', name: 'random', members: ['U0ALICE'] });
  fake.addChannel({ id: 'G0SECRET', name: 'secret', is_private: true, members: ['U0ALICE'] });
  fake.addUser({ id: 'U0ALICE', name: 'alice', tz: 'Europe/Berlin', groups: ['S0ONCALL'] });
  fake.addUser({ id: 'U0BOB', name: 'bob', tz: 'Asia/Kolkata', groups: ['S0ONCALL', 'S0SRE'] });
  return fake;
}

/**
 * WebClient logs `[ERROR]` lines of response_metadata.messages at error level, and SocketModeClient every failed
 * apps.connections.open: expected here, so kept out of the test output.
 */
const silent: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

/** Never the default retry policy: it retries for about 30 minutes. */
function client(fake: FakeSlackApi, options: WebClientOptions = {}, token = TOKEN): WebClient {
  return new WebClient(token, {
    slackApiUrl: fake.url,
    retryConfig: { retries: 0 },
    logger: silent,
    ...options,
  });
}

/** Awaits a rejected call and returns the error, typed loosely for assertions. */
async function failure(
  call: Promise<unknown>,
): Promise<{ code?: string; data?: Record<string, unknown>; retryAfter?: number }> {
  const err: unknown = await call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  return err as { code?: string; data?: Record<string, unknown>; retryAfter?: number };
}

describe('FakeSlackApi: Web API through WebClient', () => {
  test('auth.test answers the bot identity and records the bearer token', async () => {
    const fake = await startFake();
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    const res = await client(fake).auth.test();
    expect(res).toMatchObject({
      ok: true,
      user_id: 'U0BOT',
      bot_id: 'B0BOT',
      team_id: 'T0001',
      is_enterprise_install: false,
    });
    expect(res.url).toMatch(/^https:\/\//);
    expect(fake.callsTo('auth.test')).toEqual([
      { method: 'auth.test', args: {}, token: TOKEN, at: expect.any(Number), status: 200 },
    ]);
  });

  test('post, reply in a thread and update: state, shapes and recorded args', async () => {
    const fake = await startFake();
    const web = client(fake);
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*api-7f9c* was OOMKilled' } }];
    const parent = await web.chat.postMessage({ channel: 'C0OPS', text: 'api-7f9c was OOMKilled', blocks });

    // Same top-level shape as the official example, and the message echoes what was posted.
    const official = fixture('slack-chat-postmessage-response-ok-official-spec.json');
    for (const key of Object.keys(official)) expect(parent).toHaveProperty(key);
    expect(parent.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(parent.message).toMatchObject({
      type: 'message',
      user: 'U0BOT',
      bot_id: 'B0BOT',
      ts: parent.ts,
      text: 'api-7f9c was OOMKilled',
      blocks,
    });

    // web-api sends a form; blocks travel as a JSON string and come back parsed in args.
    expect(fake.callsTo('chat.postMessage')[0]!.args).toEqual({
      channel: 'C0OPS',
      text: 'api-7f9c was OOMKilled',
      blocks,
    });

    const r1 = await web.chat.postMessage({
      channel: 'C0OPS',
      thread_ts: parent.ts!,
      text: 'working set 512Mi, limit 512Mi',
    });
    const r2 = await web.chat.postMessage({ channel: 'C0OPS', thread_ts: parent.ts!, text: 'suggest 768Mi' });
    expect(r1.ts! < r2.ts!).toBe(true);
    expect(r2.message).toMatchObject({ thread_ts: parent.ts, parent_user_id: 'U0BOT' });

    const updated = await web.chat.update({
      channel: 'C0OPS',
      ts: parent.ts!,
      text: 'api-7f9c: diagnosis ready',
    });
    expect(updated).toMatchObject({
      ok: true,
      channel: 'C0OPS',
      ts: parent.ts,
      text: 'api-7f9c: diagnosis ready',
    });
    expect((updated.message as { edited?: unknown }).edited).toBeDefined();

    expect(fake.thread('C0OPS', parent.ts!).map((m) => m.text)).toEqual([
      'working set 512Mi, limit 512Mi',
      'suggest 768Mi',
    ]);
    const stored = fake.messages.find((m) => m.ts === parent.ts)!;
    expect(stored).toMatchObject({
      channel: 'C0OPS',
      text: 'api-7f9c: diagnosis ready',
      user: 'U0BOT',
      edits: 1,
      blocks,
    });
    expect(stored.thread_ts).toBeUndefined();
  });

  test('channel names and user ids are accepted as targets (the latter a DM)', async () => {
    const fake = await startFake();
    const web = client(fake);
    expect((await web.chat.postMessage({ channel: '#ops', text: 'by name' })).channel).toBe('C0OPS');
    const dm = await web.chat.postMessage({ channel: 'U0ALICE', text: 'hi' });
    expect(dm.channel).toMatch(/^D/);
    expect(fake.messages.map((m) => m.channel)).toEqual(['C0OPS', dm.channel]);
  });

  test('channel_not_found and not_in_channel (public and private) surface as platform errors', async () => {
    const fake = await startFake();
    const web = client(fake);
    for (const [channel, error] of [
      ['C0NOPE', 'channel_not_found'],
      ['C0RANDOM', 'not_in_channel'],
      ['G0SECRET', 'not_in_channel'],
    ] as const) {
      const err = await failure(web.chat.postMessage({ channel, text: 'x' }));
      expect(err.code).toBe(ErrorCode.PlatformError);
      expect(err.data).toMatchObject({ ok: false, error });
    }
    expect(fake.messages).toEqual([]);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(3);
  });

  test('content validation: no_text, invalid_blocks with Slack-style messages, too_many_attachments, msg_too_long', async () => {
    const fake = await startFake();
    const web = client(fake);
    expect((await failure(web.chat.postMessage({ channel: 'C0OPS', text: '' }))).data?.error).toBe('no_text');

    const long = await failure(
      web.chat.postMessage({
        channel: 'C0OPS',
        text: 'x',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'y'.repeat(3001) } }],
      }),
    );
    expect(long.data).toMatchObject({
      error: 'invalid_blocks',
      response_metadata: {
        messages: ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
      },
    });

    const many = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    expect(
      (await failure(web.chat.postMessage({ channel: 'C0OPS', text: 'x', blocks: many }))).data?.error,
    ).toBe('invalid_blocks');
    const typeless = [{ text: { type: 'mrkdwn', text: 'no type' } }] as unknown as [];
    expect(
      (await failure(web.chat.postMessage({ channel: 'C0OPS', text: 'x', blocks: typeless }))).data?.error,
    ).toBe('invalid_blocks');
    const attachments = Array.from({ length: 101 }, () => ({ text: 'a' }));
    expect(
      (await failure(web.chat.postMessage({ channel: 'C0OPS', text: 'x', attachments }))).data?.error,
    ).toBe('too_many_attachments');
    expect(
      (await failure(web.chat.postMessage({ channel: 'C0OPS', text: 'x'.repeat(40001) }))).data?.error,
    ).toBe('msg_too_long');
    expect(fake.messages).toEqual([]);

    // Exactly 50 blocks and a blocks-only message are fine.
    const fifty = Array.from({ length: 50 }, () => ({ type: 'divider' }));
    await expect(web.chat.postMessage({ channel: 'C0OPS', blocks: fifty })).resolves.toMatchObject({
      ok: true,
    });
  });

  test('an unknown thread_ts is accepted (as the real API does) and recorded', async () => {
    const fake = await startFake();
    const res = await client(fake).chat.postMessage({
      channel: 'C0OPS',
      thread_ts: '1600000000.000001',
      text: 'orphan',
    });
    expect(res.ok).toBe(true);
    expect(fake.thread('C0OPS', '1600000000.000001').map((m) => m.text)).toEqual(['orphan']);
    expect(fake.callsTo('chat.postMessage')[0]!.args.thread_ts).toBe('1600000000.000001');
  });

  test("chat.update and chat.delete: message_not_found, and only the bot's own messages", async () => {
    const fake = await startFake();
    const web = client(fake);
    const human = fake.addMessage({ channel: 'C0OPS', user: 'U0ALICE', text: 'is api down?' });
    expect(
      (await failure(web.chat.update({ channel: 'C0OPS', ts: '1.000001', text: 'x' }))).data?.error,
    ).toBe('message_not_found');
    expect((await failure(web.chat.update({ channel: 'C0OPS', ts: human.ts, text: 'x' }))).data?.error).toBe(
      'cant_update_message',
    );
    expect((await failure(web.chat.delete({ channel: 'C0OPS', ts: human.ts }))).data?.error).toBe(
      'cant_delete_message',
    );
    expect(human).toMatchObject({ text: 'is api down?', edits: 0 });

    const posted = await web.chat.postMessage({ channel: 'C0OPS', text: 'looking' });
    await expect(web.chat.delete({ channel: 'C0OPS', ts: posted.ts! })).resolves.toMatchObject({
      ok: true,
      channel: 'C0OPS',
      ts: posted.ts,
    });
    expect(fake.messages).toEqual([human]);
    expect((await failure(web.chat.delete({ channel: 'C0OPS', ts: posted.ts! }))).data?.error).toBe(
      'message_not_found',
    );
  });

  test('chat.postEphemeral needs the user in the channel and answers message_ts', async () => {
    const fake = await startFake();
    const web = client(fake);
    const res = await web.chat.postEphemeral({
      channel: 'C0OPS',
      user: 'U0ALICE',
      text: 'only you can see this',
    });
    expect(res.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fake.ephemerals).toEqual([
      { channel: 'C0OPS', user: 'U0ALICE', text: 'only you can see this', message_ts: res.message_ts },
    ]);
    expect(fake.messages).toEqual([]);
    expect(
      (await failure(web.chat.postEphemeral({ channel: 'C0OPS', user: 'U0BOB', text: 'x' }))).data?.error,
    ).toBe('user_not_in_channel');
    expect(
      (await failure(web.chat.postEphemeral({ channel: 'C0NOPE', user: 'U0BOB', text: 'x' }))).data?.error,
    ).toBe('channel_not_found');
  });

  test('conversations.join: public joins (then posting works), private and unknown fail; conversations.info hides private channels', async () => {
    const fake = await startFake();
    const web = client(fake);
    const joined = await web.conversations.join({ channel: 'C0RANDOM' });
    expect(joined.channel).toMatchObject({
      id: 'C0RANDOM',
      name: 'random',
      is_member: true,
      is_private: false,
    });
    await expect(web.chat.postMessage({ channel: 'C0RANDOM', text: 'hello' })).resolves.toMatchObject({
      ok: true,
    });

    const again = await web.conversations.join({ channel: 'C0RANDOM' });
    expect(again.response_metadata?.warnings).toEqual(['already_in_channel']);

    expect((await failure(web.conversations.join({ channel: 'G0SECRET' }))).data?.error).toBe(
      'method_not_supported_for_channel_type',
    );
    expect((await failure(web.conversations.join({ channel: 'C0NOPE' }))).data?.error).toBe(
      'channel_not_found',
    );

    expect((await web.conversations.info({ channel: 'C0OPS' })).channel).toMatchObject({
      id: 'C0OPS',
      is_member: true,
      is_channel: true,
    });
    expect((await failure(web.conversations.info({ channel: 'G0SECRET' }))).data?.error).toBe(
      'channel_not_found',
    );
    fake.addChannel({ id: 'G0SECRET', name: 'secret', is_private: true, members: ['U0BOT'] });
    expect((await web.conversations.info({ channel: 'G0SECRET' })).channel).toMatchObject({
      is_private: true,
      is_member: true,
    });
  });

  test('users.info reports tz, tz_label and tz_offset; usergroups.users.list resolves members', async () => {
    const fake = await startFake();
    const web = client(fake);
    const { user } = await web.users.info({ user: 'U0BOB' });
    expect(user).toMatchObject({
      id: 'U0BOB',
      name: 'bob',
      tz: 'Asia/Kolkata',
      tz_label: 'India Standard Time',
      tz_offset: 19800,
      is_bot: false,
    });
    const alice = (await web.users.info({ user: 'U0ALICE' })).user!;
    expect([3600, 7200]).toContain(alice.tz_offset); // CET or CEST, depending on today
    expect(alice.tz_label).toMatch(/^Central European (Standard|Summer) Time$/);
    expect((await web.users.info({ user: 'U0BOT' })).user).toMatchObject({ is_bot: true });
    expect((await failure(web.users.info({ user: 'U0NOBODY' }))).data?.error).toBe('user_not_found');

    expect((await web.usergroups.users.list({ usergroup: 'S0ONCALL' })).users).toEqual(['U0ALICE', 'U0BOB']);
    expect((await web.usergroups.users.list({ usergroup: 'S0SRE' })).users).toEqual(['U0BOB']);
    expect((await failure(web.usergroups.users.list({ usergroup: 'S0NOPE' }))).data?.error).toBe(
      'no_such_subteam',
    );
  });

  test('failNext answers the next N calls of a method with the error, then recovers', async () => {
    const fake = await startFake();
    const web = client(fake);
    fake.failNext('chat.postMessage', 'fatal_error', 2);
    expect((await failure(web.chat.postMessage({ channel: 'C0OPS', text: '1' }))).data).toEqual({
      ok: false,
      error: 'fatal_error',
      response_metadata: {}, // added by WebClient, not on the wire
    });
    expect((await failure(web.chat.postMessage({ channel: 'C0OPS', text: '2' }))).data?.error).toBe(
      'fatal_error',
    );
    await expect(web.auth.test()).resolves.toMatchObject({ ok: true }); // other methods unaffected
    await expect(web.chat.postMessage({ channel: 'C0OPS', text: '3' })).resolves.toMatchObject({ ok: true });
    expect(fake.messages.map((m) => m.text)).toEqual(['3']);
  });

  test('rate limiting: 429 + Retry-After is a RateLimitedError with rejectRateLimitedCalls', async () => {
    const fake = await startFake();
    fake.rateLimitNext('chat.postMessage', 7);
    const err = await failure(
      client(fake, { rejectRateLimitedCalls: true }).chat.postMessage({ channel: 'C0OPS', text: 'x' }),
    );
    expect(err.code).toBe(ErrorCode.RateLimitedError);
    expect(err.retryAfter).toBe(7);
    expect(fake.messages).toEqual([]);

    // On the wire: HTTP 429, the header, and Slack's body.
    fake.rateLimitNext('auth.test', 3);
    const res = await fetch(`${fake.url}auth.test`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(await res.json()).toEqual({ ok: false, error: 'ratelimited' });
  });

  test('rate limiting: WebClient waits Retry-After and retries when not told to reject', async () => {
    const fake = await startFake();
    fake.rateLimitNext('chat.postMessage', 1);
    const web = client(fake, { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 10 } });
    const t0 = Date.now();
    const res = await web.chat.postMessage({ channel: 'C0OPS', text: 'eventually' });
    expect(res.ok).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    const calls = fake.callsTo('chat.postMessage');
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
    expect(fake.messages.map((m) => m.text)).toEqual(['eventually']);
  });

  test('tokens: a wrong one is invalid_auth, none is not_authed, the app token on a bot method not_allowed_token_type', async () => {
    const fake = await startFake();
    const wrong = await failure(
      client(fake, {}, 'xoxb-wrong').chat.postMessage({ channel: 'C0OPS', text: 'x' }),
    );
    expect(wrong.code).toBe(ErrorCode.PlatformError);
    expect(wrong.data?.error).toBe('invalid_auth');
    expect(fake.callsTo('chat.postMessage')[0]!.token).toBe('xoxb-wrong');
    expect((await failure(client(fake, {}, '').auth.test())).data?.error).toBe('not_authed');
    expect((await failure(client(fake, {}, 'xapp-test').auth.test())).data?.error).toBe(
      'not_allowed_token_type',
    );
    expect(fake.messages).toEqual([]);

    // A `token` form field works too (no Authorization header).
    const res = await fetch(`${fake.url}auth.test`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `token=${TOKEN}`,
    });
    expect(await res.json()).toMatchObject({ ok: true, user_id: 'U0BOT' });
  });

  test('unknown methods answer unknown_method', async () => {
    const fake = await startFake();
    const err = await failure(client(fake).apiCall('chat.postMessageLater', { channel: 'C0OPS' }));
    expect(err.data).toMatchObject({
      ok: false,
      error: 'unknown_method',
      req_method: 'chat.postMessageLater',
    });
  });

  test('JSON bodies: fields arrive typed, and a missing charset earns the real warning', async () => {
    const fake = await startFake();
    const post = (contentType: string): Promise<Response> =>
      fetch(`${fake.url}chat.postMessage`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': contentType },
        body: JSON.stringify({ channel: 'C0OPS', text: 'json', blocks: [{ type: 'divider' }] }),
      });
    const withCharset = (await (await post('application/json; charset=utf-8')).json()) as Record<
      string,
      unknown
    >;
    expect(withCharset).toMatchObject({ ok: true, channel: 'C0OPS' });
    expect(withCharset).not.toHaveProperty('warning');
    const without = (await (await post('application/json')).json()) as Record<string, unknown>;
    expect(without).toMatchObject({
      ok: true,
      warning: 'missing_charset',
      response_metadata: { warnings: ['missing_charset'] },
    });
    expect(fake.callsTo('chat.postMessage')[0]!.args).toEqual({
      channel: 'C0OPS',
      text: 'json',
      blocks: [{ type: 'divider' }],
    });
  });
});

describe('FakeSlackApi: files.uploadV2', () => {
  test('stores the exact bytes, shared into the thread; the upload step is multipart', async () => {
    const fake = await startFake();
    const web = client(fake);
    const parent = await web.chat.postMessage({ channel: 'C0OPS', text: 'diagnosis' });
    const bytes = Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 7) % 256)); // every byte value, CRLFs and all
    const res = await web.files.uploadV2({
      channel_id: 'C0OPS',
      thread_ts: parent.ts!,
      file: bytes,
      filename: 'memory.png',
      title: 'Memory',
      initial_comment: 'chart',
    });

    expect(fake.files).toHaveLength(1);
    const file = fake.files[0]!;
    expect(file.bytes.equals(bytes)).toBe(true);
    expect(file).toMatchObject({
      filename: 'memory.png',
      title: 'Memory',
      channel: 'C0OPS',
      thread_ts: parent.ts,
    });
    expect(file.id).toMatch(/^F/);
    // uploadV2 resolves with one completeUploadExternal answer per completion job.
    expect(res).toMatchObject({
      ok: true,
      files: [{ ok: true, files: [{ id: file.id, title: 'Memory', mimetype: 'image/png', size: 1024 }] }],
    });

    expect(fake.callsTo('files.getUploadURLExternal')[0]!.args).toMatchObject({
      filename: 'memory.png',
      length: '1024',
    });
    const upload = fake.callsTo('(upload_url)')[0]!;
    expect(upload.args).toMatchObject({
      field: 'body',
      filename: 'Untitled',
      length: 1024,
      file_id: file.id,
    });
    expect(String(upload.args.content_type)).toMatch(/^multipart\/form-data; boundary=/);
    expect(fake.callsTo('files.completeUploadExternal')[0]!.args).toMatchObject({
      files: [{ id: file.id, title: 'Memory' }],
      channel_id: 'C0OPS',
      thread_ts: parent.ts,
      initial_comment: 'chart',
    });
  });

  test('the upload_url also takes raw bytes and answers "OK - <length>"', async () => {
    const fake = await startFake();
    const web = client(fake);
    const { upload_url, file_id } = await web.files.getUploadURLExternal({
      filename: 'report.txt',
      length: 5,
    });
    const put = await fetch(upload_url!, { method: 'POST', body: 'hello' });
    expect(put.status).toBe(200);
    expect(await put.text()).toBe('OK - 5');
    const done = await web.files.completeUploadExternal({ files: [{ id: file_id! }] });
    expect(done.files?.[0]).toMatchObject({
      id: file_id,
      name: 'report.txt',
      title: 'report.txt',
      mimetype: 'text/plain',
    });
    expect(fake.files).toEqual([{ id: file_id, filename: 'report.txt', bytes: Buffer.from('hello') }]);
  });

  test('errors: file_not_found, not_in_channel, invalid_arguments', async () => {
    const fake = await startFake();
    const web = client(fake);
    expect((await failure(web.files.completeUploadExternal({ files: [{ id: 'F0NOPE' }] }))).data?.error).toBe(
      'file_not_found',
    );
    const { file_id } = await web.files.getUploadURLExternal({ filename: 'a.txt', length: 1 });
    // Not uploaded yet: nothing to complete.
    expect((await failure(web.files.completeUploadExternal({ files: [{ id: file_id! }] }))).data?.error).toBe(
      'file_not_found',
    );

    const err = await failure(
      web.files.uploadV2({ channel_id: 'C0RANDOM', file: Buffer.from('x'), filename: 'a.txt' }),
    );
    expect(err.code).toBe(ErrorCode.PlatformError);
    expect(err.data?.error).toBe('not_in_channel');
    expect(fake.files).toEqual([]);

    const missing = await failure(web.apiCall('files.getUploadURLExternal', { length: 3 }));
    expect(missing.data).toMatchObject({
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] missing required field: filename'] },
    });
  });
});

describe('FakeSlackApi: views', () => {
  const modal = {
    type: 'modal' as const,
    callback_id: 'raise_limit',
    title: { type: 'plain_text' as const, text: 'Raise memory limit' },
    submit: { type: 'plain_text' as const, text: 'Apply' },
    blocks: [
      {
        type: 'input',
        label: { type: 'plain_text', text: 'New limit' },
        element: { type: 'plain_text_input', action_id: 'limit' },
      },
    ],
  };

  test('views.open returns the view with id and hash; trigger_ids are single-use; views.update checks the hash', async () => {
    const fake = await startFake();
    const web = client(fake);
    const opened = await web.views.open({
      trigger_id: '2593691513185.238522632339.c6af97bbed3f8498ff35a728c68dc0a8',
      view: modal,
    });
    const view = opened.view!;
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: 'raise_limit',
      title: modal.title,
      blocks: modal.blocks,
      app_id: 'A0TEST',
    });
    expect(view.id).toMatch(/^V/);
    expect(typeof view.hash).toBe('string');
    expect(fake.callsTo('views.open')[0]!.args.view).toEqual(modal); // parsed from the form's JSON string

    const reused = await failure(
      web.views.open({
        trigger_id: '2593691513185.238522632339.c6af97bbed3f8498ff35a728c68dc0a8',
        view: modal,
      }),
    );
    expect(reused.data?.error).toBe('exchanged_trigger_id');

    const next = { ...modal, title: { type: 'plain_text' as const, text: 'Done' } };
    expect(
      (await failure(web.views.update({ view_id: view.id!, hash: 'stale', view: next }))).data?.error,
    ).toBe('hash_conflict');
    const updated = await web.views.update({ view_id: view.id!, hash: view.hash!, view: next });
    expect(updated.view).toMatchObject({ id: view.id, title: { text: 'Done' } });
    expect(updated.view!.hash).not.toBe(view.hash);
    expect((await failure(web.views.update({ view_id: 'V0NOPE', view: next }))).data?.error).toBe(
      'not_found',
    );
  });

  test('a trigger_id older than 3 s is refused as expired_trigger_id, as Slack does', async () => {
    const fake = await startFake();
    const web = client(fake);
    const now = Date.now();
    const stale = `${now - TRIGGER_LIFETIME_MS - 500}.1.abc`;
    expect((await failure(web.views.open({ trigger_id: stale, view: modal }))).data?.error).toBe(
      'expired_trigger_id',
    );
    const fresh = await web.views.open({ trigger_id: `${now}.2.abc`, view: modal });
    expect(fresh.ok).toBe(true);
    expect(triggerExpired(`${now - 2_000}.3.abc`, now)).toBe(false);
    expect(triggerExpired(`${now - 3_001}.3.abc`, now)).toBe(true);
    // Slack's own opaque trigger_ids never expire here.
    expect(triggerExpired('2593691513185.238522632339.c6af97bbed3f8498ff35a728c68dc0a8', now)).toBe(false);
  });

  test('expired trigger via failNext, missing trigger_id, and an over-long title', async () => {
    const fake = await startFake();
    const web = client(fake);
    fake.failNext('views.open', 'expired_trigger_id');
    expect((await failure(web.views.open({ trigger_id: '1.2.3', view: modal }))).data?.error).toBe(
      'expired_trigger_id',
    );
    expect((await failure(web.apiCall('views.open', { view: modal }))).data?.error).toBe('invalid_arguments');
    const longTitle = {
      ...modal,
      title: { type: 'plain_text' as const, text: 'A title far longer than 24' },
    };
    const err = await failure(web.views.open({ trigger_id: '1.2.4', view: longTitle }));
    expect(err.data).toMatchObject({
      error: 'invalid_arguments',
      response_metadata: {
        messages: ['[ERROR] must be less than 25 characters [json-pointer:/view/title/text]'],
      },
    });
  });
});

describe('FakeSlackApi: Socket Mode', () => {
  const slashCommand = fixture('slack-slash-command-payload-real-captured-as-json.json');

  test('apps.connections.open needs the app-level token', async () => {
    const fake = await startFake();
    expect((await failure(client(fake).apps.connections.open())).data?.error).toBe('invalid_auth');
    const res = await client(fake, {}, 'xapp-test').apps.connections.open();
    expect(res.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/socket-mode\?ticket=[0-9a-f-]+&app_id=A0TEST$/);
  });

  test('raw ws client: hello on connect, envelope out, ack back; tickets are single-use', async () => {
    const fake = await startFake();
    const { url } = await client(fake, {}, 'xapp-test').apps.connections.open();
    // `ws` ships no type declarations here; the slice this test uses.
    type RawWs = {
      on(event: 'message', cb: (data: Buffer) => void): void;
      on(event: 'close' | 'open', cb: () => void): void;
      on(event: 'error', cb: (err: Error) => void): void;
      send(data: string): void;
      close(): void;
    };
    const WebSocket = require('ws') as new (url: string) => RawWs;
    const socket = new WebSocket(url!);
    const frames: Array<Record<string, unknown>> = [];
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      frames.push(frame);
      if (typeof frame.envelope_id === 'string')
        socket.send(JSON.stringify({ envelope_id: frame.envelope_id, payload: { text: 'on it' } }));
    });
    await fake.waitFor(() => frames.length === 1);
    expect(frames[0]).toEqual({
      type: 'hello',
      num_connections: 1,
      debug_info: { host: 'fake' },
      connection_info: { app_id: 'A0TEST' },
    });

    const ack = await fake.sendSocketEnvelope({ type: 'slash_commands', payload: slashCommand });
    expect(ack).toEqual({ envelope_id: expect.any(String), ackPayload: { text: 'on it' } });
    expect(frames[1]).toEqual({
      envelope_id: ack.envelope_id,
      type: 'slash_commands',
      payload: slashCommand,
      accepts_response_payload: true,
      retry_attempt: 0,
      retry_reason: '',
    });
    const closed = new Promise<void>((resolve) => socket.on('close', resolve));
    socket.close();
    await closed;

    // The same ticket does not open a second connection.
    const again = new WebSocket(url!);
    const refused = await new Promise<string>((resolve) => {
      again.on('error', (err) => resolve(err.message));
      again.on('open', () => resolve('opened'));
    });
    expect(refused).toMatch(/401/);
  });

  test('SocketModeClient (undici WebSocket) connects, acks a slash command with a payload, and disconnects', async () => {
    const fake = await startFake();
    const socketClient = new SocketModeClient({
      appToken: 'xapp-test',
      logger: silent,
      autoReconnectEnabled: false,
      clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
    });
    const received: unknown[] = [];
    socketClient.on(
      'slash_commands',
      ({ ack, body }: { ack: (r?: Record<string, unknown>) => Promise<void>; body: { text: string } }) => {
        received.push(body);
        void ack({ response_type: 'ephemeral', text: `diagnosing ${body.text}` });
      },
    );
    try {
      const connection = (await socketClient.start()) as { url?: string };
      expect(connection.url).toContain('/socket-mode?ticket=');
      expect(fake.callsTo('apps.connections.open')[0]!.token).toBe('xapp-test');

      const ack = await fake.sendSocketEnvelope({ type: 'slash_commands', payload: slashCommand });
      expect(received).toEqual([slashCommand]);
      expect(ack.ackPayload).toEqual({ response_type: 'ephemeral', text: 'diagnosing imercata staging' });

      // A handler that never acks: Slack's 3-second deadline, shortened here.
      await expect(
        fake.sendSocketEnvelope(
          { type: 'interactive', payload: { type: 'block_actions' } },
          { ackTimeoutMs: 200 },
        ),
      ).rejects.toThrow(/no ack for interactive envelope/);
    } finally {
      await socketClient.disconnect();
    }
  });

  test('SocketModeClient with the bot token fails to start with invalid_auth (unrecoverable, no retry loop)', async () => {
    const fake = await startFake();
    const socketClient = new SocketModeClient({
      appToken: TOKEN,
      logger: silent,
      clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
    });
    const err = await failure(socketClient.start());
    expect(err.code).toBe(ErrorCode.PlatformError);
    expect(err.data?.error).toBe('invalid_auth');
    expect(fake.callsTo('apps.connections.open')).toHaveLength(1);
  });

  test('stop() closes open sockets and the server, and rejects pending envelopes', async () => {
    const fake = await FakeSlackApi.start();
    const { url } = await client(fake, {}, 'xapp-test').apps.connections.open();
    const WebSocket = require('ws') as new (url: string) => {
      on(event: string, cb: (...a: unknown[]) => void): void;
    };
    const socket = new WebSocket(url!);
    let hello = false;
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('message', () => {
      hello = true;
    });
    await fake.waitFor(() => hello);
    const pending = fake.sendSocketEnvelope(
      { type: 'events_api', payload: { event: { type: 'app_mention' } } },
      { ackTimeoutMs: 10000 },
    );
    const rejected = expect(pending).rejects.toThrow(/stopped/);
    await fake.stop();
    await rejected;
    await closed;
    await expect(fetch(`${fake.url}auth.test`, { method: 'POST' })).rejects.toThrow();
    await fake.stop(); // idempotent
  });
});

describe('FakeSlackApi: rate limits (always on; speed compresses time)', () => {
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  const rejecting = (fake: FakeSlackApi): WebClient => client(fake, { rejectRateLimitedCalls: true });

  // speed 20: a 3 s window, so a budget is spent well inside it and the wait after it stays short.
  const SPEED = 20;
  const WINDOW_MS = 60_000 / SPEED;

  test.each([
    [
      'usergroups.users.list (Tier 2)',
      TIER_2_PER_MINUTE,
      (web: WebClient) => web.usergroups.users.list({ usergroup: 'S0ONCALL' }),
    ],
    [
      'chat.update (Tier 3)',
      TIER_3_PER_MINUTE,
      (web: WebClient) => web.chat.update({ channel: 'C0OPS', ts: '1.000100', text: 'x' }),
    ],
    ['users.info (Tier 4)', TIER_4_PER_MINUTE, (web: WebClient) => web.users.info({ user: 'U0ALICE' })],
  ])(
    '%s: the budget passes, the next call in the window is a 429 with Retry-After, and after it the call passes',
    async (_name, budget, call) => {
      const fake = await startFake({ speed: SPEED });
      const web = rejecting(fake);
      const method = _name.split(' ')[0]!;
      const t0 = Date.now();
      // Admitted calls answer as the method does (chat.update of an unknown ts: message_not_found); none is a 429.
      const answers = await Promise.all(
        Array.from({ length: budget }, () =>
          call(web).then(
            () => 'ok',
            (e: { code?: string }) => e.code,
          ),
        ),
      );
      expect(Date.now() - t0).toBeLessThan(WINDOW_MS); // else the window moved and the test proves nothing
      expect(answers.filter((a) => a === ErrorCode.RateLimitedError)).toEqual([]);

      const refused = await failure(call(web));
      expect(refused.code).toBe(ErrorCode.RateLimitedError);
      expect(refused.retryAfter).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
      expect(fake.stats().rateLimitedByMethod).toEqual({ [method]: 1 });
      expect(fake.stats().callsByMethod[method]).toBe(budget + 1);

      await sleep(refused.retryAfter! * 1000);
      const after = await call(web).then(
        () => 'ok',
        (e: { code?: string }) => e.code,
      );
      expect(after).not.toBe(ErrorCode.RateLimitedError);
      expect(fake.stats().earlyResends).toEqual([]);
    },
  );

  test('on the wire: HTTP 429, Retry-After in whole seconds, and the ratelimited body', async () => {
    const fake = await startFake({ speed: SPEED });
    const web = rejecting(fake);
    await Promise.all(
      Array.from({ length: TIER_2_PER_MINUTE }, () => web.usergroups.users.list({ usergroup: 'S0SRE' })),
    );
    const res = await fetch(`${fake.url}usergroups.users.list`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'usergroup=S0SRE',
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^[1-3]$/);
    expect(await res.json()).toEqual({ ok: false, error: 'ratelimited' });
    expect(fake.callsTo('usergroups.users.list').at(-1)).toMatchObject({ status: 429, error: 'ratelimited' });
  });

  test('chat.postMessage: a burst per channel, then about 1 per second; channels do not share it', async () => {
    const fake = await startFake({ speed: 1 }); // real time: the per-channel limit is per second
    fake.addChannel({ id: 'C0TWO', name: 'two', members: ['U0BOT'] });
    const web = rejecting(fake);
    for (let i = 0; i < POST_BURST; i++) await web.chat.postMessage({ channel: 'C0OPS', text: `burst ${i}` });
    const refused = await failure(web.chat.postMessage({ channel: 'C0OPS', text: 'one too many' }));
    expect(refused.code).toBe(ErrorCode.RateLimitedError);
    expect(refused.retryAfter).toBe(1);
    // The same channel by name shares the id's limit; another channel has its own.
    expect((await failure(web.chat.postMessage({ channel: '#ops', text: 'by name' }))).code).toBe(
      ErrorCode.RateLimitedError,
    );
    await expect(web.chat.postMessage({ channel: 'C0TWO', text: 'elsewhere' })).resolves.toMatchObject({
      ok: true,
    });

    await sleep(1000);
    await expect(web.chat.postMessage({ channel: 'C0OPS', text: 'after a second' })).resolves.toMatchObject({
      ok: true,
    });
    // One token back, not a new burst.
    expect((await failure(web.chat.postMessage({ channel: 'C0OPS', text: 'again' }))).code).toBe(
      ErrorCode.RateLimitedError,
    );
    expect(fake.messages.filter((m) => m.channel === 'C0OPS')).toHaveLength(POST_BURST + 1);
    expect(fake.stats().rateLimitedByMethod).toEqual({ 'chat.postMessage': 3 });
  });

  test("one method's 429 does not hold up another method", async () => {
    const fake = await startFake({ speed: SPEED });
    const web = rejecting(fake);
    await Promise.all(
      Array.from({ length: TIER_2_PER_MINUTE }, () => web.usergroups.users.list({ usergroup: 'S0ONCALL' })),
    );
    expect((await failure(web.usergroups.users.list({ usergroup: 'S0ONCALL' }))).code).toBe(
      ErrorCode.RateLimitedError,
    );
    await expect(web.users.info({ user: 'U0ALICE' })).resolves.toMatchObject({ ok: true });
    await expect(web.chat.postMessage({ channel: 'C0OPS', text: 'still fine' })).resolves.toMatchObject({
      ok: true,
    });
    await expect(web.conversations.info({ channel: 'C0OPS' })).resolves.toMatchObject({ ok: true });
    expect(fake.stats().rateLimitedByMethod).toEqual({ 'usergroups.users.list': 1 });
  });

  test('early re-sends: a call before the Retry-After has passed is counted, per method and channel', async () => {
    const fake = await startFake({ speed: 1 });
    fake.addChannel({ id: 'C0TWO', name: 'two', members: ['U0BOT'] });
    const web = rejecting(fake);
    fake.rateLimitNext('chat.postMessage', 2);
    expect((await failure(web.chat.postMessage({ channel: 'C0OPS', text: 'refused' }))).retryAfter).toBe(2);
    await web.chat.postMessage({ channel: 'C0TWO', text: 'another channel: not a re-send' });
    await web.auth.test(); // another method: not a re-send
    await web.chat.postMessage({ channel: 'C0OPS', text: 'too soon' });
    const { earlyResends } = fake.stats();
    expect(earlyResends).toHaveLength(1);
    expect(earlyResends[0]).toMatchObject({
      method: 'chat.postMessage',
      channel: 'C0OPS',
      retryAfterSeconds: 2,
    });
    expect(earlyResends[0]!.earlyByMs).toBeGreaterThan(1000);
    expect(earlyResends[0]!.earlyByMs).toBeLessThanOrEqual(2000);
  });

  test("WebClient's own retry waits Retry-After: a 429 and no early re-send", async () => {
    const fake = await startFake({ speed: 1 });
    const web = client(fake, { retryConfig: { retries: 1, minTimeout: 10, maxTimeout: 10 } });
    for (let i = 0; i < POST_BURST + 1; i++) await web.chat.postMessage({ channel: 'C0OPS', text: `${i}` });
    expect(fake.messages).toHaveLength(POST_BURST + 1);
    expect(fake.stats().rateLimitedByMethod['chat.postMessage']).toBeGreaterThanOrEqual(1);
    expect(fake.stats().earlyResends).toEqual([]);
  });

  test('speed must be a positive number', async () => {
    await expect(FakeSlackApi.start({ speed: 0 })).rejects.toThrow(/speed must be a positive number/);
  });
});

describe("SlackRateLimits (the clock in the test's hands)", () => {
  test('a sliding 60 s window: Retry-After is the time until the oldest admitted call leaves it', () => {
    const limits = new SlackRateLimits(1);
    for (let i = 0; i < TIER_3_PER_MINUTE; i++)
      expect(limits.take('t', 'chat.update', undefined, i * 1000)).toBeUndefined();
    // 50 calls at 0 s…49 s: at 50.2 s the one from 0 s leaves at 60 s.
    expect(limits.take('t', 'chat.update', undefined, 50_200)).toBe(10);
    expect(limits.take('t', 'chat.update', undefined, 59_999)).toBe(1);
    expect(limits.take('t', 'chat.update', undefined, 60_000)).toBeUndefined();
    // A sliding window, not a fixed minute: the next slot is when the call from 1 s leaves.
    expect(limits.take('t', 'chat.update', undefined, 60_500)).toBe(1);
    expect(limits.take('t', 'chat.update', undefined, 61_000)).toBeUndefined();
    // Another token (another app or workspace) has its own budget.
    expect(limits.take('other', 'chat.update', undefined, 61_000)).toBeUndefined();
  });

  test('speed 10: the same shape in a 6 s window; Retry-After still whole seconds, at least 1', () => {
    const limits = new SlackRateLimits(10);
    for (let i = 0; i < TIER_2_PER_MINUTE; i++)
      expect(limits.take('t', 'usergroups.users.list', undefined, 0)).toBeUndefined();
    expect(limits.take('t', 'usergroups.users.list', undefined, 100)).toBe(6);
    expect(limits.take('t', 'usergroups.users.list', undefined, 5_500)).toBe(1);
    expect(limits.take('t', 'usergroups.users.list', undefined, 6_000)).toBeUndefined();
  });

  test('chat.postMessage: per channel a burst then 1 per second, and a workspace-wide cap across channels', () => {
    const limits = new SlackRateLimits(1);
    for (let i = 0; i < POST_BURST; i++)
      expect(limits.take('t', 'chat.postMessage', 'C1', 0)).toBeUndefined();
    expect(limits.take('t', 'chat.postMessage', 'C1', 0)).toBe(1);
    expect(limits.take('t', 'chat.postMessage', 'C1', 999)).toBe(1);
    expect(limits.take('t', 'chat.postMessage', 'C1', 1000)).toBeUndefined();
    expect(limits.take('t', 'chat.postMessage', 'C2', 1000)).toBeUndefined();
    // Many channels at once meet the workspace-wide cap.
    let admitted = 0;
    for (let c = 0; c < 1000 && limits.take('t', 'chat.postMessage', `C${c + 10}`, 2000) === undefined; c++)
      admitted++;
    expect(admitted).toBeGreaterThan(100);
    expect(admitted).toBeLessThan(1000);
  });

  test('methods without a published figure are not limited', () => {
    const limits = new SlackRateLimits(1);
    for (let i = 0; i < 1000; i++) expect(limits.take('t', 'auth.test', undefined, 0)).toBeUndefined();
  });
});

describe('FakeSlackApi: metadata, threads and history, files in threads, conversations.info, permalinks', () => {
  const METADATA = { event_type: 'oomdoctor_reply', event_payload: { key: 'shop/api:1', version: 1 } };

  test('metadata round-trip: stored from chat.postMessage and chat.update, returned only when asked for', async () => {
    const fake = await startFake();
    const web = client(fake);
    const posted = await web.chat.postMessage({ channel: 'C0OPS', text: 'placeholder', metadata: METADATA });
    expect(fake.messages[0]!.metadata).toEqual(METADATA);
    expect(posted.message?.metadata).toEqual(METADATA);

    const updated = { event_type: 'oomdoctor_reply', event_payload: { key: 'shop/api:1', version: 2 } };
    await web.chat.update({ channel: 'C0OPS', ts: posted.ts!, text: 'diagnosis', metadata: updated });
    await web.chat.update({ channel: 'C0OPS', ts: posted.ts!, text: 'diagnosis, edited without metadata' });
    expect(fake.messages[0]!.metadata).toEqual(updated);

    const withMetadata = await web.conversations.history({ channel: 'C0OPS', include_all_metadata: true });
    expect(withMetadata.messages?.[0]?.metadata).toEqual(updated);
    const without = await web.conversations.history({ channel: 'C0OPS' });
    expect(without.messages?.[0]).not.toHaveProperty('metadata');

    const bad = await failure(
      web.chat.postMessage({
        channel: 'C0OPS',
        text: 'x',
        metadata: { event_type: '', event_payload: {} },
      }),
    );
    expect(bad.data?.error).toBe('invalid_metadata_format');
  });

  test('conversations.replies: parent first then replies, cursor pagination, any ts of the thread, metadata on request', async () => {
    const fake = await startFake();
    const web = client(fake);
    const parent = await web.chat.postMessage({ channel: 'C0OPS', text: 'parent' });
    const replyTs: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const r = await web.chat.postMessage({
        channel: 'C0OPS',
        thread_ts: parent.ts!,
        text: `reply ${i}`,
        metadata: { event_type: 'oomdoctor_reply', event_payload: { n: i } },
      });
      replyTs.push(r.ts!);
    }
    await web.chat.postMessage({ channel: 'C0OPS', text: 'unrelated' });

    const texts: string[][] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await web.conversations.replies({
        channel: 'C0OPS',
        ts: parent.ts!,
        limit: 2,
        include_all_metadata: true,
        ...(cursor ? { cursor } : {}),
      });
      texts.push((page.messages ?? []).map((m) => m.text ?? ''));
      expect(page.has_more).toBe(page.response_metadata?.next_cursor !== '');
      if (pages === 1)
        expect(page.messages?.[0]?.metadata).toEqual({
          event_type: 'oomdoctor_reply',
          event_payload: { n: 2 },
        });
      cursor = page.response_metadata?.next_cursor || undefined;
      pages++;
    } while (cursor && pages < 10);
    expect(texts).toEqual([
      ['parent', 'reply 1'],
      ['reply 2', 'reply 3'],
      ['reply 4', 'reply 5'],
    ]);

    const byReply = await web.conversations.replies({ channel: 'C0OPS', ts: replyTs[2]! });
    expect(byReply.messages?.map((m) => m.text)).toEqual([
      'parent',
      'reply 1',
      'reply 2',
      'reply 3',
      'reply 4',
      'reply 5',
    ]);
    expect(byReply.messages?.[0]).toMatchObject({
      thread_ts: parent.ts,
      reply_count: 5,
      latest_reply: replyTs[4],
    });
    expect(byReply.messages?.[1]).not.toHaveProperty('metadata');

    expect((await failure(web.conversations.replies({ channel: 'C0OPS', ts: '1.000001' }))).data?.error).toBe(
      'thread_not_found',
    );
    expect(
      (await failure(web.conversations.replies({ channel: 'C0OPS', ts: parent.ts!, cursor: 'bogus' }))).data
        ?.error,
    ).toBe('invalid_cursor');
    expect(
      (await failure(web.conversations.replies({ channel: 'C0RANDOM', ts: parent.ts! }))).data?.error,
    ).toBe('not_in_channel');
    expect(
      (await failure(web.conversations.replies({ channel: 'G0SECRET', ts: parent.ts! }))).data?.error,
    ).toBe('channel_not_found');
  });

  test('conversations.history: top-level messages newest first, paginated; replies stay in their threads', async () => {
    const fake = await startFake();
    const web = client(fake);
    const first = await web.chat.postMessage({ channel: 'C0OPS', text: 'one' });
    await web.chat.postMessage({ channel: 'C0OPS', thread_ts: first.ts!, text: 'in the thread' });
    await web.chat.postMessage({ channel: 'C0OPS', text: 'two' });
    await web.chat.postMessage({ channel: 'C0OPS', text: 'three' });

    const page1 = await web.conversations.history({ channel: 'C0OPS', limit: 2 });
    expect(page1.messages?.map((m) => m.text)).toEqual(['three', 'two']);
    expect(page1.has_more).toBe(true);
    const page2 = await web.conversations.history({
      channel: 'C0OPS',
      limit: 2,
      cursor: page1.response_metadata!.next_cursor!,
    });
    expect(page2.messages?.map((m) => m.text)).toEqual(['one']);
    expect(page2.messages?.[0]).toMatchObject({ reply_count: 1 });
    expect(page2.has_more).toBe(false);
    expect(page2.response_metadata?.next_cursor).toBe('');
  });

  test('a file completed with channel_id and thread_ts appears in the thread as a message carrying it', async () => {
    const fake = await startFake();
    const web = client(fake);
    const parent = await web.chat.postMessage({ channel: 'C0OPS', text: 'diagnosis' });
    await web.files.uploadV2({
      channel_id: 'C0OPS',
      thread_ts: parent.ts!,
      file: Buffer.from('png bytes'),
      filename: 'memory.png',
      title: 'Memory of shop/api',
    });
    const fileId = fake.files[0]!.id;
    expect(fake.thread('C0OPS', parent.ts!)).toEqual([]); // the helper counts the bot's replies only
    const thread = fake.thread('C0OPS', parent.ts!, { withFiles: true });
    expect(thread).toHaveLength(1);
    expect(thread[0]).toMatchObject({
      user: 'U0BOT',
      files: [{ id: fileId, name: 'memory.png', title: 'Memory of shop/api' }],
    });
    const replies = await web.conversations.replies({ channel: 'C0OPS', ts: parent.ts! });
    expect(replies.messages?.[1]?.files).toEqual([
      { id: fileId, name: 'memory.png', title: 'Memory of shop/api' },
    ]);
    // Without a channel the file is uploaded but shared nowhere.
    await web.files.uploadV2({ file: Buffer.from('x'), filename: 'private.txt' });
    expect(fake.messages).toHaveLength(2);
  });

  test('conversations.info: {channel} with is_member; channel_not_found for unknown ids and private channels the bot is not in', async () => {
    const fake = await startFake();
    const web = client(fake);
    const member = await web.conversations.info({ channel: 'C0OPS' });
    expect(member.channel).toMatchObject({
      id: 'C0OPS',
      name: 'ops',
      is_private: false,
      is_member: true,
      is_channel: true,
    });
    expect((await web.conversations.info({ channel: 'C0RANDOM' })).channel).toMatchObject({
      is_member: false,
    });
    expect((await failure(web.conversations.info({ channel: 'G0SECRET' }))).data?.error).toBe(
      'channel_not_found',
    );
    expect((await failure(web.conversations.info({ channel: 'C0NOPE' }))).data?.error).toBe(
      'channel_not_found',
    );
  });

  test('chat.getPermalink: a link to the message (with thread_ts for a reply); message_not_found', async () => {
    const fake = await startFake();
    const web = client(fake);
    const parent = await web.chat.postMessage({ channel: 'C0OPS', text: 'parent' });
    const reply = await web.chat.postMessage({ channel: 'C0OPS', thread_ts: parent.ts!, text: 'reply' });
    const link = await web.chat.getPermalink({ channel: 'C0OPS', message_ts: parent.ts! });
    expect(link).toMatchObject({
      channel: 'C0OPS',
      permalink: `https://fake-workspace.slack.com/archives/C0OPS/p${parent.ts!.replace('.', '')}`,
    });
    const replyLink = await web.chat.getPermalink({ channel: 'C0OPS', message_ts: reply.ts! });
    expect(replyLink.permalink).toContain(`?thread_ts=${parent.ts}&cid=C0OPS`);
    expect(
      (await failure(web.chat.getPermalink({ channel: 'C0OPS', message_ts: '1.000001' }))).data?.error,
    ).toBe('message_not_found');
  });
});
