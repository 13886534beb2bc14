import { MemoryStore } from '../../../src/bot/memory-store';
import { describeStateStore, diagnosed } from '../../support/state-store-contract';

describeStateStore('MemoryStore', () => new MemoryStore());

describe('MemoryStore specifics', () => {
  it('close() forgets everything', async () => {
    const store = new MemoryStore();
    await store.claimDiagnosed('k', diagnosed(), 60_000);
    await store.close();
    expect(await store.claimDiagnosed('k', diagnosed(), 60_000)).toBeNull();
  });
});

describe('MemoryStore housekeeping', () => {
  it('drops expired records it is never asked for again, so a long-running bot does not grow', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 400; i++)
      await store.setReply(`old-${i}`, { channel: 'C1', ts: `${i}.0`, threadTs: '1.0' }, 1);
    await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 100; i++)
      await store.setReply(`new-${i}`, { channel: 'C1', ts: `${i}.1`, threadTs: '1.0' }, 60_000);
    expect(store.size).toBe(100);
  });
});
