// A small HTTPS reverse proxy in front of a real Prometheus, standing in for what people put there
// (kube-rbac-proxy, oauth-proxy, Mimir's gateway, a cloud's front door): it demands credentials or
// headers through a `gate` the test sets, can require a client certificate, and can delay, fail or
// rewrite answers. Loopback only; stop() closes it.
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The client certificate's subject CN, when one was presented and verified. */
  clientCertCn: string | null;
}

/** What the proxy answers instead of forwarding; null lets the request through. */
export interface Refusal {
  status: number;
  body: string;
  headers?: http.OutgoingHttpHeaders;
}

export type Gate = (request: ProxiedRequest, count: number) => Refusal | null;

export interface AuthProxy {
  url: string;
  /** Every request that reached the proxy, refused or not. */
  requests: ProxiedRequest[];
  gate: Gate;
  /** Holds each request this long before answering (a slow Prometheus). */
  delayMs: number;
  /** Rewrites a forwarded answer's body (a Thanos that adds warnings). */
  rewrite: ((body: string) => string) | null;
  /** Back to letting everything through, with no delay, rewrite or recorded request. */
  reset(): void;
  stop(): Promise<void>;
}

export interface AuthProxyOptions {
  upstream: string;
  key: Buffer;
  cert: Buffer;
  /** With a CA, the TLS handshake demands a client certificate signed by it. */
  clientCa?: Buffer;
}

const letThrough: Gate = () => null;

/** Asks for `Authorization: Bearer <token>`, as kube-rbac-proxy does; `tokens` is read at each request. */
export function bearerGate(tokens: () => string[]): Gate {
  return (request) =>
    tokens().some((t) => request.headers.authorization === `Bearer ${t}`)
      ? null
      : { status: 401, body: 'Unauthorized\n', headers: { 'Content-Type': 'text/plain' } };
}

/** Asks for basic auth with a challenge, as nginx does in front of Prometheus or VictoriaMetrics. */
export function basicGate(username: string, password: string): Gate {
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  return (request) =>
    request.headers.authorization === expected
      ? null
      : {
          status: 401,
          body: '<html><body><h1>401 Authorization Required</h1></body></html>',
          headers: { 'Content-Type': 'text/html', 'WWW-Authenticate': 'Basic realm="prometheus"' },
        };
}

/** Asks for a header, as Mimir and Cortex ask for X-Scope-OrgID ("no org id" otherwise). */
export function headerGate(name: string, value: string): Gate {
  return (request) =>
    request.headers[name.toLowerCase()] === value
      ? null
      : { status: 401, body: 'no org id\n', headers: { 'Content-Type': 'text/plain' } };
}

/** Every gate must let the request through. */
export function allGates(...gates: Gate[]): Gate {
  return (request, count) => {
    for (const gate of gates) {
      const refusal = gate(request, count);
      if (refusal) return refusal;
    }
    return null;
  };
}

export async function startAuthProxy(options: AuthProxyOptions): Promise<AuthProxy> {
  const upstream = new URL(options.upstream);
  const proxy: AuthProxy = {
    url: '',
    requests: [],
    gate: letThrough,
    delayMs: 0,
    rewrite: null,
    reset() {
      proxy.requests.length = 0;
      proxy.gate = letThrough;
      proxy.delayMs = 0;
      proxy.rewrite = null;
    },
    stop: async () => undefined,
  };
  const timers = new Set<NodeJS.Timeout>();

  const server = https.createServer(
    {
      key: options.key,
      cert: options.cert,
      ...(options.clientCa ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate?.();
        const request: ProxiedRequest = {
          method: req.method ?? '',
          path: req.url ?? '/',
          headers: req.headers,
          clientCertCn: peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : null,
        };
        proxy.requests.push(request);
        const answer = () => {
          const refusal = proxy.gate(request, proxy.requests.length);
          if (refusal) {
            res.writeHead(refusal.status, refusal.headers ?? {});
            res.end(refusal.body);
            return;
          }
          forward(req, Buffer.concat(chunks), res);
        };
        if (proxy.delayMs > 0) {
          const timer = setTimeout(() => {
            timers.delete(timer);
            if (!res.destroyed) answer();
          }, proxy.delayMs);
          timers.add(timer);
        } else answer();
      });
    },
  );

  function forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    // Plain bodies from upstream, so that `rewrite` can read them.
    const { 'accept-encoding': _encoding, ...rest } = req.headers;
    const headers = { ...rest, host: upstream.host };
    const outgoing = http.request(
      { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (upstreamRes) => {
        const parts: Buffer[] = [];
        upstreamRes.on('data', (c: Buffer) => parts.push(c));
        upstreamRes.on('end', () => {
          let text = Buffer.concat(parts).toString('utf8');
          if (proxy.rewrite) text = proxy.rewrite(text);
          res.writeHead(upstreamRes.statusCode ?? 502, {
            'Content-Type': upstreamRes.headers['content-type'] ?? 'application/json',
            'Content-Length': Buffer.byteLength(text),
          });
          res.end(text);
        });
      },
    );
    outgoing.on('error', () => {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end('Bad Gateway\n');
    });
    outgoing.end(body);
  }

  // A refused client certificate fails the handshake; that is the point, not a test failure.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = async () => {
    for (const timer of timers) clearTimeout(timer);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
