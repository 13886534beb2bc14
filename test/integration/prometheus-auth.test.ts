// Reaching the Prometheus people really run: a real Prometheus behind a local HTTPS proxy with a
// certificate from a CA made for the test. The proxy demands each credential form and header in
// turn; each setting is shown necessary (refused without it, with the clear line) and sufficient;
// a token file rewritten between two diagnoses is read again. (The CLI process: prometheus-auth-cli.test.ts.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SourceError } from '../../src/adapters/errors';
import { PrometheusSource } from '../../src/adapters/prometheus';
import { readPrometheusSettings, type PrometheusSettings } from '../../src/config/prometheus';
import type { MetricsEvidence } from '../../src/core/types';
import {
  allGates,
  basicGate,
  bearerGate,
  headerGate,
  startAuthProxy,
  type AuthProxy,
} from '../support/auth-proxy';
import { demoSpecs, type Scenario } from '../support/scenarios';
import { makeTempDir, sleep, type TempDir } from '../support/services';
import { startSimulatedCluster, type SimulatedCluster } from '../support/simulated-cluster';
import { makeTestPki, type TestPki } from '../support/test-pki';

const HOUR = 3_600_000;
const TOKEN_1 = 'sha256~first-service-account-token-AAAA';
const TOKEN_2 = 'sha256~rotated-service-account-token-BBBBBBBB';
const PASSWORD = 'glc_eyJvIjoiMTIzNDU2In0-grafana-cloud-key';
const TENANT = 'team-a';
const SECRETS = [TOKEN_1, TOKEN_2, PASSWORD];

let tmp: TempDir;
let pki: TestPki;
let cluster: SimulatedCluster;
let scenario: Scenario;
let proxy: AuthProxy;
let mtlsProxy: AuthProxy;

beforeAll(async () => {
  tmp = makeTempDir('oomdoctor-prometheus-auth');
  pki = makeTestPki(tmp.path);
  const spec = demoSpecs().find((s) => s.id === 'limit-too-small');
  if (!spec) throw new Error('no limit-too-small scenario');
  cluster = await startSimulatedCluster({ specs: [spec], windowMs: 6 * HOUR });
  scenario = cluster.scenarios[0] as Scenario;
  const tls = { key: pki.read(pki.serverKey), cert: pki.read(pki.serverCert) };
  proxy = await startAuthProxy({ upstream: cluster.prometheus.url, ...tls });
  mtlsProxy = await startAuthProxy({
    upstream: cluster.prometheus.url,
    ...tls,
    clientCa: pki.read(pki.caCert),
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([proxy?.stop(), mtlsProxy?.stop(), cluster?.stop()]);
  await tmp?.remove();
});

beforeEach(() => {
  proxy.reset();
  mtlsProxy.reset();
});

function file(name: string, text: string): string {
  const p = path.join(tmp.path, name);
  fs.writeFileSync(p, text);
  return p;
}

function settings(env: NodeJS.ProcessEnv, url = proxy.url): PrometheusSettings {
  const read = readPrometheusSettings({ PROMETHEUS_URL: url, ...env });
  expect(read.problems).toEqual([]);
  return read.settings as PrometheusSettings;
}

/** One diagnosis' memory history, read through the proxy with these settings. */
function history(env: NodeJS.ProcessEnv, url = proxy.url): Promise<MetricsEvidence> {
  const s = settings(env, url);
  const window = { start: new Date(cluster.now - 6 * HOUR), end: new Date(cluster.now) };
  return new PrometheusSource({ url: s.url, settings: s, backoffMs: 20 }).history(scenario.target, window);
}

async function read(env: NodeJS.ProcessEnv, url = proxy.url): Promise<void> {
  const h = await history(env, url);
  expect(h.source).toBe('prometheus');
  expect(h.workingSet.length).toBeGreaterThan(100);
  expect(h.limitBytes).toBe(scenario.spec.limit);
}

/** The failure of one read: a one-line prometheus SourceError with no secret in it. */
async function refused(env: NodeJS.ProcessEnv, url = proxy.url): Promise<SourceError> {
  const error = await history(env, url).then(
    () => new Error('the read went through'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  const e = error as SourceError;
  for (const text of [e.message, e.sentence]) {
    expect(text).not.toContain('\n');
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  }
  return e;
}

const CA = () => ({ PROMETHEUS_CA_FILE: pki.caCert });

describe('TLS: the CA file, or skip-verify', () => {
  it('without a CA file the certificate cannot be verified, and the line says which setting fixes it', async () => {
    const e = await refused({});
    expect(e.code).toBe('prometheus-tls');
    expect(e.sentence).toMatch(
      new RegExp(
        `^prometheus: cannot verify the TLS certificate of ${proxy.url} \\([A-Z_]+\\); set PROMETHEUS_CA_FILE to the CA that signed it \\(inside OpenShift: /var/run/secrets/kubernetes.io/serviceaccount/service-ca.crt\\), or PROMETHEUS_INSECURE_SKIP_VERIFY=true`,
      ),
    );
    expect(proxy.requests).toHaveLength(0);
  });

  it('the wrong CA is refused too, naming the file', async () => {
    const e = await refused({ PROMETHEUS_CA_FILE: pki.otherCaCert });
    expect(e.code).toBe('prometheus-tls');
    expect(e.fix).toContain(`not signed by the CA in PROMETHEUS_CA_FILE=${JSON.stringify(pki.otherCaCert)}`);
  });

  it('the right CA file is enough', async () => {
    await read(CA());
    expect(proxy.requests).toHaveLength(1); // the working set and its context in one query
  });

  it('so is skip-verify', async () => {
    await read({ PROMETHEUS_INSECURE_SKIP_VERIFY: 'true' });
  });
});

describe('credentials and headers, each demanded in turn', () => {
  it('a bearer token: refused without it or with another, read with it, sent as is', async () => {
    proxy.gate = bearerGate(() => [TOKEN_1]);
    const none = await refused(CA());
    expect(none.code).toBe('prometheus-unauthorized');
    expect(none.sentence).toBe(
      `prometheus: Prometheus refused the credentials: HTTP 401 from ${proxy.url}/api/v1/query_range ("Unauthorized"), no credentials were sent; set PROMETHEUS_BEARER_TOKEN_FILE (or PROMETHEUS_BEARER_TOKEN, or PROMETHEUS_USERNAME with PROMETHEUS_PASSWORD_FILE; a tenant header such as X-Scope-OrgID with PROMETHEUS_HEADERS)`,
    );
    await sleep(300); // longer than any retry's backoff: none comes, a 401 is never retried
    expect(proxy.requests).toHaveLength(1); // the one query, not retried

    const wrong = await refused({ ...CA(), PROMETHEUS_BEARER_TOKEN: TOKEN_2 });
    expect(wrong.message).toContain('the bearer token of PROMETHEUS_BEARER_TOKEN was sent');

    await sleep(300);
    proxy.reset();
    proxy.gate = bearerGate(() => [TOKEN_1]);
    await read({ ...CA(), PROMETHEUS_BEARER_TOKEN: TOKEN_1 });
    expect(proxy.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${TOKEN_1}`]);
  });

  it('a token file, rewritten between two diagnoses (a rotated service-account token): the second uses the new token', async () => {
    let accepted = [TOKEN_1];
    proxy.gate = bearerGate(() => accepted);
    const tokenFile = file('token', `${TOKEN_1}\n`);
    const env = { ...CA(), PROMETHEUS_BEARER_TOKEN_FILE: tokenFile };
    const s = settings(env);
    const source = new PrometheusSource({ url: s.url, settings: s, backoffMs: 20 });
    const window = { start: new Date(cluster.now - 6 * HOUR), end: new Date(cluster.now) };

    expect((await source.history(scenario.target, window)).workingSet.length).toBeGreaterThan(100);
    // The server moves to the new token: the old one is refused, and the line names the file.
    accepted = [TOKEN_2];
    const stale = await source.history(scenario.target, window).then(
      () => null,
      (e: unknown) => e as SourceError,
    );
    expect(stale?.code).toBe('prometheus-unauthorized');
    expect(stale?.message).toContain(
      `the bearer token in PROMETHEUS_BEARER_TOKEN_FILE=${JSON.stringify(tokenFile)} was sent`,
    );
    expect(stale?.message).not.toContain(TOKEN_1);
    await sleep(300); // longer than any retry's backoff: the refused read is not retried
    expect(proxy.requests.map((r) => r.headers.authorization)).toEqual(Array(2).fill(`Bearer ${TOKEN_1}`));

    fs.writeFileSync(tokenFile, `${TOKEN_2}\n`);
    expect((await source.history(scenario.target, window)).workingSet.length).toBeGreaterThan(100);
    expect(proxy.requests.slice(2).map((r) => r.headers.authorization)).toEqual([`Bearer ${TOKEN_2}`]);
  });

  it('basic auth with a password file (Grafana Cloud): refused without, told it asks for basic auth; read with it', async () => {
    proxy.gate = basicGate('123456', PASSWORD);
    const none = await refused(CA());
    expect(none.code).toBe('prometheus-unauthorized');
    expect(none.fix).toBe('it asks for basic auth: set PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD_FILE');

    const wrongPassword = file('wrong-password', 'not-it\n');
    const wrong = await refused({
      ...CA(),
      PROMETHEUS_USERNAME: '123456',
      PROMETHEUS_PASSWORD_FILE: wrongPassword,
    });
    expect(wrong.message).toContain(
      'basic auth as "123456" (PROMETHEUS_USERNAME, PROMETHEUS_PASSWORD_FILE) was sent',
    );

    await read({
      ...CA(),
      PROMETHEUS_USERNAME: '123456',
      PROMETHEUS_PASSWORD_FILE: file('password', `${PASSWORD}\n`),
    });
  });

  it("a tenant header (Mimir's X-Scope-OrgID): refused without it with the server's words, read with it", async () => {
    proxy.gate = headerGate('X-Scope-OrgID', TENANT);
    const none = await refused(CA());
    expect(none.code).toBe('prometheus-unauthorized');
    expect(none.message).toContain('("no org id")');
    expect(none.fix).toContain('a tenant header such as X-Scope-OrgID with PROMETHEUS_HEADERS');

    await read({ ...CA(), PROMETHEUS_HEADERS: `X-Scope-OrgID: ${TENANT}` });
    expect(proxy.requests.at(-1)?.headers['x-scope-orgid']).toBe(TENANT);
  });

  it('a header and a token together: each one necessary', async () => {
    proxy.gate = allGates(
      bearerGate(() => [TOKEN_1]),
      headerGate('X-Scope-OrgID', TENANT),
    );
    await refused({ ...CA(), PROMETHEUS_BEARER_TOKEN: TOKEN_1 });
    await refused({ ...CA(), PROMETHEUS_HEADERS: `X-Scope-OrgID: ${TENANT}` });
    await read({ ...CA(), PROMETHEUS_BEARER_TOKEN: TOKEN_1, PROMETHEUS_HEADERS: `X-Scope-OrgID: ${TENANT}` });
  });

  it('a client certificate (mutual TLS): the handshake fails without it, saying which settings to set; read with it', async () => {
    const none = await refused(CA(), mtlsProxy.url);
    expect(none.code).toBe('prometheus-tls');
    expect(none.fix).toBe('it asks for one: set PROMETHEUS_CLIENT_CERT_FILE and PROMETHEUS_CLIENT_KEY_FILE');
    expect(mtlsProxy.requests).toHaveLength(0);

    await read(
      { ...CA(), PROMETHEUS_CLIENT_CERT_FILE: pki.clientCert, PROMETHEUS_CLIENT_KEY_FILE: pki.clientKey },
      mtlsProxy.url,
    );
    expect(mtlsProxy.requests.map((r) => r.clientCertCn)).toEqual(['oomdoctor']);
  });
});

describe('TLS files renewed while running (cert-manager, a rotated CA bundle)', () => {
  it('a CA file and a client certificate rewritten in place are read again by the same source', async () => {
    const caFile = file('rotating-ca.crt', fs.readFileSync(pki.otherCaCert, 'utf8'));
    const certFile = file('rotating-client.crt', fs.readFileSync(pki.otherCaCert, 'utf8'));
    const keyFile = file('rotating-client.key', fs.readFileSync(path.join(pki.dir, 'other-ca.key'), 'utf8'));
    const s = settings(
      {
        PROMETHEUS_CA_FILE: caFile,
        PROMETHEUS_CLIENT_CERT_FILE: certFile,
        PROMETHEUS_CLIENT_KEY_FILE: keyFile,
      },
      mtlsProxy.url,
    );
    const source = new PrometheusSource({ url: s.url, settings: s, backoffMs: 20 });
    const window = { start: new Date(cluster.now - 6 * HOUR), end: new Date(cluster.now) };
    const failure = () =>
      source.history(scenario.target, window).then(
        () => null,
        (e: unknown) => e as SourceError,
      );

    expect((await failure())?.code).toBe('prometheus-tls'); // the wrong CA
    fs.writeFileSync(caFile, fs.readFileSync(pki.caCert));
    const refusedCert = await failure(); // the right CA, a certificate the server does not trust
    // Depending on when the server's alert arrives, a refused handshake or a reset: both name the file.
    expect(refusedCert?.code).toMatch(/^prometheus-(tls|unreachable)$/);
    expect(refusedCert?.fix).toMatch(/not trust the (certificate|one) in PROMETHEUS_CLIENT_CERT_FILE/);
    fs.writeFileSync(certFile, fs.readFileSync(pki.clientCert));
    fs.writeFileSync(keyFile, fs.readFileSync(pki.clientKey));
    expect((await source.history(scenario.target, window)).workingSet.length).toBeGreaterThan(100);
    expect(mtlsProxy.requests.map((r) => r.clientCertCn)).toEqual(['oomdoctor']);
  });
});

describe('what Prometheus (or what is in front of it) does wrong, each in its own line', () => {
  it('a partial answer (warnings, as Thanos sends them) is read, and said', async () => {
    proxy.rewrite = (body) =>
      JSON.stringify({
        ...(JSON.parse(body) as object),
        warnings: ['store 10.0.0.7:10901 unavailable: partial response'],
      });
    const h = await history(CA());
    expect(h.workingSet.length).toBeGreaterThan(100);
    expect(h.caveats).toEqual([
      `prometheus: the answer from ${proxy.url} is partial ("store 10.0.0.7:10901 unavailable: partial response"), so the memory history may have gaps`,
    ]);
  });

  it('a 502 once is retried and the read goes through; a lasting 503 is said after three attempts', async () => {
    proxy.gate = (_req, count) => (count === 1 ? { status: 502, body: 'Bad Gateway\n' } : null);
    await read(CA());
    expect(proxy.requests).toHaveLength(2); // the 502, then its retry

    proxy.reset();
    proxy.gate = () => ({ status: 503, body: 'upstream connect error\n' });
    const e = await refused(CA());
    expect(e.code).toBe('prometheus-server-error');
    expect(e.message).toBe(`prometheus: HTTP 503 from ${proxy.url}/api/v1/query_range (3 attempts)`);
  });

  it('slower than PROMETHEUS_TIMEOUT: retried once, then names the setting', async () => {
    proxy.delayMs = 2_500;
    const e = await refused({ ...CA(), PROMETHEUS_TIMEOUT: '1s' });
    expect(e.code).toBe('prometheus-timeout');
    expect(e.sentence).toBe(
      `prometheus: no answer from ${proxy.url} within 1 s (2 attempts); raise PROMETHEUS_TIMEOUT (now 1 s), or try a shorter --window`,
    );
  });
});
