// A throwaway redis-server (Debian's 7.0) on a free 127.0.0.1 port, no persistence.

import * as net from 'node:net';
import * as path from 'node:path';
import {
  ensureDebianPackages,
  makeTempDir,
  requireBinary,
  sleep,
  startProcess,
  withFreePortRetry,
  type ManagedProcess,
} from './services';

export interface RunningRedis {
  /** redis://127.0.0.1:PORT */
  url: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

export const REDIS_PACKAGES = [{ pkg: 'redis-server', binary: 'redis-server' }];

/** Sends one RESP PING over a raw socket; resolves with the first reply line (e.g. "+PONG"). */
export function redisPing(host: string, port: number, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host, port });
    let buffer = '';
    const finish = (err: Error | undefined, line?: string): void => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      if (err) reject(err);
      else resolve(line ?? '');
    };
    socket.setTimeout(timeoutMs, () =>
      finish(new Error(`no PING reply from ${host}:${port} within ${timeoutMs} ms`)),
    );
    socket.on('error', (err) => finish(err));
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      const end = buffer.indexOf('\r\n');
      if (end >= 0) finish(undefined, buffer.slice(0, end));
    });
    socket.on('close', () => finish(new Error(`connection to ${host}:${port} closed before a PING reply`)));
  });
}

async function waitForPong(
  host: string,
  port: number,
  proc: ManagedProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: string;
  let delay = 20;
  for (;;) {
    if (proc.hasExited()) throw proc.startupError('exited before answering PING');
    try {
      const reply = await redisPing(host, port, Math.max(100, Math.min(1000, deadline - Date.now())));
      if (reply === '+PONG') return;
      lastError = `unexpected reply ${JSON.stringify(reply)}`; // e.g. -LOADING while starting
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() + delay > deadline) break;
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
  throw proc.startupError(`did not answer PING within ${timeoutMs} ms; last error: ${lastError}`);
}

export async function startRedis(options: { startTimeoutMs?: number } = {}): Promise<RunningRedis> {
  await ensureDebianPackages(REDIS_PACKAGES);
  const redisBin = requireBinary('redis-server');
  const tmp = makeTempDir('oomdoctor-redis');
  try {
    return await withFreePortRetry(async (port) => {
      const host = '127.0.0.1';
      const proc = startProcess(
        redisBin,
        [
          '--port',
          String(port),
          '--bind',
          host,
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          tmp.path,
          '--daemonize',
          'no',
        ],
        { cwd: tmp.path, logFile: path.join(tmp.path, `redis-${port}.log`) },
      );
      try {
        await waitForPong(host, port, proc, options.startTimeoutMs ?? 10_000);
      } catch (err) {
        await proc.stop();
        throw err;
      }
      let stopped: Promise<void> | undefined;
      return {
        url: `redis://${host}:${port}`,
        host,
        port,
        stop: () => (stopped ??= proc.stop().then(() => tmp.remove())),
      };
    });
  } catch (err) {
    await tmp.remove();
    throw err;
  }
}
