// The image, without Docker: exactly what the Dockerfile's last stage copies (package.json, the
// production dependencies from `npm ci --omit=dev`, the build output), started as its ENTRYPOINT
// and CMD would start it, on the Node it is built on, from a read-only directory. It must answer
// /healthz and /metrics, carry no test files, and stop cleanly on SIGTERM.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FakeSlackApi } from '../../fakes/slack-api';
import { freePort, makeTempDir, startProcess, waitForHttp, type TempDir } from '../../support/services';

jest.setTimeout(240_000);
const repo = join(__dirname, '..', '..', '..');
const dockerfile = readFileSync(join(repo, 'Dockerfile'), 'utf8');
const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
let tmp: TempDir;
let app: string;

/** Node 24 as the image has it (test/node24.sh installs it outside the dependency tree, once). */
function imageNode(): string {
  const image = /^FROM node:(\d+)\.(\d+)\.(\d+)-/m.exec(finalStage);
  if (!image) throw new Error('the Dockerfile does not pin its node image to a release (node:X.Y.Z-…)');
  const bin = execFileSync('bash', [join(repo, 'test', 'node24.sh')], { encoding: 'utf8' }).trim();
  expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(
    `v${image[1]}.${image[2]}.${image[3]}`,
  );
  return bin;
}

/** Production dependencies for this lockfile, installed once per lockfile under ~/.cache. */
function productionModules(): string {
  const lock = readFileSync(join(repo, 'package-lock.json'));
  const key = createHash('sha256').update(lock).digest('hex').slice(0, 16);
  const cached = join(homedir(), '.cache', 'oomdoctor-image-modules', key);
  if (!existsSync(join(cached, 'node_modules'))) {
    const staging = `${cached}.partial-${process.pid}`;
    mkdirSync(staging, { recursive: true });
    cpSync(join(repo, 'package.json'), join(staging, 'package.json'));
    cpSync(join(repo, 'package-lock.json'), join(staging, 'package-lock.json'));
    execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: staging,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    renameSync(staging, cached);
  }
  return join(cached, 'node_modules');
}

beforeAll(() => {
  tmp = makeTempDir('oomdoctor-image');
  app = join(tmp.path, 'app');
  mkdirSync(app);
});

afterAll(async () => {
  if (app && existsSync(app)) execFileSync('chmod', ['-R', 'u+w', app]);
  await tmp?.remove();
});

it('copies only package.json, the production dependencies and the build output into the image', () => {
  const copies = [...finalStage.matchAll(/^COPY (?:--from=build )?(\S+) (\S+)$/gm)].map((m) => m[1]);
  expect(copies).toEqual(['/app/package.json', '/app/node_modules', '/app/dist']);
  // The build output is the production code only: src, handlers and jobs.
  const build = JSON.parse(readFileSync(join(repo, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
  expect(build.include.sort()).toEqual(['handlers', 'jobs', 'src']);
  expect(dockerfile).toMatch(/npm run build && npm prune --omit=dev/);
});

it('starts as the entrypoint starts it, from a read-only directory, and answers /healthz and /metrics', async () => {
  const node = imageNode();
  // What the image holds: package.json, node_modules (production), dist (the build).
  cpSync(join(repo, 'package.json'), join(app, 'package.json'));
  cpSync(productionModules(), join(app, 'node_modules'), { recursive: true });
  execFileSync(
    node,
    [
      join(repo, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      join(app, 'dist'),
    ],
    {
      cwd: repo,
    },
  );
  execFileSync(node, [join(app, 'dist', 'src', 'tools', 'write-bin.js')]);
  expect(readdirSync(join(app, 'dist')).sort()).toEqual(['cli.js', 'handlers', 'jobs', 'src']);
  execFileSync('chmod', ['-R', 'a-w', app]);

  const env = Object.fromEntries(
    [...finalStage.matchAll(/(\w+)=("[^"]*"|\S+)/g)]
      .filter((m) => /^ENV /m.test(finalStage.slice(finalStage.lastIndexOf('\n', m.index) + 1, m.index)))
      .map((m) => [m[1] ?? '', (m[2] ?? '').replace(/^"|"$/g, '')]),
  );
  expect(env.NODE_OPTIONS).toContain('--max-old-space-size');
  const kubeconfig = join(tmp.path, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:9", insecure-skip-tls-verify: true}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
      '',
    ].join('\n'),
  );
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(finalStage)?.[1];
  const cmd = /^CMD (\[.*\])$/m.exec(finalStage)?.[1];
  if (!entrypoint || !cmd) throw new Error('the Dockerfile has no ENTRYPOINT or CMD in exec form');
  const [program, ...args] = [...(JSON.parse(entrypoint) as string[]), ...(JSON.parse(cmd) as string[])];
  expect(program).toBe('node');
  const port = await freePort();
  const slack = await FakeSlackApi.start();
  const bot = startProcess(node, args, {
    cwd: app,
    logFile: join(tmp.path, 'bot.log'),
    killAfterMs: 20_000,
    env: {
      ...env,
      PORT: String(port),
      HOME: app,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: 'image-test-signing-secret',
      SLACK_ALERT_CHANNEL: 'C0ALERTS',
      SLACK_API_URL: slack.url,
      ALERTMANAGER_TOKEN: 'image-test-alertmanager-token',
      KUBECONFIG: kubeconfig,
    },
  });
  let answered: unknown;
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, { timeoutMs: 30_000, process: bot });
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    answered = {
      healthz: (await fetch(`http://127.0.0.1:${port}/healthz`)).status,
      metrics: metrics.status,
      process: (await metrics.text()).includes('oomdoctor_process_resident_memory_bytes'),
    };
  } finally {
    await bot.stop();
    await slack.stop();
  }
  expect(answered).toEqual({ healthz: 200, metrics: 200, process: true });
  const exit = await bot.exited;
  if (exit.code !== 0)
    throw new Error(`the bot did not stop cleanly on SIGTERM (${JSON.stringify(exit)}):\n${bot.logTail()}`);
  expect(readFileSync(join(tmp.path, 'bot.log'), 'utf8')).toContain('oomdoctor is running');
});
