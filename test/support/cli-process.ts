// `oomdoctor` as its own process, run from the sources (compiled by swc through register-ts.js, as
// jest does), so a process test needs no fresh dist/ build. Stops by itself after 30 s.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `oomdoctor ...args` with only PATH from this environment, plus `env`. */
export function cliCommand(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
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
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}
