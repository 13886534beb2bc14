// A node process for a test, and `oomdoctor` as its own process run from the sources (compiled by
// swc through register-ts.js, as jest does), so a process test needs no fresh dist/ build. Each
// stops by itself (30 s unless told otherwise).
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node ...args` and collects what it prints; killed if it is still running after `timeoutMs`
 * (a test's processes stop by themselves).
 */
export function runNode(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<CliRun> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** Runs `oomdoctor ...args` from the sources with only PATH from this environment, plus `env`. */
export function cliCommand(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runNode(
    [
      '-r',
      join(ROOT, 'test', 'support', 'register-ts.js'),
      '-e',
      `process.argv.splice(1, 0, 'oomdoctor'); require(${JSON.stringify(join(ROOT, 'src', 'cli.ts'))}).main()`,
      ...args,
    ],
    { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } },
  );
}
