// The Slack outbox against the fake Slack, which enforces Slack's real limits (429 + Retry-After
// per method, chat.postMessage per channel): no 429 of one method delays another, an older state
// never lands last, and keyed posts and uploads happen once through lost answers and crashes.
import pino from 'pino';
import { MemoryOutboxState } from '../../../src/adapters/outbox-state';
import { WebSlackPoster } from '../../../src/adapters/slack';
import { FakeSlackApi } from '../../fakes/slack-api';

jest.setTimeout(30_000);

const silent = pino({ level: 'silent' });
let fake: FakeSlackApi;

beforeEach(async () => {
  fake = await FakeSlackApi.start();
  fake.addChannel({ id: 'C0ALERTS', name: 'alerts' });
  fake.addChannel({ id: 'C0OTHER', name: 'other' });
});

afterEach(async () => {
  await fake.stop();
});

/** One bot process; two of them on one state behave like two processes on one Redis. */
function poster(state = new MemoryOutboxState()): WebSlackPoster {
  return new WebSlackPoster({ token: 'xoxb-test-token', apiUrl: fake.url, state, logger: silent });
}

const text = (t: string) => ({ text: t });

it('a 429 on chat.update holds only chat.update: a post to another channel goes at once', async () => {
  const slack = poster();
  const message = await slack.post('C0ALERTS', text('first'));
  fake.rateLimitNext('chat.update', 3);
  const started = Date.now();
  const edit = slack.update(message.channel, message.ts, text('edited'));
  await new Promise((r) => setTimeout(r, 200)); // the edit has met its 429 by now
  await slack.post('C0OTHER', text('elsewhere'));
  const postTook = Date.now() - started;
  await edit;
  const editTook = Date.now() - started;
  expect(postTook).toBeLessThan(2_000);
  expect(editTook).toBeGreaterThanOrEqual(3_000); // it waited for Retry-After, and only then re-sent
  expect(fake.messages.find((m) => m.ts === message.ts)?.text).toBe('edited');
  expect(fake.stats().earlyResends).toEqual([]);
  expect(fake.stats().rateLimitedByMethod['chat.update']).toBe(1);
});

it('an older state that arrives late never replaces a newer one, across processes', async () => {
  const state = new MemoryOutboxState();
  const [a, b] = [poster(state), poster(state)];
  const message = await a.post('C0ALERTS', text('placeholder'));
  fake.rateLimitNext('chat.update', 1);
  const late = a.update(message.channel, message.ts, text('progress: step 2 of 4')); // decided first
  await new Promise((r) => setTimeout(r, 100));
  const final = b.update(message.channel, message.ts, text('the diagnosis')); // decided later
  await Promise.all([late, final]);
  expect(fake.messages.find((m) => m.ts === message.ts)?.text).toBe('the diagnosis');
});

it('edits to one message coalesce: a burst of states sends far fewer edits, the last one wins', async () => {
  const slack = poster();
  const message = await slack.post('C0ALERTS', text('0'));
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => slack.update(message.channel, message.ts, text(String(i + 1)))),
  );
  expect(fake.messages.find((m) => m.ts === message.ts)?.text).toBe('20');
  expect(fake.callsTo('chat.update').length).toBeLessThanOrEqual(3);
});

it('a droppable (progress) edit is dropped, not queued, while the edit budget is blocked', async () => {
  const slack = poster();
  const message = await slack.post('C0ALERTS', text('0'));
  fake.rateLimitNext('chat.update', 2);
  const real = slack.update(message.channel, message.ts, text('real state'), { priority: 'reply' });
  await new Promise((r) => setTimeout(r, 300)); // the real edit met its 429: chat.update is blocked
  const started = Date.now();
  await slack.update(message.channel, message.ts, text('progress'), {
    priority: 'cosmetic',
    droppable: true,
  });
  expect(Date.now() - started).toBeLessThan(500);
  await real;
  expect(fake.messages.find((m) => m.ts === message.ts)?.text).toBe('real state');
  expect(fake.callsTo('chat.update').filter((c) => c.args.text === 'progress')).toHaveLength(0);
  expect(fake.stats().earlyResends).toEqual([]);
});

it('a keyed post whose answer was lost is found in the thread, not posted twice', async () => {
  const state = new MemoryOutboxState();
  const parent = await poster(state).post('C0ALERTS', text('parent'));
  const first = await poster(state).post('C0ALERTS', text('reply'), parent.ts, { key: 'alert-abc' });
  // The process died between Slack's answer and the record of its ts.
  await state.setPost('alert-abc', {
    channel: 'C0ALERTS',
    threadTs: parent.ts,
    since: Date.now() - 1000,
    ts: null,
  });
  const again = await poster(state).post('C0ALERTS', text('reply'), parent.ts, { key: 'alert-abc' });
  expect(again.ts).toBe(first.ts);
  expect(fake.thread('C0ALERTS', parent.ts)).toHaveLength(1);
  expect(fake.callsTo('conversations.replies').length).toBe(1);
});

it('a chart uploaded before a crash is not uploaded again by the retry', async () => {
  const state = new MemoryOutboxState();
  const parent = await poster(state).post('C0ALERTS', text('parent'));
  const file = { filename: 'memory.png', title: 'Memory', bytes: Buffer.from('png bytes') };
  await poster(state).upload('C0ALERTS', parent.ts, file, { key: 'alert-abc:chart' });
  // The process died after files.completeUploadExternal, before recording it as done.
  const record = await state.getUpload('alert-abc:chart');
  await state.setUpload('alert-abc:chart', { fileId: record!.fileId, done: false });
  await poster(state).upload('C0ALERTS', parent.ts, file, { key: 'alert-abc:chart' });
  await poster(state).upload('C0ALERTS', parent.ts, file, { key: 'alert-abc:chart' });
  expect(fake.files.filter((f) => f.channel === 'C0ALERTS')).toHaveLength(1);
  expect(fake.callsTo('files.completeUploadExternal')).toHaveLength(1);
});

it('a diagnosis ready before its placeholder had its turn is posted directly, in one call', async () => {
  const slack = poster();
  const parent = await slack.post('C0ALERTS', text('parent'));
  // The channel's post budget is spent for about a second: the placeholder has to wait.
  const placeholder = slack.show('alert-1', 'C0ALERTS', parent.ts, text('Diagnosing…'), {
    priority: 'background',
  });
  const final = await slack.show('alert-1', 'C0ALERTS', parent.ts, text('the diagnosis'), {
    priority: 'reply',
  });
  expect((await placeholder).ts).toBe(final.ts);
  const thread = fake.thread('C0ALERTS', parent.ts);
  expect(thread.map((m) => m.text)).toEqual(['the diagnosis']);
  expect(fake.callsTo('chat.update')).toHaveLength(0);
  const keyed = fake
    .callsTo('chat.postMessage')
    .filter((c) => JSON.stringify(c.args.metadata ?? {}).includes('alert-1'));
  expect(keyed).toHaveLength(1);
});

it('posts to one channel keep to about one a second, with no 429 and no early re-send', async () => {
  const slack = poster();
  const started = Date.now();
  await Promise.all(Array.from({ length: 5 }, (_, i) => slack.post('C0ALERTS', text(`m${i}`))));
  expect(Date.now() - started).toBeGreaterThanOrEqual(3_500);
  expect(fake.stats().rateLimitedByMethod['chat.postMessage'] ?? 0).toBe(0);
  expect(fake.stats().earlyResends).toEqual([]);
});
