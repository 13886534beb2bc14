// The labelled corpus: generated histories of every verdict and cause, with noise, several limits,
// sidecars and runtimes. The classifier must name the right verdict and put the right cause first.
import { classify } from '../../../src/core/classify';
import { demoSpecs, generateScenario, GiB, MiB, type ScenarioSpec } from '../../support/scenarios';
import { scenarioEvidence } from '../../support/scenario-evidence';
import './time-shapes-corpus'; // issue 11 section 4: daily cycles, widened look-back, scrape gaps
import './real-clusters-corpus'; // issue 11 sections 1, 2, 3, 5: sidecars, owners, heap flags, the number
import './mixed-series-corpus'; // issue 11 section 4: HA duplicates, another cluster, a re-created pod, diagnosed whole

const NOW = Date.parse('2026-11-28T12:00:00Z');
const WINDOW = 24 * 3_600_000;
const LIMITS = [256 * MiB, 768 * MiB, 2 * GiB, 8 * GiB];

function variants(): Array<{ spec: ScenarioSpec; seed: number }> {
  const out: Array<{ spec: ScenarioSpec; seed: number }> = [];
  LIMITS.forEach((limit, i) => {
    for (const base of demoSpecs(limit)) {
      for (const seed of [1, 2, 3]) {
        out.push({
          spec: { ...base, sidecar: (seed + i) % 2 === 0, id: `${base.id}@${limit / MiB}Mi#${seed}` },
          seed: seed * 7919 + i,
        });
      }
    }
  });
  return out;
}

describe('the labelled corpus', () => {
  const cases = variants();
  it.each(cases.map((c) => [c.spec.id, c] as const))('classifies %s', async (_id, { spec, seed }) => {
    const scenario = generateScenario(spec, { now: NOW, windowMs: WINDOW, scrapeMs: 60_000, seed });
    const evidence = await scenarioEvidence(scenario, { start: NOW - WINDOW, end: NOW });
    const result = classify(evidence);
    expect(result.verdict).toBe(spec.expect.verdict);
    if (spec.expect.topCause) expect(result.causes[0]?.id).toBe(spec.expect.topCause);
    else expect(result.causes).toEqual([]);
  });
});
