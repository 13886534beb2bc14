// Harness for running real services (Prometheus, Alertmanager, Redis) in tests, the demo and benchmarks.
//
// Everything here listens on 127.0.0.1 only and is cleaned up by the matching stop(). As a safety net,
// child processes are killed and temp dirs removed when the Node process exits, and — where util-linux
// `setpriv` is available — children also get SIGKILL from the kernel if this process dies abruptly.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

// ---------------------------------------------------------------------------------------------
// Exit hook
// ---------------------------------------------------------------------------------------------

// Inside jest, the global `process` is a copy with its own event emitter that never emits 'exit'.
// Evaluating `process` in the main V8 context gives the real one (outside jest they are the same).
function realProcess(): NodeJS.Process {
  try {
    const p: unknown = vm.runInThisContext('process');
    if (p && typeof (p as NodeJS.Process).on === 'function') return p as NodeJS.Process;
  } catch {
    // fall through
  }
  return process;
}

// Jest loads this module once per test file, but all files of a worker share the real process: keep one
// registry and one hook on it, rather than one per file (which also trips the max-listeners warning).
interface Registry {
  children: Set<ChildProcess>;
  dirs: Set<string>;
  hooked: boolean;
}
const REGISTRY = Symbol.for('oomdoctor.test-services');
const registry: Registry = ((realProcess() as unknown as Record<symbol, Registry>)[REGISTRY] ??= {
  children: new Set(),
  dirs: new Set(),
  hooked: false,
});
const liveChildren = registry.children;
const liveTempDirs = registry.dirs;

function installExitHook(): void {
  if (registry.hooked) return;
  registry.hooked = true;
  realProcess().on('exit', () => {
    for (const child of liveChildren) {
      try {
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
          process.kill(child.pid, 'SIGKILL');
        }
      } catch {
        // already gone
      }
    }
    liveChildren.clear();
    for (const dir of liveTempDirs) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
    liveTempDirs.clear();
  });
}

// ---------------------------------------------------------------------------------------------
// Debian packages
// ---------------------------------------------------------------------------------------------

/** Absolute path of an executable found on PATH, /usr/bin or /usr/sbin (like `command -v`), or undefined. */
export function findBinary(binary: string): string | undefined {
  if (binary.includes('/')) return isExecutable(binary) ? binary : undefined;
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const dir of [...dirs, '/usr/bin', '/usr/sbin', '/bin', '/sbin']) {
    const candidate = path.join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Like findBinary, but throws a helpful error when the binary is missing. */
export function requireBinary(binary: string): string {
  const found = findBinary(binary);
  if (found === undefined) throw new Error(`executable "${binary}" not found on PATH, /usr/bin or /usr/sbin`);
  return found;
}

function isExecutable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let aptUpdated = false;

/**
 * Installs the Debian packages whose binary is missing (apt-get update once per process, only when
 * something is missing). Silent on success; on failure the error carries apt's output. When not root,
 * throws with the exact command to run by hand.
 */
export async function ensureDebianPackages(packages: Array<{ pkg: string; binary: string }>): Promise<void> {
  const missing = [...new Set(packages.filter((p) => findBinary(p.binary) === undefined).map((p) => p.pkg))];
  if (missing.length === 0) return;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error(
      `missing executables for Debian packages ${missing.join(', ')}; install them by hand with:\n` +
        `  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for another apt/dpkg run instead of failing at once on its lock.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=300'];
  if (!aptUpdated) {
    await run('apt-get', [...lockWait, 'update'], env, 600_000);
    aptUpdated = true;
  }
  await run('apt-get', [...lockWait, 'install', '-y', '--no-install-recommends', ...missing], env, 900_000);
  const stillMissing = packages.filter((p) => findBinary(p.binary) === undefined);
  if (stillMissing.length > 0) {
    throw new Error(
      `apt-get installed ${missing.join(' ')} but these executables are still missing: ` +
        stillMissing.map((p) => `${p.binary} (${p.pkg})`).join(', '),
    );
  }
}

/** Runs a command to completion, capturing output; rejects with the output tail on failure. */
export function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 120_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const out = `${stdout}\n${stderr}`.trim();
        reject(new Error(`\`${[cmd, ...args].join(' ')}\` failed: ${err.message}\n${tail(out, 4000)}`));
      } else {
        resolve(`${stdout}${stderr}`);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Ports, HTTP readiness, temp dirs
// ---------------------------------------------------------------------------------------------

/** A currently free TCP port on 127.0.0.1 (bind to port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      const port = address.port;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitForHttpOptions {
  timeoutMs: number;
  /** Accepted status code(s); default 200. */
  okStatus?: number | number[];
  /** When given, fail fast (with its log tail) if this process exits while waiting. */
  process?: ManagedProcess;
}

/** Polls `url` with GET until it answers with an accepted status; on timeout throws with the last error. */
export async function waitForHttp(url: string, options: WaitForHttpOptions): Promise<void> {
  const accepted = options.okStatus === undefined ? [200] : ([] as number[]).concat(options.okStatus);
  const deadline = Date.now() + options.timeoutMs;
  let lastError: string;
  let delay = 25;
  for (;;) {
    if (options.process?.hasExited()) {
      throw options.process.startupError(`exited while waiting for ${url}`);
    }
    const remaining = deadline - Date.now();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(100, Math.min(2000, remaining))) });
      const body = await res.text();
      if (accepted.includes(res.status)) return;
      lastError = `HTTP ${res.status}: ${tail(body, 500)}`;
    } catch (err) {
      lastError = describeError(err);
    }
    if (Date.now() + delay > deadline) break;
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
  const message = `timed out after ${options.timeoutMs} ms waiting for ${url}; last error: ${lastError}`;
  throw options.process ? options.process.startupError(message) : new Error(message);
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}

export interface TempDir {
  readonly path: string;
  /** Removes the directory and everything in it. Idempotent. */
  remove(): Promise<void>;
}

/** Creates a fresh directory under os.tmpdir(); removed by remove() (or at process exit at the latest). */
export function makeTempDir(prefix: string): TempDir {
  installExitHook();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix.replace(/[^A-Za-z0-9._-]/g, '_')}-`));
  liveTempDirs.add(dir);
  return {
    path: dir,
    async remove() {
      liveTempDirs.delete(dir);
      await fs.promises.rm(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly pid: number;
  /** Command line, for messages. */
  readonly commandLine: string;
  readonly logFile: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  hasExited(): boolean;
  /** Last `maxBytes` of the combined stdout/stderr log. */
  logTail(maxBytes?: number): string;
  /** An Error describing a failed start: message, exit status if exited, and the log tail. */
  startupError(message: string): Error;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
}

export interface StartProcessOptions {
  cwd?: string;
  /** Extra environment variables, merged over process.env. */
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Grace period between SIGTERM and SIGKILL; default 5000 ms. */
  killAfterMs?: number;
}

const setprivPath = findBinary('setpriv');

/**
 * Starts a long-running process with stdout/stderr going to `logFile`. The process is registered so a
 * leftover is killed when this Node process exits; on Linux with `setpriv` the kernel also kills it
 * if this process dies without running exit hooks.
 */
export function startProcess(cmd: string, args: string[], options: StartProcessOptions): ManagedProcess {
  installExitHook();
  const commandLine = [cmd, ...args].join(' ');
  const logFd = fs.openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    const [file, argv] = setprivPath
      ? [setprivPath, ['--pdeathsig', 'KILL', '--', cmd, ...args]]
      : [cmd, args];
    child = spawn(file, argv, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', logFd, logFd],
    });
  } finally {
    fs.closeSync(logFd);
  }
  if (child.pid === undefined) {
    // spawn failed synchronously enough that no pid was assigned (e.g. ENOENT); the 'error' event follows.
    child.on('error', () => undefined);
    throw new Error(`failed to start ${commandLine}: executable not found or not runnable`);
  }
  const pid = child.pid;
  liveChildren.add(child);
  // A forgotten stop() must not keep jest (or the demo) alive forever: the exit hook kills leftovers.
  child.unref();

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      liveChildren.delete(child);
      resolve(exitInfo);
    });
  });
  child.on('error', (err) => {
    fs.appendFileSync(options.logFile, `\n[harness] child process error: ${err.message}\n`);
  });

  let stopping: Promise<void> | undefined;
  const killAfterMs = options.killAfterMs ?? 5000;

  const logTail = (maxBytes = 4000): string => readTail(options.logFile, maxBytes);

  return {
    pid,
    commandLine,
    logFile: options.logFile,
    exited,
    hasExited: () => exitInfo !== undefined,
    logTail,
    startupError(message: string): Error {
      const status = exitInfo
        ? ` (exited with ${exitInfo.signal ? `signal ${exitInfo.signal}` : `code ${String(exitInfo.code)}`})`
        : '';
      return new Error(
        `${commandLine}: ${message}${status}\n--- log tail (${options.logFile}) ---\n${logTail()}`,
      );
    },
    stop(): Promise<void> {
      if (stopping) return stopping;
      stopping = (async () => {
        if (exitInfo !== undefined) return;
        try {
          child.kill('SIGTERM');
        } catch {
          // already gone
        }
        let timer: NodeJS.Timeout | undefined;
        const killed = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            try {
              child.kill('SIGKILL');
            } catch {
              // already gone
            }
            resolve();
          }, killAfterMs);
        });
        await Promise.race([exited, killed]);
        await exited;
        if (timer) clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

function readTail(file: string, maxBytes: number): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size, maxBytes);
      const buf = Buffer.alloc(length);
      fs.readSync(fd, buf, 0, length, size - length);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    return `(could not read log: ${describeError(err)})`;
  }
}

function tail(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `…${text.slice(text.length - maxChars)}`;
}

/** True when the log says the listen address was taken (a freePort() race); callers retry on a new port. */
export function looksLikePortClash(log: string): boolean {
  return /address already in use|bind: address|EADDRINUSE/i.test(log);
}

/**
 * Runs `attempt(port)` on a fresh free port, retrying (up to `tries` times) only when it failed because
 * another process grabbed the port between freePort() and the service binding it.
 */
export async function withFreePortRetry<T>(attempt: (port: number) => Promise<T>, tries = 3): Promise<T> {
  let lastError: unknown;
  for (let i = 0; i < tries; i++) {
    const port = await freePort();
    try {
      return await attempt(port);
    } catch (err) {
      lastError = err;
      if (!(err instanceof Error) || !looksLikePortClash(err.message)) throw err;
    }
  }
  throw lastError;
}

/**
 * Starts a server that has an HTTP readiness endpoint (Prometheus' and Alertmanager's /-/ready) and
 * waits for it; a server that does not come up is stopped, and the error carries its log.
 */
export async function startHttpServer(
  cmd: string,
  args: string[],
  options: StartProcessOptions & { readyUrl: string; timeoutMs: number },
): Promise<ManagedProcess> {
  const proc = startProcess(cmd, args, options);
  try {
    await waitForHttp(options.readyUrl, { timeoutMs: options.timeoutMs, process: proc });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}
