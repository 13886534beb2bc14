// No Docker engine runs here, so the compose file is checked by reading it: it must build this
// image, run the bot next to Redis, and set only variables the bot actually reads, the required ones included.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BOT_ENVIRONMENT, readBotConfig } from '../../../src/config/bot';

const root = join(__dirname, '..', '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<
    string,
    {
      build?: string;
      image?: string;
      command?: string[];
      environment?: Record<string, string>;
      depends_on?: Record<string, unknown>;
      ports?: string[];
    }
  >;
};

describe('docker-compose.yml', () => {
  const bot = compose.services.oomdoctor;
  const redis = compose.services.redis;

  it('builds the bot from this repository and runs it next to Redis', () => {
    expect(bot?.build).toBe('.');
    expect(bot?.command).toEqual(['serve', '--role', 'all']);
    expect(redis?.image).toMatch(/^redis:/);
    expect(Object.keys(bot?.depends_on ?? {})).toContain('redis');
    expect(bot?.environment?.REDIS_URL).toBe('redis://redis:6379');
  });

  it('sets only variables the bot reads, and every one it requires', () => {
    const set = Object.keys(bot?.environment ?? {});
    for (const name of set) expect(BOT_ENVIRONMENT).toContain(name);
    for (const required of ['SLACK_BOT_TOKEN', 'SLACK_ALERT_CHANNEL', 'ALERTMANAGER_TOKEN', 'REDIS_URL'])
      expect(set).toContain(required);
  });

  it('gives a configuration the bot accepts once the .env values are filled in', () => {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(bot?.environment ?? {})) {
      // ${VAR:?msg} and ${VAR:-default}: stand in a plausible value, or the default.
      const required = /^\$\{(\w+):\?/.exec(value);
      const fallback = /^\$\{\w+:-(.*)\}$/.exec(value);
      env[name] = required
        ? ({
            SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
            SLACK_ALERT_CHANNEL: 'C0123ABCD',
            ALERTMANAGER_TOKEN: 'a-long-random-secret-0123456789',
          }[required[1] ?? ''] ?? 'x')
        : fallback
          ? (fallback[1] ?? '')
          : value;
    }
    env.SLACK_SIGNING_SECRET = 'signing-secret';
    const config = readBotConfig(env, 'all');
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(config.port).toBe(Number((bot?.ports?.[0] ?? '').split(':')[1]));
  });

  it('is matched by the Dockerfile: the image runs dist/cli.js, which serve lives in', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "dist\/cli\.js"\]/);
    expect(dockerfile).toContain('fonts-dejavu-core');
    // Node 24 LTS, pinned to a release (Node 20 reached end of life in April 2026).
    expect(dockerfile).toMatch(/^FROM node:24\.\d+\.\d+-bookworm-slim$/m);
    // The image runs the bot with the same heap settings as npm start.
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    const flags = pkg.scripts.start.split(/\s+/).filter((w) => w.startsWith('--'));
    expect(flags.length).toBeGreaterThan(0);
    expect(/NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1]?.split(' ')).toEqual(flags);
  });
});
