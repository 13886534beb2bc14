// The look-back and what the evidence says about the history itself (issue 11, section 4): when one
// day is not enough, the other pods under the same name, a resized limit, hours-long scrape gaps.
import { classify, leakRate } from '../../../src/core/classify';
import { historyNotes, lookbackToWiden } from '../../../src/core/lookback';
import { findSpikes, longestPlateau } from '../../../src/core/series';
import type { Evidence, Sample } from '../../../src/core/types';
import { demoSpecs, generateScenario, GiB, MiB } from '../../support/scenarios';
import { scenarioEvidence } from '../../support/scenario-evidence';
import { diagnosedEvidence, generateTimeShape, timeShapeCases } from '../../support/scenarios-time-shapes';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function demo(id: string, limit: number, seed: number): Promise<Evidence> {
  const spec = demoSpecs(limit).find((s) => s.id === id);
  if (!spec) throw new Error(id);
  const scenario = generateScenario(spec, { now: NOW, windowMs: DAY, scrapeMs: 60_000, seed });
  return scenarioEvidence(scenario, { start: NOW - DAY, end: NOW });
}

describe('lookbackToWiden (daily cycles)', () => {
  it('widens a daily ramp to the kill to 7 days, and says why', async () => {
    const c = timeShapeCases(NOW).find((x) => x.shapeClass === 'daily-cycle-peaks-touch-limit');
    if (!c) throw new Error('no case');
    const scenario = generateTimeShape(c, NOW);
    const evidence = await scenarioEvidence(scenario, { start: NOW - DAY, end: NOW });
    const wider = lookbackToWiden(evidence);
    expect(wider?.windowMs).toBe(7 * DAY);
    expect(wider?.reason).toMatch(
      /^usage rose by [\d.]+ [MG]iB over the \d+ h( \d+ min)? before the kill at 2026-11-28/,
    );
    expect(wider?.reason).toMatch(/a daily load cycle does as well as a leak$/);
  });

  it.each([256 * MiB, 2 * GiB, 8 * GiB])(
    'leaves a leak seen to start over at two restarts inside the day alone (%d bytes)',
    async (limit) => {
      for (const seed of [1, 2, 3])
        expect(lookbackToWiden(await demo('memory-leak', limit, seed))).toBeNull();
    },
  );

  it.each(['limit-too-small', 'burst-allocation', 'sigkill-not-oom', 'no-oom-found'])(
    'does not widen the %s demo (no long rise before the kill)',
    async (id) => {
      for (const seed of [1, 2]) expect(lookbackToWiden(await demo(id, GiB, seed))).toBeNull();
    },
  );

  it('never widens a window of 3 days or more, twice, or a reading from the metrics API', async () => {
    const c = timeShapeCases(NOW).find((x) => x.shapeClass === 'leak-under-daily-cycle');
    if (!c) throw new Error('no case');
    const scenario = generateTimeShape(c, NOW);
    expect(lookbackToWiden(await scenarioEvidence(scenario, { start: NOW - 3 * DAY, end: NOW }))).toBeNull();
    const { evidence, widened } = await diagnosedEvidence(scenario, NOW);
    expect(widened).toBe(true);
    expect(lookbackToWiden(evidence)).toBeNull();
    const day = await scenarioEvidence(scenario, { start: NOW - DAY, end: NOW });
    if (day.metrics) day.metrics = { ...day.metrics, source: 'metrics-api' };
    expect(lookbackToWiden(day)).toBeNull();
  });
});

describe('leakRate under a daily cycle', () => {
  it('is the growth from one day to the next at the same hour: the generated rate, whatever the cycle', async () => {
    for (const c of timeShapeCases(NOW).filter((x) => x.shapeClass === 'leak-under-daily-cycle')) {
      const { evidence } = await diagnosedEvidence(generateTimeShape(c, NOW), NOW);
      const limit = c.spec.limit as number;
      const rate = leakRate(evidence) ?? 0;
      // The generator adds 0.172–0.182 of the limit per day.
      expect(rate * DAY).toBeGreaterThan(0.15 * limit);
      expect(rate * DAY).toBeLessThan(0.2 * limit);
    }
  });
});

describe('historyNotes', () => {
  it('names an earlier pod under the same name, a resized limit and a long scrape gap', async () => {
    const evidence = await demo('limit-too-small', 512 * MiB, 1);
    const metrics = evidence.metrics;
    if (!metrics) throw new Error('no metrics');
    const gapFrom = NOW - 10 * HOUR;
    evidence.metrics = {
      ...metrics,
      workingSet: metrics.workingSet.filter((s) => s.at < gapFrom || s.at > gapFrom + 3 * HOUR),
      earlierIncarnations: [{ uid: 'a1b2', from: NOW - 30 * HOUR, to: NOW - 20 * HOUR, limitBytes: GiB }],
      limitChanges: [{ at: NOW - 20 * HOUR, fromBytes: GiB, toBytes: 512 * MiB }],
    };
    const notes = historyNotes(evidence);
    expect(notes).toEqual([
      'An earlier pod with the same name (uid a1b2, limit 1 GiB) ran from 2026-11-27 06:00 UTC to 2026-11-27 16:00 UTC; its history is left out: it is another pod.',
      'The memory limit changed at 2026-11-27 16:00 UTC from 1 GiB to 512 MiB: readings before then were against the old limit.',
      'No readings for 3 h 2 min from 2026-11-28 01:59 UTC: the container was not scraped then, and the shape there is unknown.',
    ]);
    // The classifier says the same in its verdict evidence, and the gap changes nothing else.
    const result = classify(evidence);
    expect(result.verdictEvidence.slice(-3)).toEqual(notes);
    expect(result.causes[0]?.id).toBe('limit-too-small');
  });

  it('says nothing about a history without any of them', async () => {
    expect(historyNotes(await demo('memory-leak', GiB, 2))).toEqual([]);
  });
});

describe('scrape gaps do not break the shape', () => {
  const limit = 1000;
  const run = (from: number, to: number, value: number, stepMs = 60_000): Sample[] => {
    const out: Sample[] = [];
    for (let at = from; at <= to; at += stepMs) out.push({ at, value });
    return out;
  };

  it('a plateau does not run across hours with no readings', () => {
    const samples = [...run(0, 30 * 60_000, 900), ...run(4 * HOUR, 4 * HOUR + 30 * 60_000, 900)];
    expect(longestPlateau(samples, limit)?.durationMs).toBe(4 * HOUR + 30 * 60_000); // what it used to claim
    expect(longestPlateau(samples, limit, 10 * 60_000)?.durationMs).toBe(30 * 60_000);
  });

  it('spikes on either side of a gap are not merged into one because the first step was a gap', () => {
    const samples = [...run(0, 0, 100), ...run(3 * HOUR, 5 * HOUR, 100)].map((s) => ({ ...s }));
    const at = (t: number) => samples.findIndex((s) => s.at === t);
    (samples[at(3 * HOUR + 30 * 60_000)] as Sample).value = 500;
    (samples[at(3 * HOUR + 90 * 60_000)] as Sample).value = 500;
    expect(findSpikes(samples, limit)).toHaveLength(2);
  });

  it.each([256 * MiB, 2 * GiB])(
    'the demo plateau with a 4 h gap still reads as a limit too small (%d bytes)',
    async (l) => {
      for (const seed of [1, 2, 3]) {
        const evidence = await demo('limit-too-small', l, seed);
        const metrics = evidence.metrics;
        if (!metrics) throw new Error('no metrics');
        evidence.metrics = {
          ...metrics,
          workingSet: metrics.workingSet.filter((s) => s.at < NOW - 16 * HOUR || s.at > NOW - 12 * HOUR),
        };
        const result = classify(evidence);
        expect(result.verdict).toBe('cgroup-oom');
        expect(result.causes[0]?.id).toBe('limit-too-small');
        expect(result.verdictEvidence.join('\n')).toMatch(/No readings for 4 h/);
      }
    },
  );
});
