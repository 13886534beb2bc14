// Socket Mode in the fake Slack API: apps.connections.open hands out single-use tickets for a ws:// URL on
// the fake's own server; a client that connects gets `hello`, and envelopes go out and acks come back.

import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { isObject } from './wire';

export type SocketEnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface SocketAck {
  envelope_id: string;
  ackPayload?: unknown;
}

// ---------------------------------------------------------------------------
// `ws` (a transitive dependency, without type declarations here): the slice of its API the fake uses
// ---------------------------------------------------------------------------

type WsData = Buffer | ArrayBuffer | Buffer[];

interface WsSocket {
  readonly readyState: number;
  send(data: string, cb?: (err?: Error) => void): void;
  terminate(): void;
  on(event: 'message', listener: (data: WsData, isBinary: boolean) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

interface WsServer {
  handleUpgrade(
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (socket: WsSocket) => void,
  ): void;
  close(cb?: (err?: Error) => void): void;
}

interface WsModule {
  WebSocketServer: new (options: { noServer: true; clientTracking: boolean }) => WsServer;
}

const WS_OPEN = 1;

function loadWs(): WsModule {
  // Loaded on the first Socket Mode connection, so the HTTP side works without `ws`.
  return require('ws') as WsModule;
}

function wsDataToString(data: WsData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(data).toString('utf8');
}

interface PendingEnvelope {
  resolve: (ack: SocketAck) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class SocketModeHub {
  private readonly tickets = new Set<string>();
  private readonly sockets = new Set<WsSocket>();
  private readonly pendingEnvelopes = new Map<string, PendingEnvelope>();
  private wss: WsServer | undefined;
  private stopped = false;

  constructor(
    private readonly origin: string,
    private readonly appId: string,
  ) {}

  /** apps.connections.open's answer: a ws:// URL with a ticket that works once. */
  openConnectionUrl(): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    const wsOrigin = this.origin.replace(/^http/, 'ws');
    return `${wsOrigin}/socket-mode?ticket=${ticket}&app_id=${this.appId}`;
  }

  async sendEnvelope(
    envelope: { type: SocketEnvelopeType; payload: unknown },
    options: { ackTimeoutMs?: number } = {},
  ): Promise<SocketAck> {
    const open = (): WsSocket | undefined => [...this.sockets].find((s) => s.readyState === WS_OPEN);
    if (this.stopped) throw new Error('FakeSlackApi.sendSocketEnvelope: the fake is stopped');
    if (open() === undefined) {
      try {
        await waitUntil(() => open() !== undefined || this.stopped, 5000);
      } catch {
        throw new Error('FakeSlackApi.sendSocketEnvelope: no Socket Mode client connected');
      }
    }
    const socket = open();
    if (!socket || this.stopped)
      throw new Error(
        'FakeSlackApi.sendSocketEnvelope: no Socket Mode client connected (or the fake stopped)',
      );
    const envelopeId = randomUUID();
    const ackTimeoutMs = options.ackTimeoutMs ?? 3000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingEnvelopes.delete(envelopeId);
        reject(
          new Error(
            `FakeSlackApi.sendSocketEnvelope: no ack for ${envelope.type} envelope ${envelopeId} within ${ackTimeoutMs} ms`,
          ),
        );
      }, ackTimeoutMs);
      this.pendingEnvelopes.set(envelopeId, { resolve, reject, timer });
      const frame = {
        envelope_id: envelopeId,
        type: envelope.type,
        payload: envelope.payload,
        accepts_response_payload: true,
        retry_attempt: 0,
        retry_reason: '',
      };
      socket.send(JSON.stringify(frame), (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pendingEnvelopes.delete(envelopeId);
        reject(err);
      });
    });
  }

  /** Rejects pending envelopes and ends every socket: upgraded sockets are no longer the HTTP server's. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const [id, pending] of this.pendingEnvelopes) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`FakeSlackApi stopped before envelope ${id} was acknowledged`));
    }
    this.pendingEnvelopes.clear();
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
    const wss = this.wss;
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const ticket = url.searchParams.get('ticket');
    const refuse = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (this.stopped || url.pathname !== '/socket-mode') return refuse('404 Not Found');
    if (ticket === null || !this.tickets.delete(ticket)) return refuse('401 Unauthorized'); // tickets are single-use
    let ws: WsModule;
    try {
      ws = loadWs();
    } catch {
      return refuse('501 Not Implemented'); // `ws` is not installed
    }
    this.wss ??= new ws.WebSocketServer({ noServer: true, clientTracking: false });
    this.wss.handleUpgrade(req, socket, head, (client) => this.onSocket(client));
  }

  private onSocket(socket: WsSocket): void {
    if (this.stopped) {
      socket.terminate();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => this.sockets.delete(socket));
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let frame: unknown;
      try {
        frame = JSON.parse(wsDataToString(data));
      } catch {
        return; // Slack ignores what it cannot parse
      }
      if (!isObject(frame) || typeof frame.envelope_id !== 'string') return;
      const pending = this.pendingEnvelopes.get(frame.envelope_id);
      if (!pending) return;
      this.pendingEnvelopes.delete(frame.envelope_id);
      clearTimeout(pending.timer);
      const ack: { envelope_id: string; ackPayload?: unknown } = { envelope_id: frame.envelope_id };
      if ('payload' in frame) ack.ackPayload = frame.payload;
      pending.resolve(ack);
    });
    const open = [...this.sockets].filter((s) => s.readyState === WS_OPEN).length;
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: open,
        debug_info: { host: 'fake' },
        connection_info: { app_id: this.appId },
      }),
    );
  }
}

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() >= deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}
