// What was made faster for the 7-day look-back must give the same answers: the spikes' rolling
// median kept sorted as it slides (against a plain re-sort at every sample), and the lifetimes
// worked out once per evidence (against a fresh evidence, and again when the history changes).
import fc from 'fast-check';
import { analyseLifetimes, collectKills } from '../../../src/core/lifetimes';
import { findSpikes } from '../../../src/core/series';
import type { Sample } from '../../../src/core/types';
import { evidence, flatMetrics, GiB, MINUTE, NOW } from './evidence-builders';

/** The spikes as first written: the previous 15 values copied and sorted at every sample. */
function spikesByResorting(samples: Sample[], limit: number | null, step: number) {
  const spikes: Array<{ at: number; height: number; above: number }> = [];
  samples.forEach((sample, i) => {
    const previous = samples.slice(Math.max(0, i - 15), i).map((s) => s.value);
    if (previous.length < 3) return;
    const sorted = [...previous].sort((a, b) => a - b);
    const mid = sorted.length / 2;
    const baseline =
      sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    const above = sample.value - baseline;
    if (above < (limit ? 0.2 * limit : 0.5 * baseline)) return;
    const last = spikes[spikes.length - 1];
    if (last && sample.at - last.at <= 3 * step) {
      if (sample.value > last.height) Object.assign(last, { at: sample.at, height: sample.value, above });
    } else spikes.push({ at: sample.at, height: sample.value, above });
  });
  return spikes;
}

describe('faster, same answers', () => {
  it('the sliding rolling median finds the same spikes as re-sorting at every sample', () => {
    const value = fc.oneof(
      fc.constantFrom(0, 100, 100, 5e8, 9e8),
      fc.integer({ min: 0, max: 2 * GiB }),
      fc.double({ min: 0, max: 2 * GiB, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 200 }), fc.option(fc.constant(GiB)), (values, limit) => {
        const samples = values.map((v, i) => ({ at: NOW + i * MINUTE, value: v }));
        expect(findSpikes(samples, limit, MINUTE)).toEqual(spikesByResorting(samples, limit, MINUTE));
      }),
      { numRuns: 500 },
    );
  });

  it('lifetimes read twice from one evidence are the same; a changed history is read again', () => {
    const ev = evidence({ metrics: flatMetrics(0.5 * GiB, GiB) });
    const kills = collectKills(ev);
    const first = analyseLifetimes(ev, kills, GiB);
    expect(analyseLifetimes(ev, kills, GiB)).toBe(first);
    expect(analyseLifetimes({ ...ev }, kills, GiB)).toEqual(first);
    // The history grows in place: the answer follows it.
    const grown = ev.metrics!.workingSet;
    for (let i = 1; i <= 30; i++) grown.push({ at: NOW + i * MINUTE, value: 0.99 * GiB });
    const after = analyseLifetimes(ev, kills, GiB);
    expect(after).not.toBe(first);
    expect(Math.max(...after.all.map((l) => l.features.peak))).toBe(0.99 * GiB);
    // Another limit is another reading: the readings near 1 GiB are a plateau of a 1 GiB limit only.
    expect(after.all.some((l) => l.features.plateau !== null)).toBe(true);
    expect(analyseLifetimes(ev, kills, 2 * GiB).all.every((l) => l.features.plateau === null)).toBe(true);
  });
});
