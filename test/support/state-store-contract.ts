// The behaviour every StateStore must have, written once and run against each implementation
// (MemoryStore in test/unit/bot/store.test.ts, RedisStore in test/integration/queue/redis-store.test.ts),
// so the embedded store and the Redis one cannot drift apart.
import type { SuggestionRecord } from '../../src/apply/types';
import type { DiagnosedRecord, GroupThread, StateStore, WorkloadLine } from '../../src/bot/store';
import { heapOom, probeKill } from '../unit/slack/diagnosis-fixtures';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function groupThread(overrides: Partial<GroupThread> = {}): GroupThread {
  return {
    channel: 'C0123ABCD',
    ts: '1700000000.000100',
    title: { kind: 'alert', alertName: 'ContainerOOMKilled', clusterName: 'prod-eu' },
    status: 'firing',
    undiagnosable: [
      { label: 'ContainerOOMKilled in shop', why: 'no pod label, so there is no pod to look at' },
    ],
    notOomCount: 0,
    ...overrides,
  };
}

export function diagnosed(overrides: Partial<DiagnosedRecord> = {}): DiagnosedRecord {
  return {
    channel: 'C0123ABCD',
    ts: '1700000000.000200',
    threadTs: '1700000000.000100',
    link: 'https://example.slack.com/archives/C0123ABCD/p1700000000000200',
    firstAt: 1_700_000_000_000,
    kills: 1,
    label: 'shop/deploy/api · api',
    ...overrides,
  };
}

export function suggestion(overrides: Partial<SuggestionRecord> = {}): SuggestionRecord {
  const recommendation = heapOom().recommendation;
  if (!recommendation) throw new Error('the heapOom fixture has no recommendation');
  return {
    id: 'sUgG3st10n-1d-0123456789',
    createdAt: 1_700_000_000_000,
    diagnosisId: 'C0123ABCD:1700000000.000300',
    message: { channel: 'C0123ABCD', ts: '1700000000.000300', threadTs: '1700000000.000100' },
    target: { namespace: 'payments', pod: 'ledger-bc9xsnqjs-zjg2r', container: 'ledger' },
    workload: { kind: 'Deployment', namespace: 'payments', name: 'ledger' },
    container: 'ledger',
    list: 'containers',
    recommendation,
    change: {
      requestsMemory: '2Gi',
      limitsMemory: '2Gi',
      env: [{ name: '_JAVA_OPTIONS', value: '-Xmx1408m' }],
      args: null,
    },
    snapshot: {
      generation: 4,
      resources: { limits: { memory: '2Gi' } },
      envDigest: 'e'.repeat(64),
      argsDigest: 'a'.repeat(64),
    },
    helmRelease: null,
    configMapSettings: [],
    state: 'open',
    claim: null,
    applied: null,
    undone: null,
    staleReason: null,
    ...overrides,
  };
}

function line(label: string, status: string): WorkloadLine {
  // The caller's order is ignored: the store keeps insertion order.
  return { label, status, order: 0 };
}

const HOUR = 3_600_000;

/**
 * Registers the StateStore contract for one implementation. `makeStore` gives a fresh, empty store
 * for each test; the contract closes it afterwards.
 */
export function describeStateStore(name: string, makeStore: () => StateStore | Promise<StateStore>): void {
  describe(`${name}: the StateStore contract`, () => {
    let store: StateStore;

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      await store.close();
    });

    describe('claimGroup', () => {
      it('creates once when called concurrently: 10 parallel calls, create() runs once, all get the same record', async () => {
        let calls = 0;
        const create = async (): Promise<GroupThread> => {
          calls += 1;
          await sleep(30); // long enough for every other caller to arrive while the first creates
          return groupThread({ ts: `1700000000.00010${calls}` });
        };
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.claimGroup('g1', create, HOUR)),
        );
        expect(calls).toBe(1);
        expect(results).toHaveLength(10);
        for (const result of results) expect(result).toEqual(groupThread({ ts: '1700000000.000101' }));
        expect(await store.getGroup('g1')).toEqual(groupThread({ ts: '1700000000.000101' }));
      });

      it('returns the existing record without calling create() again', async () => {
        await store.claimGroup('g1', async () => groupThread(), HOUR);
        const create = jest.fn(async () => groupThread({ ts: 'second' }));
        expect(await store.claimGroup('g1', create, HOUR)).toEqual(groupThread());
        expect(create).not.toHaveBeenCalled();
      });

      it('keeps groups apart by id', async () => {
        await store.claimGroup('g1', async () => groupThread({ ts: 'one' }), HOUR);
        const second = await store.claimGroup('g2', async () => groupThread({ ts: 'two' }), HOUR);
        expect(second.ts).toBe('two');
        expect((await store.getGroup('g1'))?.ts).toBe('one');
      });

      it('when create() fails, stores nothing, passes the error on and lets the next caller create', async () => {
        await expect(
          store.claimGroup('g1', async () => Promise.reject(new Error('chat.postMessage failed')), HOUR),
        ).rejects.toThrow('chat.postMessage failed');
        expect(await store.getGroup('g1')).toBeNull();
        expect(await store.claimGroup('g1', async () => groupThread({ ts: 'retry' }), HOUR)).toEqual(
          groupThread({ ts: 'retry' }),
        );
      });

      it('expires the group after its ttl', async () => {
        await store.claimGroup('g1', async () => groupThread(), 100);
        expect(await store.getGroup('g1')).not.toBeNull();
        await sleep(250);
        expect(await store.getGroup('g1')).toBeNull();
      });
    });

    describe('getGroup and updateGroup', () => {
      it('getGroup of an unknown id is null', async () => {
        expect(await store.getGroup('nope')).toBeNull();
      });

      it('updateGroup applies the change and stores it', async () => {
        await store.claimGroup('g1', async () => groupThread(), HOUR);
        const updated = await store.updateGroup(
          'g1',
          (g) => ({ ...g, status: 'resolved', notOomCount: g.notOomCount + 2 }),
          HOUR,
        );
        expect(updated).toEqual(groupThread({ status: 'resolved', notOomCount: 2 }));
        expect(await store.getGroup('g1')).toEqual(groupThread({ status: 'resolved', notOomCount: 2 }));
      });

      it('updateGroup of an unknown id is null and creates nothing', async () => {
        const change = jest.fn((g: GroupThread) => g);
        expect(await store.updateGroup('nope', change, HOUR)).toBeNull();
        expect(change).not.toHaveBeenCalled();
        expect(await store.getGroup('nope')).toBeNull();
      });

      it('hands out copies: changing a returned record does not change the stored one', async () => {
        const group = await store.claimGroup('g1', async () => groupThread(), HOUR);
        group.status = 'resolved';
        group.undiagnosable.push({ label: 'x', why: 'y' });
        const read = await store.getGroup('g1');
        expect(read).toEqual(groupThread());
        if (read) read.notOomCount = 99;
        expect(await store.getGroup('g1')).toEqual(groupThread());
      });
    });

    describe('claimDiagnosed (the dedupe window)', () => {
      it('NX semantics: the first caller wins (null), the second gets the first record', async () => {
        expect(
          await store.claimDiagnosed('prod/shop/Deployment/api/api', diagnosed({ label: 'first' }), HOUR),
        ).toBeNull();
        expect(
          await store.claimDiagnosed('prod/shop/Deployment/api/api', diagnosed({ label: 'second' }), HOUR),
        ).toEqual(diagnosed({ label: 'first' }));
        // A different workload key is a different claim.
        expect(await store.claimDiagnosed('prod/shop/Deployment/web/web', diagnosed(), HOUR)).toBeNull();
      });

      it('exactly one of 10 concurrent callers wins', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.claimDiagnosed('k', diagnosed({ kills: i }), HOUR)),
        );
        const winners = results.filter((r) => r === null);
        expect(winners).toHaveLength(1);
        const winner = results.indexOf(null);
        for (const r of results) if (r !== null) expect(r).toEqual(diagnosed({ kills: winner }));
      });

      it('expires after its ttl: a later kill is diagnosed again', async () => {
        expect(await store.claimDiagnosed('k', diagnosed(), 100)).toBeNull();
        expect(await store.claimDiagnosed('k', diagnosed(), 100)).not.toBeNull();
        await sleep(250);
        expect(await store.claimDiagnosed('k', diagnosed({ kills: 7 }), HOUR)).toBeNull();
        expect(await store.claimDiagnosed('k', diagnosed(), HOUR)).toEqual(diagnosed({ kills: 7 }));
      });

      it('setDiagnosed replaces the record and keeps the expiry: the window slides from the diagnosis, not from later kills', async () => {
        const start = Date.now();
        expect(await store.claimDiagnosed('k', diagnosed({ ts: '' }), 600)).toBeNull();
        await sleep(300);
        await store.setDiagnosed('k', diagnosed({ kills: 2 }), HOUR);
        expect(await store.claimDiagnosed('k', diagnosed(), HOUR)).toEqual(diagnosed({ kills: 2 }));
        // Had setDiagnosed restarted the 600 ms, the record would live until about 900 ms.
        await sleep(Math.max(0, 750 - (Date.now() - start)));
        expect(await store.claimDiagnosed('k', diagnosed({ kills: 9 }), HOUR)).toBeNull();
      });

      it('setDiagnosed on a record that is gone (expired, or released by a failed try) gives it an expiry again', async () => {
        expect(await store.claimDiagnosed('k', diagnosed({ ts: '' }), HOUR)).toBeNull();
        await store.releaseDiagnosed('k');
        await store.setDiagnosed('k', diagnosed({ kills: 4 }), 200);
        expect(await store.claimDiagnosed('k', diagnosed(), HOUR)).toEqual(diagnosed({ kills: 4 }));
        await sleep(300);
        // Without a fresh expiry the workload would stay "already diagnosed" for ever.
        expect(await store.claimDiagnosed('k', diagnosed({ kills: 9 }), HOUR)).toBeNull();
      });

      it('gives workload lines written at the same moment places of their own', async () => {
        await Promise.all(
          ['a', 'b', 'c', 'd'].map((k) =>
            store.setWorkloadLine('g-par', k, { label: k, status: 'queued', order: 0 }, HOUR),
          ),
        );
        const orders = (await store.getWorkloadLines('g-par')).map((l) => l.order).sort();
        expect(orders).toEqual([0, 1, 2, 3]);
      });

      it('updateDiagnosed counts every one of many kills arriving at once, and keeps the record', async () => {
        await store.claimDiagnosed('k', diagnosed({ kills: 1 }), HOUR);
        await Promise.all(
          Array.from({ length: 8 }, () =>
            store.updateDiagnosed('k', (r) => ({ ...r, kills: r.kills + 1 }), HOUR),
          ),
        );
        const final = await store.updateDiagnosed('k', (r) => ({ ...r, ts: '1.2' }), HOUR);
        expect(final).toMatchObject({ kills: 9, ts: '1.2' });
        expect(await store.updateDiagnosed('never-claimed', (r) => r, HOUR)).toBeNull();
      });

      it('releaseDiagnosed frees the workload for the next diagnosis', async () => {
        await store.claimDiagnosed('k', diagnosed(), HOUR);
        await store.releaseDiagnosed('k');
        expect(await store.claimDiagnosed('k', diagnosed({ kills: 3 }), HOUR)).toBeNull();
        // Releasing what is not there is harmless.
        await expect(store.releaseDiagnosed('never-claimed')).resolves.toBeUndefined();
      });
    });

    describe('workload lines', () => {
      it('keep insertion order and are replaced by key, keeping their place', async () => {
        await store.setWorkloadLine('g1', 'pod:shop/b-1', line('shop/b-1', 'queued'), HOUR);
        await store.setWorkloadLine('g1', 'pod:shop/a-1', line('shop/a-1', 'queued'), HOUR);
        await store.setWorkloadLine('g1', 'pod:shop/c-1', line('shop/c-1', 'queued'), HOUR);
        const after = await store.setWorkloadLine(
          'g1',
          'pod:shop/a-1',
          line('shop/deploy/a', 'heap grows until the limit'),
          HOUR,
        );
        const expected = [
          { label: 'shop/b-1', status: 'queued', order: 0 },
          { label: 'shop/deploy/a', status: 'heap grows until the limit', order: 1 },
          { label: 'shop/c-1', status: 'queued', order: 2 },
        ];
        expect(after).toEqual(expected);
        expect(await store.getWorkloadLines('g1')).toEqual(expected);
      });

      it('keep the optional link, and drop it when the new line has none', async () => {
        await store.setWorkloadLine(
          'g1',
          'a',
          { ...line('a', 'done'), link: 'https://example.slack.com/p1' },
          HOUR,
        );
        expect((await store.getWorkloadLines('g1'))[0]?.link).toBe('https://example.slack.com/p1');
        await store.setWorkloadLine('g1', 'a', line('a', 're-running'), HOUR);
        expect((await store.getWorkloadLines('g1'))[0]).toEqual({
          label: 'a',
          status: 're-running',
          order: 0,
        });
      });

      it('updateWorkloadLine lets a workload line take over its pod line and its place', async () => {
        await store.setWorkloadLine('g1', 'pod:shop/a-1', line('shop/a-1', 'queued'), HOUR);
        await store.setWorkloadLine('g1', 'pod:shop/a-2', line('shop/a-2', 'queued'), HOUR);
        await store.setWorkloadLine('g1', 'pod:shop/b-1', line('shop/b-1', 'queued'), HOUR);
        const workload =
          (status: string) => (current: { repeat?: { kills: number; within: string } } | null) => ({
            label: 'shop/deploy/a',
            status,
            ...(current?.repeat ? { repeat: current.repeat } : {}),
          });
        await store.updateWorkloadLine('g1', 'w:a', workload('diagnosing…'), HOUR, {
          replaces: 'pod:shop/a-1',
        });
        // A second pod of the same workload: its line goes, the workload line keeps its place.
        await store.updateWorkloadLine(
          'g1',
          'w:a',
          (current) => ({
            ...(current ?? line('shop/deploy/a', '?')),
            repeat: { kills: 2, within: '1 min' },
          }),
          HOUR,
          { replaces: 'pod:shop/a-2' },
        );
        await store.updateWorkloadLine('g1', 'w:a', workload('done'), HOUR, { replaces: 'pod:shop/a-1' });
        expect(await store.getWorkloadLines('g1')).toEqual([
          { label: 'shop/deploy/a', status: 'done', repeat: { kills: 2, within: '1 min' }, order: 0 },
          { label: 'shop/b-1', status: 'queued', order: 2 },
        ]);
        // A line that replaces nothing comes last.
        await store.updateWorkloadLine('g1', 'w:c', () => line('shop/deploy/c', 'diagnosing…'), HOUR);
        expect((await store.getWorkloadLines('g1')).map((l) => l.label)).toEqual([
          'shop/deploy/a',
          'shop/b-1',
          'shop/deploy/c',
        ]);
      });

      it('are kept per group, and an unknown group has none', async () => {
        await store.setWorkloadLine('g1', 'a', line('a', 'queued'), HOUR);
        await store.setWorkloadLine('g2', 'b', line('b', 'queued'), HOUR);
        expect((await store.getWorkloadLines('g2')).map((l) => l.label)).toEqual(['b']);
        expect(await store.getWorkloadLines('unknown')).toEqual([]);
      });

      it('expire after their ttl', async () => {
        await store.setWorkloadLine('g1', 'a', line('a', 'queued'), 100);
        await sleep(250);
        expect(await store.getWorkloadLines('g1')).toEqual([]);
      });
    });

    describe('replies and diagnoses', () => {
      it('setReply/getReply round-trip, per job key', async () => {
        const reply = { channel: 'C0123ABCD', ts: '1700000000.000300', threadTs: '1700000000.000100' };
        expect(await store.getReply('alert-1')).toBeNull();
        await store.setReply('alert-1', reply, HOUR);
        expect(await store.getReply('alert-1')).toEqual(reply);
        expect(await store.getReply('alert-2')).toBeNull();
      });

      it('setDiagnosis/getDiagnosis round-trip a whole Diagnosis, keyed by channel and ts', async () => {
        const diagnosis = heapOom();
        await store.setDiagnosis('C0123ABCD', '1700000000.000300', diagnosis, HOUR);
        await store.setDiagnosis('C0123ABCD', '1700000000.000400', probeKill(), HOUR);
        expect(await store.getDiagnosis('C0123ABCD', '1700000000.000300')).toEqual(diagnosis);
        expect(await store.getDiagnosis('C0123ABCD', '1700000000.000400')).toEqual(probeKill());
        expect(await store.getDiagnosis('C0OTHER', '1700000000.000300')).toBeNull();
        expect(await store.getDiagnosis('C0123ABCD', '1700000000.000999')).toBeNull();
      });

      it('a diagnosis expires after its ttl', async () => {
        await store.setDiagnosis('C0123ABCD', '1.1', heapOom(), 100);
        await sleep(250);
        expect(await store.getDiagnosis('C0123ABCD', '1.1')).toBeNull();
      });
    });

    describe('suggestions (the Apply button)', () => {
      it('setSuggestion/getSuggestion round-trip, and the message finds its latest suggestion', async () => {
        expect(await store.getSuggestion('nope')).toBeNull();
        await store.setSuggestion('s1', suggestion({ id: 's1' }), HOUR);
        await store.setSuggestion('s2', suggestion({ id: 's2' }), HOUR);
        expect(await store.getSuggestion('s1')).toEqual(suggestion({ id: 's1' }));
        expect((await store.getSuggestionForMessage('C0123ABCD', '1700000000.000300'))?.id).toBe('s2');
        expect(await store.getSuggestionForMessage('C0123ABCD', '1700000000.000999')).toBeNull();
      });

      it('expires after its ttl', async () => {
        await store.setSuggestion('s1', suggestion({ id: 's1' }), 100);
        await sleep(250);
        expect(await store.getSuggestion('s1')).toBeNull();
        expect(await store.getSuggestionForMessage('C0123ABCD', '1700000000.000300')).toBeNull();
      });

      it('updateSuggestion changes the record, or leaves it when the change says null; unknown ids give null', async () => {
        await store.setSuggestion('s1', suggestion({ id: 's1' }), HOUR);
        const changed = await store.updateSuggestion('s1', (s) => ({
          ...s,
          state: 'stale',
          staleReason: 'generation 4 → 5',
        }));
        expect(changed).toEqual({
          record: suggestion({ id: 's1', state: 'stale', staleReason: 'generation 4 → 5' }),
          changed: true,
        });
        const left = await store.updateSuggestion('s1', () => null);
        expect(left).toEqual({
          record: suggestion({ id: 's1', state: 'stale', staleReason: 'generation 4 → 5' }),
          changed: false,
        });
        expect(await store.getSuggestion('s1')).toEqual(
          suggestion({ id: 's1', state: 'stale', staleReason: 'generation 4 → 5' }),
        );
        expect(await store.updateSuggestion('nope', (s) => s)).toBeNull();
      });

      it('exactly one of 10 concurrent claims wins (a double click, two people at once)', async () => {
        await store.setSuggestion('s1', suggestion({ id: 's1' }), HOUR);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.updateSuggestion('s1', (s) =>
              s.state === 'open'
                ? {
                    ...s,
                    state: 'applying',
                    claim: { op: 'apply', jobId: `job-${i}`, userId: `U0USER${i}`, at: i },
                  }
                : null,
            ),
          ),
        );
        expect(results.filter((r) => r?.changed)).toHaveLength(1);
        const winner = results.find((r) => r?.changed)?.record.claim?.jobId;
        for (const r of results) expect(r?.record.claim?.jobId).toBe(winner);
        expect((await store.getSuggestion('s1'))?.claim?.jobId).toBe(winner);
      });

      it('updateSuggestion keeps the expiry', async () => {
        await store.setSuggestion('s1', suggestion({ id: 's1' }), 300);
        await sleep(150);
        await store.updateSuggestion('s1', (s) => ({ ...s, state: 'applied' }));
        await sleep(250);
        expect(await store.getSuggestion('s1')).toBeNull();
      });
    });

    describe('withLock', () => {
      it('serialises two overlapping critical sections on one key: they never interleave', async () => {
        const events: string[] = [];
        const section = (name: string) => async () => {
          events.push(`${name} enter`);
          await sleep(60);
          events.push(`${name} exit`);
          return name;
        };
        const first = store.withLock('parent:g1', section('A'));
        await sleep(10); // A is inside when B asks
        const second = store.withLock('parent:g1', section('B'));
        expect(await Promise.all([first, second])).toEqual(['A', 'B']);
        expect(events).toEqual(['A enter', 'A exit', 'B enter', 'B exit']);
      });

      it('serialises many contenders: at most one inside at any time', async () => {
        let inside = 0;
        let most = 0;
        await Promise.all(
          Array.from({ length: 6 }, () =>
            store.withLock('k', async () => {
              inside += 1;
              most = Math.max(most, inside);
              await sleep(10);
              inside -= 1;
            }),
          ),
        );
        expect(most).toBe(1);
      });

      it('does not hold back a different key', async () => {
        const events: string[] = [];
        const first = store.withLock('k1', async () => {
          events.push('k1 enter');
          await sleep(150);
          events.push('k1 exit');
        });
        await sleep(10);
        await store.withLock('k2', async () => {
          events.push('k2 inside');
        });
        await first;
        expect(events).toEqual(['k1 enter', 'k2 inside', 'k1 exit']);
      });

      it('releases the lock when the work fails, and passes the error on', async () => {
        await expect(store.withLock('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow(
          'boom',
        );
        await expect(store.withLock('k', async () => 'next')).resolves.toBe('next');
      });
    });

    it('ping answers true while the store is up', async () => {
      await expect(store.ping()).resolves.toBe(true);
    });
  });
}
