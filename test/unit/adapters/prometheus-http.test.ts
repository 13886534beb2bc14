// The Prometheus HTTP client against a loopback server that fails the way Prometheus and the
// proxies in front of it do: each failure one line with its code, retried only where a retry can
// help, and no secret in any message.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SourceError } from '../../../src/adapters/errors';
import { PrometheusHttp } from '../../../src/adapters/prometheus-http';
import {
  plainPrometheusSettings,
  readPrometheusSettings,
  type PrometheusSettings,
} from '../../../src/config/prometheus';

const TOKEN = 'sha256~very-secret-token-0123456789';
const TENANT = 'tenant-secret-42';
const SUCCESS = { status: 'success', data: { resultType: 'matrix', result: [] } };

interface Seen {
  headers: http.IncomingHttpHeaders;
  body: string;
}
type Handler = (req: Seen, res: http.ServerResponse, count: number) => void;

let server: http.Server;
let url: string;
let handle: Handler;
let seen: Seen[];
let dir: string;

function json(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oomdoctor-prom-http-'));
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      handle(seen[seen.length - 1] as Seen, res, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  seen = [];
  handle = (_req, res) => json(res, 200, SUCCESS);
});

function settingsFrom(env: NodeJS.ProcessEnv): PrometheusSettings {
  const { settings, problems } = readPrometheusSettings({ PROMETHEUS_URL: url, ...env });
  expect(problems).toEqual([]);
  return settings as PrometheusSettings;
}

const client = (settings: PrometheusSettings = plainPrometheusSettings(url)) =>
  new PrometheusHttp(settings, { backoffMs: 1 });

const query = () => client().postForm('/api/v1/query_range', new URLSearchParams({ query: 'up' }));

/** The error a call fails with; checks it is a one-line prometheus SourceError with no secret in it. */
async function failure(call: Promise<unknown>): Promise<SourceError> {
  const error = await call.then(
    () => {
      throw new Error('the call succeeded');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  const e = error as SourceError;
  expect(e.source).toBe('prometheus');
  for (const text of [e.message, e.sentence]) {
    expect(text).not.toContain('\n');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(TENANT);
  }
  return e;
}

describe('what is sent', () => {
  it('the form, the extra headers and the bearer token', async () => {
    const answer = await client(
      settingsFrom({ PROMETHEUS_BEARER_TOKEN: TOKEN, PROMETHEUS_HEADERS: `X-Scope-OrgID: ${TENANT}` }),
    ).postForm('/api/v1/query_range', new URLSearchParams({ query: 'up' }));
    expect(answer).toEqual({ body: SUCCESS, warnings: [] });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.body).toBe('query=up');
    expect(seen[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen[0]?.headers['x-scope-orgid']).toBe(TENANT);
  });

  it('basic auth from a password file, read again when the file changes', async () => {
    const passwordFile = path.join(dir, 'password');
    fs.writeFileSync(passwordFile, 'first-password\n');
    const c = client(settingsFrom({ PROMETHEUS_USERNAME: '123456', PROMETHEUS_PASSWORD_FILE: passwordFile }));
    await c.postForm('/api/v1/query_range', new URLSearchParams());
    fs.writeFileSync(passwordFile, 'second-password-longer\n');
    await c.postForm('/api/v1/query_range', new URLSearchParams());
    const decoded = seen.map((s) =>
      Buffer.from(String(s.headers.authorization).replace(/^Basic /, ''), 'base64').toString(),
    );
    expect(decoded).toEqual(['123456:first-password', '123456:second-password-longer']);
  });

  it('a token file that disappears after start-up is its own line, not a connection error', async () => {
    const tokenFile = path.join(dir, 'vanishing-token');
    fs.writeFileSync(tokenFile, TOKEN);
    const settings = settingsFrom({ PROMETHEUS_BEARER_TOKEN_FILE: tokenFile });
    fs.rmSync(tokenFile);
    const e = await failure(client(settings).postForm('/api/v1/query_range', new URLSearchParams()));
    expect(e.code).toBe('config');
    expect(e.message).toBe(
      `prometheus: cannot read the credentials in PROMETHEUS_BEARER_TOKEN_FILE=${JSON.stringify(tokenFile)}: it no longer exists`,
    );
    expect(seen).toHaveLength(0);
  });
});

describe('each failure is one line with its code; only 5xx, time-outs and refused connections are retried', () => {
  it('401 without credentials: Prometheus refused the credentials; set PROMETHEUS_BEARER_TOKEN_FILE', async () => {
    handle = (_req, res) => {
      res.writeHead(401, { 'Content-Type': 'text/plain' });
      res.end('Unauthorized\n');
    };
    const e = await failure(query());
    expect(e.code).toBe('prometheus-unauthorized');
    expect(e.permanent).toBe(true);
    expect(e.sentence).toBe(
      `prometheus: Prometheus refused the credentials: HTTP 401 from ${url}/api/v1/query_range ("Unauthorized"), no credentials were sent; set PROMETHEUS_BEARER_TOKEN_FILE (or PROMETHEUS_BEARER_TOKEN, or PROMETHEUS_USERNAME with PROMETHEUS_PASSWORD_FILE; a tenant header such as X-Scope-OrgID with PROMETHEUS_HEADERS)`,
    );
    expect(seen).toHaveLength(1);
  });

  it('401 asking for Basic: says so', async () => {
    handle = (_req, res) => json(res, 401, {}, { 'WWW-Authenticate': 'Basic realm="prometheus"' });
    const e = await failure(query());
    expect(e.fix).toBe('it asks for basic auth: set PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD_FILE');
  });

  it('403 with a token: the token is named, never shown, even when the proxy echoes it', async () => {
    handle = (req, res) => {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end(`forbidden: ${String(req.headers.authorization)} may not get namespaces`);
    };
    const e = await failure(
      client(settingsFrom({ PROMETHEUS_BEARER_TOKEN: TOKEN })).postForm(
        '/api/v1/query_range',
        new URLSearchParams(),
      ),
    );
    expect(e.code).toBe('prometheus-unauthorized');
    expect(e.message).toContain('HTTP 403');
    expect(e.message).toContain('Bearer [redacted]');
    expect(e.message).toContain('the bearer token of PROMETHEUS_BEARER_TOKEN was sent');
    expect(e.fix).toMatch(/may not query: grant their identity read access .*cluster-monitoring-view/);
    expect(seen).toHaveLength(1);
  });

  it('401 with an Authorization header from PROMETHEUS_HEADERS: names the header, never its value', async () => {
    handle = (_req, res) => json(res, 401, { error: 'invalid token' });
    const e = await failure(
      client(settingsFrom({ PROMETHEUS_HEADERS: `Authorization: Bearer ${TOKEN}` })).postForm(
        '/api/v1/query_range',
        new URLSearchParams(),
      ),
    );
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(e.message).toContain('the Authorization header of PROMETHEUS_HEADERS was sent');
    expect(e.fix).toMatch(/^check the Authorization header in PROMETHEUS_HEADERS/);
  });

  it("400 with Prometheus' error body: the API's reason, not retried", async () => {
    handle = (_req, res) =>
      json(res, 400, {
        status: 'error',
        errorType: 'bad_data',
        error: 'invalid parameter "query": parse error',
      });
    const e = await failure(query());
    expect(e.code).toBe('prometheus-bad-query');
    expect(e.message).toBe(
      `prometheus: Prometheus refused the query at ${url}/api/v1/query_range (bad_data: invalid parameter "query": parse error)`,
    );
    expect(seen).toHaveLength(1);
  });

  it('404 from something that is not Prometheus: check the URL and its path prefix', async () => {
    handle = (_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<html><body>404 page not found</body></html>');
    };
    const e = await failure(query());
    expect(e.sentence).toBe(
      `prometheus: HTTP 404 from ${url}/api/v1/query_range: no Prometheus API at that path; check PROMETHEUS_URL; behind a path prefix, include it (https://host/prometheus)`,
    );
    expect(seen).toHaveLength(1);
  });

  it('429 is not retried', async () => {
    handle = (_req, res) => json(res, 429, {}, { 'Retry-After': '30' });
    const e = await failure(query());
    expect(e.message).toContain('HTTP 429');
    expect(seen).toHaveLength(1);
  });

  it('503 is retried twice, then says how many attempts', async () => {
    handle = (_req, res) => {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('Service Unavailable');
    };
    const e = await failure(query());
    expect(e.code).toBe('prometheus-server-error');
    expect(e.permanent).toBe(false);
    expect(e.sentence).toBe(
      `prometheus: HTTP 503 from ${url}/api/v1/query_range (3 attempts); Prometheus, or a proxy in front of it, is failing: try again in a minute`,
    );
    expect(seen).toHaveLength(3);
  });

  it('a 502 once, then an answer: the retry succeeds', async () => {
    handle = (_req, res, count) => (count === 1 ? json(res, 502, {}) : json(res, 200, SUCCESS));
    await expect(query()).resolves.toEqual({ body: SUCCESS, warnings: [] });
    expect(seen).toHaveLength(2);
  });

  it("Prometheus' own query time-out (503, errorType timeout) points at the window", async () => {
    handle = (_req, res) =>
      json(res, 503, { status: 'error', errorType: 'timeout', error: 'query timed out in query execution' });
    const e = await failure(query());
    expect(e.message).toContain('(timeout: query timed out in query execution)');
    expect(e.fix).toBe("the query ran past Prometheus' own --query.timeout: try a shorter --window");
  });

  it('no answer within the timeout: retried once, then names the setting', async () => {
    handle = () => undefined;
    const e = await failure(
      new PrometheusHttp(plainPrometheusSettings(url, 200), { backoffMs: 1 }).postForm(
        '/api/v1/query_range',
        new URLSearchParams(),
      ),
    );
    expect(e.code).toBe('prometheus-timeout');
    expect(e.sentence).toBe(
      `prometheus: no answer from ${url} within 200 ms (2 attempts); raise PROMETHEUS_TIMEOUT (now 200 ms), or try a shorter --window`,
    );
    expect(seen).toHaveLength(2);
  });

  it('a refused connection: retried twice', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let sleeps = 0;
    const e = await failure(
      new PrometheusHttp(plainPrometheusSettings(`http://127.0.0.1:${port}`), {
        backoffMs: 1,
        sleep: async () => {
          sleeps += 1;
        },
      }).postForm('/api/v1/query_range', new URLSearchParams()),
    );
    expect(e.code).toBe('prometheus-unreachable');
    expect(e.message).toBe(`prometheus: connection refused at http://127.0.0.1:${port} (3 attempts)`);
    expect(sleeps).toBe(2);
  });

  it('an HTML page with 200 (a login page): not the API, and what to set', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>Log in</title>');
    };
    const e = await failure(query());
    expect(e.sentence).toMatch(
      /answered with an HTML page, not the Prometheus API; if it is a login page, an auth proxy stands in front: set PROMETHEUS_BEARER_TOKEN_FILE/,
    );
  });

  it('a redirect (oauth-proxy) is not followed, and is explained', async () => {
    handle = (_req, res) => {
      res.writeHead(302, { Location: 'https://oauth.example/oauth/authorize?client_id=x&state=secret' });
      res.end();
    };
    const e = await failure(query());
    expect(e.code).toBe('prometheus-unauthorized');
    expect(e.message).toBe(
      `prometheus: ${url}/api/v1/query_range redirected (HTTP 302) to https://oauth.example/oauth/authorize, not a Prometheus answer`,
    );
    expect(seen).toHaveLength(1);
  });
});

describe('warnings and partial answers', () => {
  it('come back as lines, a partial answer called so', async () => {
    handle = (_req, res) =>
      json(res, 200, {
        ...SUCCESS,
        warnings: [
          'No StoreAPIs matched for this query',
          'receive-0: rpc error: code = Unavailable desc = partial response',
          `PromQL info: metric might not be a counter (${TENANT})`,
        ],
      });
    const answer = await client(settingsFrom({ PROMETHEUS_HEADERS: `X-Scope-OrgID: ${TENANT}` })).postForm(
      '/api/v1/query_range',
      new URLSearchParams(),
    );
    expect(answer.warnings).toEqual([
      `prometheus: the answer from ${url} is partial ("No StoreAPIs matched for this query"), so the memory history may have gaps`,
      `prometheus: the answer from ${url} is partial ("receive-0: rpc error: code = Unavailable desc = partial response"), so the memory history may have gaps`,
      `prometheus: ${url} warned "PromQL info: metric might not be a counter ([redacted])"`,
    ]);
  });
});
