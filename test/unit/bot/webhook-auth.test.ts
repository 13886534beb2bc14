import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { alertmanagerWebhook, bearerMatches, readBody } from '../../../handlers/alertmanager-webhook';
import { readBotConfig } from '../../../src/config/bot';
import { MemoryJobQueue } from '../../../src/bot/queue';

const TOKEN = '6f1c2a9e0b7d4e3f8a5c1d2e3f4a5b6c';

describe('bearerMatches', () => {
  it('accepts the exact token', () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
  });

  it('refuses a wrong token of the same length', () => {
    expect(bearerMatches(`Bearer ${TOKEN.slice(0, -1)}0`, TOKEN)).toBe(false);
  });

  it('refuses a longer token that starts with the right one, and a shorter prefix of it', () => {
    expect(bearerMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer ${TOKEN}${TOKEN}`, TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer ${TOKEN.slice(0, 16)}`, TOKEN)).toBe(false);
  });

  it('refuses another scheme carrying the right secret', () => {
    expect(bearerMatches(`Basic ${TOKEN}`, TOKEN)).toBe(false);
    expect(bearerMatches(`Token ${TOKEN}`, TOKEN)).toBe(false);
    expect(bearerMatches(TOKEN, TOKEN)).toBe(false);
    expect(bearerMatches(`Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`, TOKEN)).toBe(false);
  });

  it('refuses a missing or empty header', () => {
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    expect(bearerMatches('', TOKEN)).toBe(false);
    expect(bearerMatches('Bearer ', TOKEN)).toBe(false);
    expect(bearerMatches('Bearer', TOKEN)).toBe(false);
  });

  it('refuses the token with extra whitespace or a second line around it', () => {
    expect(bearerMatches(`Bearer  ${TOKEN}`, TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer ${TOKEN} `, TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer x\nBearer ${TOKEN}`, TOKEN)).toBe(false);
  });

  it('compares bytes, so a look-alike token of the same string length does not pass or throw', () => {
    const lookalike = `${TOKEN.slice(0, -1)}é`; // same length in characters, one byte longer in UTF-8
    expect(() => bearerMatches(`Bearer ${lookalike}`, TOKEN)).not.toThrow();
    expect(bearerMatches(`Bearer ${lookalike}`, TOKEN)).toBe(false);
  });
});

/** A real server whose handler reads the body with `limit` and reports what readBody did. */
async function bodyServer(
  limit: number,
): Promise<{ server: Server; port: number; outcome: Promise<{ body?: Buffer; error?: unknown }> }> {
  let settle!: (value: { body?: Buffer; error?: unknown }) => void;
  const outcome = new Promise<{ body?: Buffer; error?: unknown }>((resolve) => {
    settle = resolve;
  });
  const server = createServer((req: IncomingMessage, res) => {
    readBody(req, limit).then(
      (body) => {
        settle({ body });
        res.writeHead(200).end(String(body.length));
      },
      (error: unknown) => {
        settle({ error });
        if (!res.headersSent) res.writeHead(413).end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, outcome };
}

/** Sends a POST, in chunks, and resolves with the status or the socket error (a reset is fine here). */
function post(
  port: number,
  chunks: Buffer[],
  headers: Record<string, string> = {},
): Promise<{ status?: number; text?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/alertmanager', headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', (e) => resolve({ error: e.message }));
      },
    );
    req.on('error', (e) => resolve({ error: e.message }));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('readBody', () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
  });

  it('returns the whole body, across chunks, up to the limit', async () => {
    const s = await bodyServer(1000);
    server = s.server;
    const reply = await post(s.port, [
      Buffer.alloc(400, 'a'),
      Buffer.alloc(400, 'b'),
      Buffer.alloc(200, 'c'),
    ]);
    const { body, error } = await s.outcome;
    expect(error).toBeUndefined();
    expect(body?.length).toBe(1000);
    expect(body?.toString()).toBe(`${'a'.repeat(400)}${'b'.repeat(400)}${'c'.repeat(200)}`);
    expect(reply).toEqual({ status: 200, text: '1000' });
  });

  it('returns an empty body', async () => {
    const s = await bodyServer(10);
    server = s.server;
    await post(s.port, []);
    expect((await s.outcome).body?.length).toBe(0);
  });

  it('rejects with a 413 error object one byte past the limit', async () => {
    const s = await bodyServer(1000);
    server = s.server;
    await post(s.port, [Buffer.alloc(1001, 'x')]);
    const { body, error } = await s.outcome;
    expect(body).toBeUndefined();
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ status: 413, message: 'body too large' });
  });

  it('rejects a large body sent in many chunks without buffering it all', async () => {
    const s = await bodyServer(64 * 1024);
    server = s.server;
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(16 * 1024, 'y')); // 1 MiB
    await post(s.port, chunks);
    expect((await s.outcome).error).toMatchObject({ status: 413 });
  });
});

describe('POST /alertmanager authentication (the handler using bearerMatches)', () => {
  const config = readBotConfig({
    SLACK_BOT_TOKEN: 'xoxb-1-2-3',
    SLACK_SIGNING_SECRET: 'secret',
    SLACK_ALERT_CHANNEL: 'C0123ABCD',
    ALERTMANAGER_TOKEN: TOKEN,
  });
  let server: Server;
  let port: number;
  let queue: MemoryJobQueue;
  const body = Buffer.from(
    JSON.stringify({
      version: '4',
      groupKey: 'g',
      status: 'firing',
      receiver: 'r',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'ContainerOOMKilled', namespace: 'shop', pod: 'api-1' },
          startsAt: '2026-01-01T00:00:00Z',
        },
      ],
    }),
  );

  beforeEach(async () => {
    queue = new MemoryJobQueue(10);
    server = createServer(alertmanagerWebhook({ config, queue, logger: pino({ level: 'silent' }) }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await queue.close();
  });

  it.each([
    ['no header', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token-at-all-000000' }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
  ])('answers 401 with a hint and queues nothing for %s', async (_name, auth) => {
    const add = jest.spyOn(queue, 'add');
    const reply = await post(port, [body], { 'content-type': 'application/json', ...auth });
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.text ?? '{}').error).toMatch(/ALERTMANAGER_TOKEN/);
    expect(add).not.toHaveBeenCalled();
  });

  it('accepts the right token and queues the group', async () => {
    const add = jest.spyOn(queue, 'add');
    const reply = await post(port, [body], {
      'content-type': 'application/json',
      authorization: `Bearer ${TOKEN}`,
    });
    expect(reply.status).toBe(200);
    expect(add).toHaveBeenCalledTimes(1);
    expect(JSON.parse(reply.text ?? '{}')).toMatchObject({ queued: 1, duplicate: false });
  });
});
