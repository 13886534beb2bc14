import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisStore } from '../../../src/bot/redis-store';
import { startRedis, type RunningRedis } from '../../support/redis';
import { describeStateStore, diagnosed, groupThread } from '../../support/state-store-contract';
import { heapOom } from '../../unit/slack/diagnosis-fixtures';

let redis: RunningRedis;
/** A client of the test's own, to look at the keys the store writes. */
let observer: Redis;

beforeAll(async () => {
  redis = await startRedis();
  observer = new Redis(redis.url);
});

afterAll(async () => {
  await observer?.quit();
  await redis?.stop();
});

describeStateStore('RedisStore', () => new RedisStore(new Redis(redis.url), `test-${randomUUID()}:`));

describe('RedisStore specifics', () => {
  let store: RedisStore;
  let prefix: string;

  beforeEach(() => {
    prefix = `test-${randomUUID()}:`;
    store = new RedisStore(new Redis(redis.url), prefix);
  });

  afterEach(async () => {
    await store.close();
  });

  it('writes only keys under its prefix, and every one of them expires', async () => {
    await store.claimGroup('g1', async () => groupThread(), 3_600_000);
    await store.setWorkloadLine('g1', 'a', { label: 'a', status: 'queued', order: 0 }, 3_600_000);
    await store.setReply('alert-1', { channel: 'C1', ts: '1.1', threadTs: '1.0' }, 3_600_000);
    await store.claimDiagnosed('k', diagnosed({ ts: '' }), 3_600_000);
    await store.setDiagnosed('k', diagnosed(), 3_600_000);
    await store.setDiagnosis('C1', '1.1', heapOom(), 3_600_000);
    await store.withLock('parent:g1', async () => undefined);

    const keys = (await observer.keys(`${prefix}*`)).sort();
    expect(keys).toEqual(
      [
        `${prefix}diagnosed:k`,
        `${prefix}diagnosis:C1:1.1`,
        `${prefix}group:g1`,
        `${prefix}lines:g1`,
        `${prefix}reply:alert-1`,
      ].sort(),
    );
    for (const key of keys) {
      const ttl = await observer.pttl(key);
      expect({ key, expires: ttl > 0 && ttl <= 3_600_000 }).toEqual({ key, expires: true });
    }
  });

  it('two stores on one Redis with different prefixes do not see each other', async () => {
    const other = new RedisStore(new Redis(redis.url), `test-${randomUUID()}:`);
    try {
      await store.claimDiagnosed('k', diagnosed(), 60_000);
      expect(await other.claimDiagnosed('k', diagnosed(), 60_000)).toBeNull();
    } finally {
      await other.close();
    }
  });

  it('two stores with the same prefix share one lock (web and worker processes)', async () => {
    const other = new RedisStore(new Redis(redis.url), prefix);
    try {
      const events: string[] = [];
      const first = store.withLock('k', async () => {
        events.push('A enter');
        await new Promise((r) => setTimeout(r, 80));
        events.push('A exit');
      });
      await new Promise((r) => setTimeout(r, 10));
      await other.withLock('k', async () => {
        events.push('B inside');
      });
      await first;
      expect(events).toEqual(['A enter', 'A exit', 'B inside']);
    } finally {
      await other.close();
    }
  });

  it('ping answers false, without hanging, once the client is closed', async () => {
    const client = new Redis(redis.url);
    const closed = new RedisStore(client, prefix);
    await expect(closed.ping()).resolves.toBe(true);
    await closed.close();
    await expect(closed.ping()).resolves.toBe(false);
  });
});
