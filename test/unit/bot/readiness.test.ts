// The readiness runner: results at hand after start, each problem logged once per change (not once
// per interval), a check that throws or hangs counted as a problem, and the gauge set for /metrics.
import pino from 'pino';
import { Writable } from 'node:stream';
import { metricsRegistry } from '../../../src/bot/metrics';
import { Readiness, verifySlackAppToken, type Check } from '../../../src/bot/readiness';
import { FakeSlackApi } from '../../fakes/slack/server';

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

describe("Socket Mode's app-level token, checked once at start-up", () => {
  let fake: FakeSlackApi;
  beforeAll(async () => {
    fake = await FakeSlackApi.start({ appToken: 'xapp-1-A0TEST-good' });
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('a token Slack accepts', async () => {
    expect(await verifySlackAppToken('xapp-1-A0TEST-good', fake.url)).toEqual({ ok: true });
  });

  it('a token Slack refuses: refused, with what to do', async () => {
    expect(await verifySlackAppToken('xapp-1-A0TEST-revoked', fake.url)).toEqual({
      ok: false,
      refused: true,
      problem: `Slack refused SLACK_APP_TOKEN (invalid_auth): create an app-level token (xapp-…) with the connections:write scope on the app's "Basic Information" page, and set it again`,
    });
  });

  it('a Slack that cannot be reached: not a refusal (start-up goes on and says why)', async () => {
    const answer = await verifySlackAppToken('xapp-1-A0TEST-good', 'http://127.0.0.1:9/api/');
    expect(answer).toEqual({
      ok: false,
      refused: false,
      problem: expect.stringMatching(
        /^cannot reach Slack at http:\/\/127\.0\.0\.1:9\/api\/ to check SLACK_APP_TOKEN/,
      ),
    });
  });
});
