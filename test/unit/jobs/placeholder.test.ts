// The placeholder of an alert's reply waits a few seconds: a diagnosis ready by then is posted
// directly, so the thread gets one post and no edit; only a slower one shows "queued" first.
import pino from 'pino';
import type { PostedMessage, SlackMessage } from '../../../src/adapters/slack';
import { postPlaceholder, type PublishDeps } from '../../../jobs/publish';

const where = { key: 'reply:1', channel: 'C0ALERTS', threadTs: '1700000000.000100' };
const target = { namespace: 'shop', pod: 'checkout-1', container: 'app' };

function recordingDeps() {
  const shown: Array<{ key: string; text: string }> = [];
  const slack = {
    show: async (key: string, channel: string, _thread: string | null, message: SlackMessage) => {
      shown.push({ key, text: message.text });
      return { channel, ts: '1700000000.000200' } satisfies PostedMessage;
    },
  };
  const deps = { slack, logger: pino({ level: 'silent' }) } as unknown as PublishDeps;
  return { deps, shown };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

it('shows nothing before the delay and the placeholder once it has passed', async () => {
  const { deps, shown } = recordingDeps();
  const placeholder = postPlaceholder(deps, where, target, 3_000);
  await jest.advanceTimersByTimeAsync(2_999);
  expect(shown).toEqual([]);
  expect(placeholder.current()).toBeNull();
  await jest.advanceTimersByTimeAsync(1);
  expect(shown).toHaveLength(1);
  expect(shown[0]?.key).toBe(where.key);
  expect(shown[0]?.text).toContain('checkout-1');
  expect(placeholder.current()).toEqual({ channel: where.channel, ts: '1700000000.000200' });
});

it('never posts a placeholder stopped before its delay (the diagnosis came first)', async () => {
  const { deps, shown } = recordingDeps();
  const placeholder = postPlaceholder(deps, where, target, 3_000);
  await jest.advanceTimersByTimeAsync(1_000);
  placeholder.stop();
  await jest.advanceTimersByTimeAsync(10_000);
  expect(shown).toEqual([]);
  expect(placeholder.current()).toBeNull();
});

it('posts at once without a delay (an /oom caller sees it was heard)', async () => {
  const { deps, shown } = recordingDeps();
  postPlaceholder(deps, where, target);
  await jest.advanceTimersByTimeAsync(0);
  expect(shown).toHaveLength(1);
});
