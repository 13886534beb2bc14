// The fake Slack API, driven through the real @slack/web-api WebClient and @slack/socket-mode client
// (and raw fetch / a raw `ws` client where the wire bytes themselves are the point).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, LogLevel, WebClient, type Logger, type WebClientOptions } from '@slack/web-api';
import { SocketModeClient } from '@slack/socket-mode';
import { FakeSlackApi } from '../../fakes/slack-api';

const FIXTURES = path.join(__dirname, '../../fixtures/real');
const TOKEN = 'xoxb-test-token';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

const started: FakeSlackApi[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((f) => f.stop()));
});

async function startFake(): Promise<FakeSlackApi> {
  const fake = await FakeSlackApi.start();
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
      { method: 'auth.test', args: {}, token: TOKEN, at: expect.any(Number) },
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
