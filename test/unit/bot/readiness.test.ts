// The readiness runner: results at hand after start, each problem logged once per change (not once
// per interval), a check that throws or hangs counted as a problem, and the gauge set for /metrics.
import pino from 'pino';
import { Writable } from 'node:stream';
import { metricsRegistry } from '../../../src/bot/metrics';
import { Readiness, type Check } from '../../../src/bot/readiness';

function recordingLogger() {
  const lines: Array<{ level: number; msg: string; check?: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

it('keeps the latest results and logs a problem once until it changes', async () => {
  let problems = ['Prometheus at http://p has no series named x: set OOMDOCTOR_METRIC_WORKING_SET'];
  const checks: Check[] = [
    { name: 'prometheus', run: async () => problems },
    { name: 'slack', run: async () => [] },
  ];
  const { logger, lines } = recordingLogger();
  const readiness = new Readiness(checks, logger, 60_000);
  await readiness.start();
  try {
    expect(readiness.results().prometheus).toMatchObject({ ok: false, problems });
    expect(readiness.results().slack).toMatchObject({ ok: true, problems: [] });
    await readiness.runAll();
    await settle();
    const errors = () => lines.filter((l) => l.level === 50);
    expect(errors().map((l) => l.msg)).toEqual(problems);
    const gauge = await metricsRegistry.getSingleMetricAsString('oomdoctor_readiness_check_up');
    expect(gauge).toMatch(/oomdoctor_readiness_check_up\{check="prometheus"\} 0/);
    expect(gauge).toMatch(/oomdoctor_readiness_check_up\{check="slack"\} 1/);

    problems = [];
    await readiness.runAll();
    await settle();
    expect(readiness.results().prometheus?.ok).toBe(true);
    expect(lines.some((l) => l.level === 30 && /prometheus check passes again/.test(l.msg))).toBe(true);
  } finally {
    readiness.stop();
  }
});

it('counts a check that throws or outlives its time as a problem, in one line', async () => {
  const { logger } = recordingLogger();
  const readiness = new Readiness(
    [
      { name: 'kubernetes', run: () => Promise.reject(new Error('boom\nsecond line')) },
      { name: 'slack', run: () => new Promise<string[]>(() => undefined) },
    ],
    logger,
    60_000,
    50,
  );
  await readiness.start();
  readiness.stop();
  expect(readiness.results().kubernetes?.problems).toEqual(['boom']);
  expect(readiness.results().slack?.problems).toEqual(['the slack check took longer than 0.05 s']);
});
