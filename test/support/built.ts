// The build's output, for tests of what ships (dist/cli.js, the bundled client-node): built on
// demand when it is missing or older than the sources, so one such test can run on its own.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when dist/cli.js is missing or older than any source file. */
export function ensureBuilt(): void {
  const built = fs.existsSync(CLI) ? fs.statSync(CLI).mtimeMs : 0;
  const sources = Math.max(
    ...['src', 'handlers', 'jobs'].map((dir) => newestMtime(path.join(ROOT, dir))),
    fs.statSync(path.join(ROOT, 'package.json')).mtimeMs,
  );
  if (built > sources) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'pipe', timeout: 180_000 });
}
