// The Prometheus settings parser: what each variable and flag becomes, one line per bad setting,
// and no secret in any line.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  plainPrometheusSettings,
  PROMETHEUS_FLAGS,
  PROMETHEUS_VARIABLES,
  readPrometheusSettings,
  splitHeaderList,
  type PrometheusFlagValues,
} from '../../../src/config/prometheus';
import { BOT_ENVIRONMENT, ConfigError, readBotConfig } from '../../../src/config/bot';
import { HELP } from '../../../src/cli';
import { REQUIRED_BOT_ENV } from './bot-env';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.secret-token-value.sig';
const PASSWORD = 'glc_password-value-42';
const TENANT_SECRET = 'tenant-key-9f8e7d';
const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

let dir: string;
const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oomdoctor-prom-settings-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function problems(env: NodeJS.ProcessEnv, flags: PrometheusFlagValues = {}): string[] {
  const result = readPrometheusSettings(env, flags);
  expect(result.settings).toBeNull();
  expect(result.problems.length).toBeGreaterThan(0);
  for (const line of result.problems) {
    expect(line).not.toContain('\n');
    for (const secret of [TOKEN, PASSWORD, TENANT_SECRET]) expect(line).not.toContain(secret);
  }
  return result.problems;
}

function onlyProblem(env: NodeJS.ProcessEnv, flags: PrometheusFlagValues = {}): string {
  const found = problems(env, flags);
  expect(found).toHaveLength(1);
  return found[0] as string;
}

const URL_ENV = { PROMETHEUS_URL: 'https://thanos-querier.openshift-monitoring.svc:9091/' };

describe('what the settings become', () => {
  it('nothing set: no Prometheus, and no problem', () => {
    expect(readPrometheusSettings({})).toEqual({ settings: null, problems: [] });
  });

  it('a bare URL: no credentials, the 10 s timeout, the trailing slash dropped', () => {
    const { settings, problems: found } = readPrometheusSettings({ PROMETHEUS_URL: 'http://prom:9090/' });
    expect(found).toEqual([]);
    expect(settings).toEqual({
      ...plainPrometheusSettings('http://prom:9090'),
      sources: { url: 'PROMETHEUS_URL' },
    });
    expect(settings?.timeoutMs).toBe(10_000);
  });

  it('every variable at once (the OpenShift case plus a tenant header and a client certificate)', () => {
    const tokenFile = file('token', `${TOKEN}\n`);
    const ca = file('ca.crt', PEM_CERT);
    const cert = file('client.crt', PEM_CERT);
    const key = file('client.key', PEM_KEY);
    const { settings, problems: found } = readPrometheusSettings({
      ...URL_ENV,
      PROMETHEUS_BEARER_TOKEN_FILE: tokenFile,
      PROMETHEUS_HEADERS: 'X-Scope-OrgID: team-a\nX-Extra: a, b',
      PROMETHEUS_CA_FILE: ca,
      PROMETHEUS_CLIENT_CERT_FILE: cert,
      PROMETHEUS_CLIENT_KEY_FILE: key,
      PROMETHEUS_TIMEOUT: '45s',
    });
    expect(found).toEqual([]);
    expect(settings).toMatchObject({
      url: 'https://thanos-querier.openshift-monitoring.svc:9091',
      auth: { kind: 'bearer-file', file: tokenFile },
      headers: [
        { name: 'X-Scope-OrgID', value: 'team-a' },
        { name: 'X-Extra', value: 'a, b' },
      ],
      tls: { caFile: ca, clientCertFile: cert, clientKeyFile: key, insecureSkipVerify: false },
      timeoutMs: 45_000,
    });
    // The token itself is read when a request is made, never kept in the settings.
    expect(JSON.stringify(settings)).not.toContain(TOKEN);
  });

  it('basic auth with a password file, and a literal bearer token', () => {
    const passwordFile = file('password', PASSWORD);
    expect(
      readPrometheusSettings({
        PROMETHEUS_URL: 'https://prometheus-prod-01.grafana.net/api/prom',
        PROMETHEUS_USERNAME: '123456',
        PROMETHEUS_PASSWORD_FILE: passwordFile,
      }).settings?.auth,
    ).toEqual({ kind: 'basic-file', username: '123456', passwordFile });
    expect(readPrometheusSettings({ ...URL_ENV, PROMETHEUS_BEARER_TOKEN: TOKEN }).settings?.auth).toEqual({
      kind: 'bearer',
      token: TOKEN,
    });
  });

  it('user:password in the URL becomes basic auth and leaves the URL, which stays printable', () => {
    const { settings } = readPrometheusSettings({
      PROMETHEUS_URL: `https://me:${PASSWORD}@vm.example:8428/`,
    });
    expect(settings?.url).toBe('https://vm.example:8428');
    expect(settings?.auth).toEqual({ kind: 'basic', username: 'me', password: PASSWORD });
    expect(plainPrometheusSettings(`http://me:${PASSWORD}@vm:8428`).url).toBe('http://vm:8428');
  });

  it('flags win over the variables, setting by setting; --prometheus-header replaces PROMETHEUS_HEADERS', () => {
    const tokenFile = file('flag-token', TOKEN);
    const { settings, problems: found } = readPrometheusSettings(
      { ...URL_ENV, PROMETHEUS_HEADERS: 'X-Scope-OrgID: from-env', PROMETHEUS_TIMEOUT: '20s' },
      {
        url: 'https://flag.example:9091',
        bearerTokenFile: tokenFile,
        headers: ['X-Scope-OrgID: team-b', 'X-Other: 1'],
        insecureSkipVerify: true,
      },
    );
    expect(found).toEqual([]);
    expect(settings?.url).toBe('https://flag.example:9091');
    expect(settings?.headers).toEqual([
      { name: 'X-Scope-OrgID', value: 'team-b' },
      { name: 'X-Other', value: '1' },
    ]);
    expect(settings?.timeoutMs).toBe(20_000);
    expect(settings?.tls.insecureSkipVerify).toBe(true);
    expect(settings?.sources).toMatchObject({
      url: '--prometheus-url',
      bearerTokenFile: '--prometheus-bearer-token-file',
      headers: '--prometheus-header',
      timeout: 'PROMETHEUS_TIMEOUT',
    });
  });

  it('splits a header list on lines, and on commas only where a new Name: starts', () => {
    expect(splitHeaderList('A: 1, B: 2\nC: x, y,z\n\n')).toEqual(['A: 1', 'B: 2', 'C: x, y,z']);
  });
});

describe('one clear line per bad setting', () => {
  it.each<[string, NodeJS.ProcessEnv, RegExp]>([
    [
      'a URL that is not http(s)',
      { PROMETHEUS_URL: 'prometheus:9090' },
      /PROMETHEUS_URL .* must be an http\(s\) URL/,
    ],
    [
      'a header without a colon',
      { ...URL_ENV, PROMETHEUS_HEADERS: `X-Scope-OrgID ${TENANT_SECRET}` },
      /PROMETHEUS_HEADERS entry 1 has no colon: write Name: value/,
    ],
    [
      'a header name with a space',
      { ...URL_ENV, PROMETHEUS_HEADERS: `X Scope: ${TENANT_SECRET}` },
      /"X Scope" is not a valid header name/,
    ],
    [
      'a header the client sets itself',
      { ...URL_ENV, PROMETHEUS_HEADERS: 'Host: other.example' },
      /Host is set by the HTTP client itself/,
    ],
    [
      'a header with no value',
      { ...URL_ENV, PROMETHEUS_HEADERS: 'X-Scope-OrgID:' },
      /X-Scope-OrgID has an empty value/,
    ],
    [
      'a header given twice',
      { ...URL_ENV, PROMETHEUS_HEADERS: `X-Key: ${TENANT_SECRET}\nx-key: ${TENANT_SECRET}` },
      /entry 2: x-key is given twice/,
    ],
    [
      'an Authorization header next to a token',
      { ...URL_ENV, PROMETHEUS_BEARER_TOKEN: TOKEN, PROMETHEUS_HEADERS: `Authorization: Bearer ${TOKEN}` },
      /an Authorization header and PROMETHEUS_BEARER_TOKEN are both set/,
    ],
    [
      'a token and a token file',
      { ...URL_ENV, PROMETHEUS_BEARER_TOKEN: TOKEN, PROMETHEUS_BEARER_TOKEN_FILE: '/nonexistent' },
      /PROMETHEUS_BEARER_TOKEN and PROMETHEUS_BEARER_TOKEN_FILE are both set/,
    ],
    [
      'a token and a user name',
      { ...URL_ENV, PROMETHEUS_BEARER_TOKEN: TOKEN, PROMETHEUS_USERNAME: 'me' },
      /PROMETHEUS_BEARER_TOKEN and PROMETHEUS_USERNAME are both set: .* keep one/,
    ],
    [
      'a password file without a user name',
      { ...URL_ENV, PROMETHEUS_PASSWORD_FILE: '/tmp/x' },
      /PROMETHEUS_PASSWORD_FILE is set without PROMETHEUS_USERNAME: basic auth needs both/,
    ],
    [
      'a user name without a password file',
      { ...URL_ENV, PROMETHEUS_USERNAME: 'me' },
      /PROMETHEUS_USERNAME is set without PROMETHEUS_PASSWORD_FILE/,
    ],
    [
      'a token with a line break inside',
      { ...URL_ENV, PROMETHEUS_BEARER_TOKEN: `${TOKEN}\nX-Injected: 1` },
      /PROMETHEUS_BEARER_TOKEN holds a space, line break or non-ASCII character/,
    ],
    [
      'a token file that does not exist',
      { ...URL_ENV, PROMETHEUS_BEARER_TOKEN_FILE: '/nonexistent/token' },
      /PROMETHEUS_BEARER_TOKEN_FILE="\/nonexistent\/token" does not exist: mount the file there, or correct the path/,
    ],
    ['a timeout that is not a duration', { ...URL_ENV, PROMETHEUS_TIMEOUT: 'soon' }, /^PROMETHEUS_TIMEOUT: /],
    [
      'a timeout out of range',
      { ...URL_ENV, PROMETHEUS_TIMEOUT: '2h' },
      /PROMETHEUS_TIMEOUT "2h" must be from 1s to 10m/,
    ],
    [
      'a skip-verify that is not a boolean',
      { ...URL_ENV, PROMETHEUS_INSECURE_SKIP_VERIFY: 'maybe' },
      /PROMETHEUS_INSECURE_SKIP_VERIFY "maybe" must be true or false/,
    ],
    [
      'settings without a URL',
      { PROMETHEUS_BEARER_TOKEN: TOKEN, PROMETHEUS_TIMEOUT: '30s' },
      /PROMETHEUS_BEARER_TOKEN, PROMETHEUS_TIMEOUT set, but no Prometheus URL: set PROMETHEUS_URL/,
    ],
  ])('%s', (_label, env, expected) => {
    expect(onlyProblem(env)).toMatch(expected);
  });

  it('files: a directory, an empty token, a CA and a key that are not PEM', () => {
    const empty = file('empty-token', ' \n');
    const notPem = file('not-pem', 'hello');
    expect(onlyProblem({ ...URL_ENV, PROMETHEUS_BEARER_TOKEN_FILE: dir })).toMatch(
      /is a directory: name the file inside it/,
    );
    expect(onlyProblem({ ...URL_ENV, PROMETHEUS_BEARER_TOKEN_FILE: empty })).toMatch(
      /is empty: it should hold the token/,
    );
    expect(onlyProblem({ ...URL_ENV, PROMETHEUS_CA_FILE: notPem })).toMatch(
      /PROMETHEUS_CA_FILE=".*not-pem" holds no PEM certificate/,
    );
    const cert = file('c.crt', PEM_CERT);
    expect(
      onlyProblem({ ...URL_ENV, PROMETHEUS_CLIENT_CERT_FILE: cert, PROMETHEUS_CLIENT_KEY_FILE: notPem }),
    ).toMatch(/PROMETHEUS_CLIENT_KEY_FILE=".*" holds no PEM private key/);
  });

  it('a password file that holds two lines is refused without showing them', () => {
    const twoLines = file('two-lines', `${PASSWORD}\nsecond-line-${PASSWORD}\n`);
    expect(
      onlyProblem({ ...URL_ENV, PROMETHEUS_USERNAME: 'me', PROMETHEUS_PASSWORD_FILE: twoLines }),
    ).toMatch(/holds a line break .* one token or password, on one line/);
  });

  it('TLS: a certificate without its key, a CA with skip-verify, TLS options on http://', () => {
    const cert = file('only.crt', PEM_CERT);
    expect(onlyProblem({ ...URL_ENV, PROMETHEUS_CLIENT_CERT_FILE: cert })).toMatch(
      /PROMETHEUS_CLIENT_CERT_FILE is set without PROMETHEUS_CLIENT_KEY_FILE/,
    );
    expect(
      onlyProblem({ ...URL_ENV, PROMETHEUS_CA_FILE: cert, PROMETHEUS_INSECURE_SKIP_VERIFY: 'true' }),
    ).toMatch(/PROMETHEUS_CA_FILE and PROMETHEUS_INSECURE_SKIP_VERIFY are both set/);
    expect(onlyProblem({ PROMETHEUS_URL: 'http://prom:9090', PROMETHEUS_CA_FILE: cert })).toMatch(
      /PROMETHEUS_CA_FILE set, but PROMETHEUS_URL is http:\/\/: TLS settings apply to https:\/\/ only/,
    );
  });

  it('a bad URL carrying a password does not show the password', () => {
    expect(onlyProblem({ PROMETHEUS_URL: `ftp://me:${PASSWORD}@host` })).toMatch(/"ftp:\/\/…@host" must be/);
  });

  it('names the flag, not the variable, when the flag was given', () => {
    expect(onlyProblem({}, { url: 'https://p:9091', caFile: '/nonexistent/ca.crt' })).toMatch(
      /^--prometheus-ca-file="\/nonexistent\/ca.crt" does not exist/,
    );
    expect(onlyProblem({}, { url: 'https://p:9091', headers: ['no colon here'] })).toMatch(
      /^--prometheus-header number 1 has no colon/,
    );
  });

  it('reports every problem at once', () => {
    expect(
      problems({
        ...URL_ENV,
        PROMETHEUS_USERNAME: 'me',
        PROMETHEUS_HEADERS: 'bad',
        PROMETHEUS_TIMEOUT: '0s',
        PROMETHEUS_INSECURE_SKIP_VERIFY: 'perhaps',
      }),
    ).toHaveLength(4);
  });
});

describe('the bot reads them at start-up', () => {
  const BOT_ENV = REQUIRED_BOT_ENV;

  it('keeps the settings, and the URL without its password', () => {
    const config = readBotConfig({
      ...BOT_ENV,
      PROMETHEUS_URL: `https://me:${PASSWORD}@vm.example:8428/`,
      PROMETHEUS_HEADERS: 'X-Scope-OrgID: team-a',
    });
    expect(config.prometheusUrl).toBe('https://vm.example:8428');
    expect(config.prometheus?.auth).toEqual({ kind: 'basic', username: 'me', password: PASSWORD });
    expect(config.prometheus?.headers).toEqual([{ name: 'X-Scope-OrgID', value: 'team-a' }]);
  });

  it('each bad Prometheus setting is one of the problems it stops with', () => {
    let error: unknown;
    try {
      readBotConfig({
        ...BOT_ENV,
        PROMETHEUS_URL: 'https://prom:9091',
        PROMETHEUS_HEADERS: `X-Scope-OrgID ${TENANT_SECRET}`,
        PROMETHEUS_BEARER_TOKEN_FILE: '/nonexistent/token',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const found = (error as ConfigError).problems;
    expect(found).toEqual([
      'PROMETHEUS_BEARER_TOKEN_FILE="/nonexistent/token" does not exist: mount the file there, or correct the path',
      'PROMETHEUS_HEADERS entry 1 has no colon: write Name: value, as in X-Scope-OrgID: team-a',
    ]);
    expect((error as Error).message).not.toContain(TENANT_SECRET);
  });

  it('lists every variable among those the bot reads', () => {
    for (const variable of Object.values(PROMETHEUS_VARIABLES)) expect(BOT_ENVIRONMENT).toContain(variable);
  });
});

describe('documented where people look', () => {
  it('--help lists every flag, and the README every variable and flag', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    for (const flag of Object.values(PROMETHEUS_FLAGS)) {
      expect(HELP).toContain(flag);
      expect(readme).toContain(flag);
    }
    for (const variable of Object.values(PROMETHEUS_VARIABLES)) expect(readme).toContain(variable);
  });
});
