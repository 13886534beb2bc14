// The impersonating HTTP client over real TLS: a loopback HTTPS server with a certificate from a CA
// made for the test, a kubeconfig that trusts only that CA (no insecure-skip-tls-verify), and a
// patch sent as a mapped identity. It must verify the server, carry the bearer token, and send one
// Impersonate-Group line per group.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubernetesWriter } from '../../../src/adapters/kubernetes-writer';

let dir: string;
let server: Server;
let url: string;
const seen: Array<{ method: string; path: string; headers: IncomingMessage['headers']; raw: string[] }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oomdoctor-tls-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=oomdoctor-test-ca',
  );
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
  server = createServer(
    { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')) },
    (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          raw: req.rawHeaders,
        });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Deployment',
            apiVersion: 'apps/v1',
            metadata: { name: 'api', namespace: 'shop', generation: 5 },
            spec: JSON.parse(body || '{}').spec ?? {},
          }),
        );
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function kubeconfig(ca: Buffer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'tls', server: url, caData: ca.toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'bot', token: 'bot-token' }],
    contexts: [{ name: 'tls', cluster: 'tls', user: 'bot' }],
    currentContext: 'tls',
  });
  return kc;
}

it('sends an impersonated dry-run patch over verified TLS, one Impersonate-Group line per group', async () => {
  const writer = new KubernetesWriter(kubeconfig(readFileSync(join(dir, 'ca.crt'))));
  const patch = {
    spec: {
      template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '768Mi' } } }] } },
    },
  };
  const result = await writer.patch({ kind: 'Deployment', namespace: 'shop', name: 'api' }, patch, {
    dryRun: true,
    as: { user: 'alice@example.com', groups: ['sre', 'oncall'] },
  });
  expect(result.metadata?.generation).toBe(5);
  const request = seen[seen.length - 1];
  expect(request?.method).toBe('PATCH');
  expect(request?.path).toContain('/apis/apps/v1/namespaces/shop/deployments/api');
  expect(request?.path).toContain('dryRun=All');
  expect(request?.headers.authorization).toBe('Bearer bot-token');
  expect(request?.headers['content-type']).toBe('application/strategic-merge-patch+json');
  expect(request?.headers['impersonate-user']).toBe('alice@example.com');
  const groupLines = [];
  for (let i = 0; i < (request?.raw.length ?? 0); i += 2)
    if (request?.raw[i]?.toLowerCase() === 'impersonate-group') groupLines.push(request.raw[i + 1]);
  expect(groupLines).toEqual(['sre', 'oncall']);
});

it('refuses a server whose certificate the kubeconfig does not trust', async () => {
  // A CA that did not sign the server's certificate.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'other.key',
      '-out',
      'other.crt',
      '-days',
      '1',
      '-subj',
      '/CN=other-ca',
    ],
    { cwd: dir, stdio: 'pipe' },
  );
  const writer = new KubernetesWriter(kubeconfig(readFileSync(join(dir, 'other.crt'))));
  const before = seen.length;
  await expect(
    writer.patch(
      { kind: 'Deployment', namespace: 'shop', name: 'api' },
      { spec: {} },
      { dryRun: true, as: { user: 'alice@example.com', groups: [] } },
    ),
  ).rejects.toThrow();
  expect(seen.length).toBe(before);
});
