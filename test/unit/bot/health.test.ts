import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { healthz, readyz, type ReadinessCheck } from '../../../handlers/health';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1, on a free port, routing exact paths to the handlers under test. */
async function serve(routes: Record<string, Handler>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const handler = routes[(req.url ?? '').split('?')[0] ?? ''];
    if (handler) return handler(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function get(url: string): Promise<{ status: number; type: string | null; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
}

/** A readiness check whose answer the test sets, counting its calls. */
function check(
  name: string,
  answer: boolean | Error = true,
): ReadinessCheck & { calls: number; answer: boolean | Error } {
  const c = {
    name,
    calls: 0,
    answer,
    check: async () => {
      c.calls += 1;
      if (c.answer instanceof Error) throw c.answer;
      return c.answer;
    },
  };
  return c;
}

let server: Server | undefined;

afterEach(async () => {
  if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
  server = undefined;
});

describe('GET /healthz', () => {
  it('answers 200 with JSON while the process is up, whatever the dependencies say', async () => {
    const failing = check('redis', false);
    const s = await serve({ '/healthz': healthz(), '/readyz': readyz([failing]) });
    server = s.server;
    const res = await get(`${s.url}/healthz`);
    expect(res).toEqual({ status: 200, type: 'application/json', body: { status: 'ok' } });
    expect(failing.calls).toBe(0);
  });
});

describe('GET /readyz', () => {
  it('answers 200 with every check when all pass', async () => {
    const checks = [check('queue'), check('store'), check('slack')];
    const s = await serve({ '/readyz': readyz(checks, 0) });
    server = s.server;
    expect(await get(`${s.url}/readyz`)).toEqual({
      status: 200,
      type: 'application/json',
      body: { status: 'ready', checks: { queue: true, store: true, slack: true } },
    });
    expect(checks.map((c) => c.calls)).toEqual([1, 1, 1]);
  });

  it('answers 503 naming the failing check', async () => {
    const s = await serve({ '/readyz': readyz([check('queue'), check('slack', false)], 0) });
    server = s.server;
    const res = await get(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.type).toBe('application/json');
    expect(res.body).toEqual({ status: 'not ready', checks: { queue: true, slack: false } });
  });

  it('counts a check that throws as failing, and still answers', async () => {
    const s = await serve({
      '/readyz': readyz([check('store', new Error('ECONNREFUSED')), check('slack')], 0),
    });
    server = s.server;
    const res = await get(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'not ready', checks: { store: false, slack: true } });
  });

  it('answers 200 when there is nothing to check', async () => {
    const s = await serve({ '/readyz': readyz([], 0) });
    server = s.server;
    expect((await get(`${s.url}/readyz`)).status).toBe(200);
  });

  it('caches the answer for cacheMs, then asks the checks again', async () => {
    const slack = check('slack');
    const queue = check('queue');
    const s = await serve({ '/readyz': readyz([queue, slack], 300) });
    server = s.server;

    expect((await get(`${s.url}/readyz`)).status).toBe(200);
    expect((await get(`${s.url}/readyz`)).status).toBe(200);
    expect((await get(`${s.url}/readyz`)).status).toBe(200);
    expect([queue.calls, slack.calls]).toEqual([1, 1]);

    // Slack goes away: the cached answer stands until it is older than cacheMs.
    slack.answer = false;
    expect((await get(`${s.url}/readyz`)).status).toBe(200);
    expect(slack.calls).toBe(1);
    await sleep(350);
    const res = await get(`${s.url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'not ready', checks: { queue: true, slack: false } });
    expect([queue.calls, slack.calls]).toEqual([2, 2]);

    // A failure is cached too, and recovery shows once the cache runs out.
    slack.answer = true;
    expect((await get(`${s.url}/readyz`)).status).toBe(503);
    await sleep(350);
    expect((await get(`${s.url}/readyz`)).status).toBe(200);
    expect(slack.calls).toBe(3);
  });

  it('with cacheMs 0 asks the checks on every probe', async () => {
    const c = check('queue');
    const s = await serve({ '/readyz': readyz([c], 0) });
    server = s.server;
    await get(`${s.url}/readyz`);
    await sleep(2);
    await get(`${s.url}/readyz`);
    expect(c.calls).toBe(2);
  });

  it('runs the checks in parallel, so one slow check does not add up with the others', async () => {
    const slow = (name: string): ReadinessCheck => ({ name, check: () => sleep(150).then(() => true) });
    const s = await serve({ '/readyz': readyz([slow('a'), slow('b'), slow('c')], 0) });
    server = s.server;
    const started = Date.now();
    expect((await get(`${s.url}/readyz`)).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(400);
  });
});
