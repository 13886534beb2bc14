// The labelled corpus, time shapes of real traffic (issue 11, section 4), included by corpus.test.ts.
// Each case is a week of generated history seen the way diagnose() sees it: the default 24 h window
// first, widened when the shape there is ambiguous, at Prometheus' step for each window.
import { classify } from '../../../src/core/classify';
import {
  diagnosedEvidence,
  generateTimeShape,
  timeShapeCases,
  type TimeShapeClass,
} from '../../support/scenarios-time-shapes';

const NOW = Date.parse('2026-11-28T12:00:00Z');

describe('the labelled corpus: time shapes of real traffic', () => {
  const cases = timeShapeCases(NOW);

  it('has every class at several limits, seeds and runtimes, with and without scrape gaps', () => {
    const classes: TimeShapeClass[] = [
      'daily-cycle-peaks-touch-limit',
      'daily-cycle-peaks-grow-with-traffic',
      'leak-under-daily-cycle',
      'burst-over-daily-cycle',
    ];
    for (const shapeClass of classes) {
      const ofClass = cases.filter((c) => c.shapeClass === shapeClass);
      expect(ofClass.length).toBeGreaterThanOrEqual(9);
      expect(new Set(ofClass.map((c) => c.spec.limit)).size).toBeGreaterThanOrEqual(3);
      expect(new Set(ofClass.map((c) => c.spec.runtime?.env?.[0]?.name)).size).toBe(3);
    }
    expect(cases.filter((c) => c.id.includes('+gap')).length).toBeGreaterThanOrEqual(6);
  });

  it.each(cases.map((c) => [c.shapeClass, c.id, c] as const))('%s: %s', async (_class, _id, c) => {
    const scenario = generateTimeShape(c, NOW);
    const { evidence, widened } = await diagnosedEvidence(scenario, NOW);
    if (c.expectWidened) expect(widened).toBe(true);
    // Whatever the window, one query stays within 1,440 points.
    expect(evidence.metrics?.workingSet.length ?? 0).toBeLessThanOrEqual(1440);
    const result = classify(evidence);
    expect(result.verdict).toBe(c.expect.verdict);
    expect(result.causes[0]?.id).toBe(c.expect.topCause);
    const said = [...result.verdictEvidence, ...(result.causes[0]?.evidence ?? [])].join('\n');
    if (widened) expect(said).toMatch(/Look-back widened from 24 h to 7 d \(one point every 7 min/);
    if (c.shapeClass === 'leak-under-daily-cycle') {
      expect(said).toMatch(/climbs about [\d.]+ [KMG]iB per hour/);
      expect(said).toMatch(/reaches the [\d.]+ [KMG]iB limit in about/);
      expect(said).toMatch(/falls back only when the container restarts/);
    }
    if (c.shapeClass.startsWith('daily-cycle')) {
      expect(said).toMatch(/Every day usage rises with traffic/);
      // The rise before the kill is not called a leak.
      expect(result.causes.find((cause) => cause.id === 'memory-leak')?.confidence ?? 0).toBeLessThan(0.4);
    }
    // An hours-long scrape gap is said, and changes nothing above.
    if (c.id.includes('+gap')) expect(said).toMatch(/No readings for 4 h/);
  });
});
