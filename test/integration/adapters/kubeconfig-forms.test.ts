// Every kubeconfig form kubectl accepts, against the fake API server over plain HTTP and real TLS:
// the reader gets the pod, and `oomdoctor diagnose` run as a process gets past authentication
// (exit 3 for a pod that is not there). Each unusable form is exit 4 and one line on stderr naming
// the kubeconfig, the context and the fix.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubernetesReader, loadKubeConfig } from '../../../src/adapters/kubernetes';
import { FakeKubeApi } from '../../fakes/kube-api';

const ROOT = resolve(__dirname, '..', '..', '..');
const POD = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: 'api-1', namespace: 'shop' },
  spec: { containers: [{ name: 'api', image: 'api:1' }] },
};

let dir: string;
let plain: FakeKubeApi;
let secure: FakeKubeApi;
let proxy: Server;
let proxyUrl: string;
let tunnels = 0;
const tunnelSockets = new Set<{ destroy(): void }>();

function file(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode });
  return path;
}

interface Form {
  server: string;
  cluster?: Record<string, string | boolean>;
  user: Record<string, unknown>;
  context?: string;
}

/** A kubeconfig of one cluster, one user and one context, as JSON (which is YAML). */
function kubeconfig(name: string, form: Form): string {
  const context = form.context ?? 'test';
  return file(
    name,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: form.server, ...form.cluster } }],
      users: [{ name: 'u', user: form.user }],
      contexts: [{ name: context, context: { cluster: 'c', user: 'u', namespace: 'shop' } }],
      'current-context': context,
    }),
  );
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `oomdoctor diagnose` as its own process, from the sources (compiled by swc, as jest does). */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done, reject) => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        join(ROOT, 'test', 'support', 'register-ts.js'),
        '-e',
        `process.argv.splice(1, 0, 'oomdoctor'); require(${JSON.stringify(join(ROOT, 'src', 'cli.ts'))}).main()`,
        ...args,
      ],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...env } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function readPod(path: string, options: { context?: string } = {}) {
  return new KubernetesReader(
    loadKubeConfig({ kubeconfig: path, ...options, env: { PATH: process.env.PATH ?? '' } }),
    { backoffMs: 10 },
  ).readPod('shop', 'api-1');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oomdoctor-kubeconfig-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) =>
    ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
  key('ca.key');
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca');
  const signed = (name: string, cn: string, ext: string) => {
    key(`${name}.key`);
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  };
  signed('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\n');
  signed('client', 'oncall-engineer', 'extendedKeyUsage=clientAuth\n');
  const read = (name: string) => readFileSync(join(dir, name));
  plain = await FakeKubeApi.start({ objects: [POD] });
  secure = await FakeKubeApi.start({
    objects: [POD],
    tls: { key: read('server.key'), cert: read('server.crt'), clientCa: read('ca.crt') },
  });
  // A CONNECT proxy, as corporate proxies and `proxy-url` tunnels are.
  proxy = createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req, socket) => {
    tunnels++;
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host ?? '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    tunnelSockets.add(socket).add(upstream);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await plain?.stop();
  await secure?.stop();
  for (const socket of tunnelSockets) socket.destroy();
  proxy?.closeAllConnections();
  await new Promise((done) => proxy?.close(done));
  rmSync(dir, { recursive: true, force: true });
});

describe('each form kubectl accepts', () => {
  it('talks plain HTTP to an http:// server without insecure-skip-tls-verify, as kubectl does', async () => {
    const path = kubeconfig('plain.yaml', { server: plain.url, user: { token: 'fake-token' } });
    expect((await readPod(path)).metadata.name).toBe('api-1');
    const run = await cli(['diagnose', 'shop/missing-pod', '--kubeconfig', path]);
    expect(run.stderr).toBe('oomdoctor: pod shop/missing-pod not found\n');
    expect(run.code).toBe(3);
  });

  it('verifies the server against a certificate-authority file', async () => {
    const path = kubeconfig('ca.yaml', {
      server: secure.url,
      cluster: { 'certificate-authority': 'ca.crt' }, // relative to the kubeconfig, as kubectl reads it
      user: { token: 'fake-token' },
    });
    expect((await readPod(path)).metadata.name).toBe('api-1');
    expect((await cli(['diagnose', 'shop/missing-pod', '--kubeconfig', path])).code).toBe(3);
  });

  it('refuses a server its CA did not sign, and says which setting to fix', async () => {
    const other = file('other-ca.crt', readFileSync(join(dir, 'client.crt'), 'utf8'));
    const path = kubeconfig('wrong-ca.yaml', {
      server: secure.url,
      cluster: { 'certificate-authority': other },
      user: { token: 'fake-token' },
    });
    await expect(readPod(path)).rejects.toMatchObject({ code: 'kube-unreachable', permanent: true });
    const run = await cli(['diagnose', 'shop/api-1', '--kubeconfig', path]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(
      /^oomdoctor: cannot verify the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ \(kubeconfig .*wrong-ca\.yaml, context "test"\).*certificate-authority/,
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('skips verification with insecure-skip-tls-verify', async () => {
    const path = kubeconfig('insecure.yaml', {
      server: secure.url,
      cluster: { 'insecure-skip-tls-verify': true },
      user: { token: 'fake-token' },
    });
    expect((await readPod(path)).metadata.name).toBe('api-1');
  });

  it('authenticates with a client certificate and key over TLS (no token)', async () => {
    const path = kubeconfig('cert.yaml', {
      server: secure.url,
      cluster: { 'certificate-authority': join(dir, 'ca.crt') },
      user: { 'client-certificate': join(dir, 'client.crt'), 'client-key': join(dir, 'client.key') },
    });
    expect((await readPod(path)).metadata.name).toBe('api-1');
    expect(secure.requests.at(-1)?.headers.authorization).toBeUndefined();
    expect((await cli(['diagnose', 'shop/missing-pod', '--kubeconfig', path])).code).toBe(3);
  });

  it('reads a token file, trims it, and re-reads it when it is rotated', async () => {
    const tokenFile = file('token', 'fake-token\n');
    const path = kubeconfig('token-file.yaml', { server: plain.url, user: { 'token-file': tokenFile } });
    const reader = new KubernetesReader(loadKubeConfig({ kubeconfig: path }), { maxTries: 1 });
    expect((await reader.readPod('shop', 'api-1')).metadata.name).toBe('api-1');
    try {
      plain.setToken('rotated-token-2');
      await expect(reader.readPod('shop', 'api-1')).rejects.toMatchObject({ code: 'kube-unauthorized' });
      writeFileSync(tokenFile, 'rotated-token-2\n');
      expect((await reader.readPod('shop', 'api-1')).metadata.name).toBe('api-1');
      expect(plain.requests.at(-1)?.headers.authorization).toBe('Bearer rotated-token-2');
    } finally {
      plain.setToken('fake-token');
    }
  });

  it('runs an exec credential plugin (as aws eks get-token or kubelogin do)', async () => {
    const plugin = file(
      'get-token',
      '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"fake-token"}}\'\n',
      0o700,
    );
    const path = kubeconfig('exec.yaml', {
      server: plain.url,
      user: {
        exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, args: ['--cluster', 'c'] },
      },
    });
    expect((await readPod(path)).metadata.name).toBe('api-1');
    expect((await cli(['diagnose', 'shop/missing-pod', '--kubeconfig', path])).code).toBe(3);
  });

  it('goes through proxy-url (a CONNECT proxy), over TLS', async () => {
    const before = tunnels;
    const path = kubeconfig('proxy.yaml', {
      server: secure.url,
      cluster: { 'certificate-authority': join(dir, 'ca.crt'), 'proxy-url': proxyUrl },
      user: { token: 'fake-token' },
    });
    expect((await readPod(path)).metadata.name).toBe('api-1');
    expect(tunnels).toBeGreaterThan(before);
  });

  it('uses the in-cluster service account, and its rotated token', async () => {
    const root = join(dir, 'pod-root');
    const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    execFileSync('mkdir', ['-p', sa]);
    writeFileSync(join(sa, 'token'), 'fake-token');
    writeFileSync(join(sa, 'ca.crt'), readFileSync(join(dir, 'ca.crt')));
    writeFileSync(join(sa, 'namespace'), 'oomdoctor');
    const port = new URL(secure.url).port;
    const env = {
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: port,
      HOME: join(dir, 'no-home'),
    };
    const kc = loadKubeConfig({ env, inClusterRoot: root });
    expect(kc.source).toBe('in-cluster service account');
    const reader = new KubernetesReader(kc, { maxTries: 1 });
    expect((await reader.readPod('shop', 'api-1')).metadata.name).toBe('api-1');
    try {
      secure.setToken('projected-token-2');
      writeFileSync(join(sa, 'token'), 'projected-token-2');
      expect((await reader.readPod('shop', 'api-1')).metadata.name).toBe('api-1');
    } finally {
      secure.setToken('fake-token');
    }
  });
});

describe('an unusable kubeconfig is one line, exit 4, naming the kubeconfig, the context and the fix', () => {
  const cases: Array<[string, () => string[], RegExp]> = [
    [
      'a kubeconfig that does not exist',
      () => ['--kubeconfig', join(dir, 'nowhere.yaml')],
      /^oomdoctor: the kubeconfig .*nowhere\.yaml does not exist; check the path/,
    ],
    [
      'a context it does not have',
      () => [
        '--kubeconfig',
        kubeconfig('ctx.yaml', { server: plain.url, user: { token: 'x' } }),
        '--context',
        'prod',
      ],
      /^oomdoctor: kubeconfig .*ctx\.yaml: no context "prod" \(it has: test\); pass one of those with --context or KUBE_CONTEXT/,
    ],
    [
      'a CA file that is missing',
      () => [
        '--kubeconfig',
        kubeconfig('noca.yaml', {
          server: secure.url,
          cluster: { 'certificate-authority': 'gone.crt' },
          user: { token: 'x' },
        }),
      ],
      /^oomdoctor: kubeconfig .*noca\.yaml, context "test": the certificate-authority file .*gone\.crt cannot be read \(ENOENT\); fix certificate-authority/,
    ],
    [
      'an exec plugin that is not installed',
      () => [
        '--kubeconfig',
        kubeconfig('noplugin.yaml', {
          server: plain.url,
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: 'oomdoctor-test-absent-auth-plugin',
            },
          },
        }),
      ],
      /^oomdoctor: kubeconfig .*noplugin\.yaml, context "test": the credential plugin "oomdoctor-test-absent-auth-plugin" .* not installed or not on PATH; install it/,
    ],
    [
      'an exec plugin that fails',
      () => [
        '--kubeconfig',
        kubeconfig('badplugin.yaml', {
          server: plain.url,
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: file(
                'expired',
                '#!/bin/sh\necho "error: the SSO session has expired" >&2\nexit 1\n',
                0o700,
              ),
            },
          },
        }),
      ],
      /^oomdoctor: kubeconfig .*badplugin\.yaml, context "test": the credential plugin ".*expired" failed: error: the SSO session has expired; run/,
    ],
    [
      'a token the server refuses',
      () => ['--kubeconfig', kubeconfig('badtoken.yaml', { server: plain.url, user: { token: 'stale' } })],
      /^oomdoctor: the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ \(kubeconfig .*badtoken\.yaml, context "test"\) refused the credentials \(401 Unauthorized\); check the kubeconfig's user/,
    ],
    [
      'no kubeconfig at all',
      () => [],
      /^oomdoctor: no kubeconfig found: .*; set KUBECONFIG or pass --kubeconfig/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const run = await cli(['diagnose', 'shop/api-1', ...args()]);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/this is a bug/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.code).toBe(4);
  });
});
