import { MemoryStore } from '../../../src/bot/store';
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
