// `oomdoctor diagnose` as a process against a real Prometheus behind a local HTTPS proxy that asks for
// a token and a tenant header: exit codes, the refusal in `missing`, the flags winning over the
// variables, a bad setting as exit 2 in one line, and no secret anywhere in the output.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Diagnosis } from '../../src/core/types';
import { allGates, bearerGate, headerGate, startAuthProxy, type AuthProxy } from '../support/auth-proxy';
import { cliCommand } from '../support/cli-process';
import { demoSpecs, type Scenario } from '../support/scenarios';
import { makeTempDir, type TempDir } from '../support/services';
import { startSimulatedCluster, type SimulatedCluster } from '../support/simulated-cluster';
import { makeTestPki, type TestPki } from '../support/test-pki';

const HOUR = 3_600_000;
const TOKEN_1 = 'sha256~first-service-account-token-AAAA';
const TENANT = 'team-a';
const SECRETS = [TOKEN_1];

let tmp: TempDir;
let pki: TestPki;
let cluster: SimulatedCluster;
let scenario: Scenario;
let proxy: AuthProxy;

beforeAll(async () => {
  tmp = makeTempDir('oomdoctor-prometheus-auth-cli');
  pki = makeTestPki(tmp.path);
  const spec = demoSpecs().find((s) => s.id === 'limit-too-small');
  if (!spec) throw new Error('no limit-too-small scenario');
  cluster = await startSimulatedCluster({ specs: [spec], windowMs: 6 * HOUR });
  scenario = cluster.scenarios[0] as Scenario;
  proxy = await startAuthProxy({
    upstream: cluster.prometheus.url,
    key: pki.read(pki.serverKey),
    cert: pki.read(pki.serverCert),
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([proxy?.stop(), cluster?.stop()]);
  await tmp?.remove();
});

beforeEach(() => proxy.reset());

function file(name: string, text: string): string {
  const p = path.join(tmp.path, name);
  fs.writeFileSync(p, text);
  return p;
}

describe('oomdoctor diagnose, as a process, against the proxy', () => {
  function diagnose(args: string[], env: NodeJS.ProcessEnv = {}) {
    return cliCommand(
      [
        'diagnose',
        `${scenario.target.namespace}/${scenario.target.pod}`,
        '--json',
        '--kubeconfig',
        cluster.kubeconfigPath,
        ...args,
      ],
      { HOME: tmp.path, ...env },
    );
  }

  it('refused credentials: exit 0, the refusal in `missing`, no secret anywhere; with the flags: the history', async () => {
    proxy.gate = allGates(
      bearerGate(() => [TOKEN_1]),
      headerGate('X-Scope-OrgID', TENANT),
    );
    const tokenFile = file('cli-token', `${TOKEN_1}\n`);

    const without = await diagnose(['--prometheus-url', proxy.url, '--prometheus-ca-file', pki.caCert]);
    expect(without.code).toBe(0);
    const d1 = JSON.parse(without.stdout) as Diagnosis;
    expect(d1.missing).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^prometheus: Prometheus refused the credentials: HTTP 401 .*no credentials were sent; set PROMETHEUS_BEARER_TOKEN_FILE/,
        ),
      ]),
    );
    expect(d1.series.points.length).toBeLessThanOrEqual(1);

    const withFlags = await diagnose(
      [
        '--prometheus-url',
        proxy.url,
        '--prometheus-ca-file',
        pki.caCert,
        '--prometheus-bearer-token-file',
        tokenFile,
        '--prometheus-header',
        `X-Scope-OrgID: ${TENANT}`,
      ],
      // The variable loses to the flag: this wrong tenant is never sent.
      { PROMETHEUS_HEADERS: 'X-Scope-OrgID: someone-else' },
    );
    expect(withFlags.code).toBe(0);
    const d2 = JSON.parse(withFlags.stdout) as Diagnosis;
    expect(d2.missing.filter((m) => m.startsWith('prometheus: '))).toEqual([]);
    expect(d2.series.points.length).toBeGreaterThan(100);
    for (const run of [without, withFlags])
      for (const secret of SECRETS) {
        expect(run.stdout).not.toContain(secret);
        expect(run.stderr).not.toContain(secret);
      }
  });

  it('the same settings from the environment; a bad one is exit 2 in one line', async () => {
    proxy.gate = bearerGate(() => [TOKEN_1]);
    const ok = await diagnose([], {
      PROMETHEUS_URL: proxy.url,
      PROMETHEUS_CA_FILE: pki.caCert,
      PROMETHEUS_BEARER_TOKEN: TOKEN_1,
    });
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as Diagnosis).series.points.length).toBeGreaterThan(100);

    const bad = await diagnose(
      ['--prometheus-url', proxy.url, '--prometheus-header', `X-Scope-OrgID ${TENANT}`],
      {
        PROMETHEUS_BEARER_TOKEN: TOKEN_1,
        PROMETHEUS_CA_FILE: '/nonexistent/ca.crt',
      },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      'oomdoctor: --prometheus-header number 1 has no colon: write Name: value, as in X-Scope-OrgID: team-a; PROMETHEUS_CA_FILE="/nonexistent/ca.crt" does not exist: mount the file there, or correct the path',
    ]);
    expect(bad.stdout + bad.stderr).not.toContain(TOKEN_1);
  });
});
