// The rate budget: whatever the timing of the calls, no 60 s window holds more than the documented
// per-minute figure of the method's tier (Slack's "Rate limits" page), and lower priorities leave room.
import fc from 'fast-check';
import { gcraStep, limitOf, usableBurst } from '../../../src/adapters/slack-limits';

const PER_MINUTE: Record<string, number> = {
  'usergroups.users.list': 20,
  'chat.update': 50,
  'views.open': 100,
  'chat.postMessage': 60,
};

describe('the GCRA budget', () => {
  for (const [method, perMinute] of Object.entries(PER_MINUTE)) {
    it(`never lets more than ${perMinute} ${method} calls into any 60 s window`, () => {
      const limit = limitOf(method);
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 50, maxLength: 400 }),
          (gaps) => {
            let tat = 0;
            let now = 1_000_000;
            const sent: number[] = [];
            for (const gap of gaps) {
              now += gap;
              const step = gcraStep(tat, now, limit.intervalMs, limit.burst);
              if (step.allowed) {
                tat = step.tat;
                sent.push(now);
              }
            }
            for (let i = 0; i < sent.length; i++) {
              const inWindow = sent.filter((t) => t >= sent[i]! && t < sent[i]! + 60_000).length;
              if (inWindow > perMinute) return false;
            }
            return true;
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it('says how long to wait when the burst is spent, and lets the call go after that wait', () => {
    const limit = limitOf('chat.update');
    let tat = 0;
    for (let i = 0; i < limit.burst; i++) {
      const step = gcraStep(tat, 0, limit.intervalMs, limit.burst);
      if (!step.allowed) throw new Error(`call ${i} of the burst refused`);
      tat = step.tat;
    }
    const refused = gcraStep(tat, 0, limit.intervalMs, limit.burst);
    expect(refused.allowed).toBe(false);
    const wait = refused.allowed ? 0 : refused.waitMs;
    expect(wait).toBe(limit.intervalMs);
    expect(gcraStep(tat, wait, limit.intervalMs, limit.burst).allowed).toBe(true);
  });

  it('keeps headroom: background writes may use less of the burst than interactive answers', () => {
    const limit = limitOf('chat.update');
    expect(usableBurst(limit, 'interactive')).toBe(limit.burst);
    expect(usableBurst(limit, 'background')).toBeLessThan(usableBurst(limit, 'reply'));
    expect(usableBurst(limit, 'reply')).toBeLessThan(limit.burst);
    expect(limitOf('chat.postMessage').scope).toBe('channel');
    expect(limitOf('chat.update').scope).toBe('workspace');
  });
});
