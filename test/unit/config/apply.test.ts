// The APPLY_* settings: off by default, explicit when on, one line per problem.
import {
  APPLY_DISABLED,
  APPLY_ENVIRONMENT,
  isSystemNamespace,
  readApplyConfig,
  type ApplyConfig,
} from '../../../src/config/apply';
import { BOT_ENVIRONMENT, ConfigError, readBotConfig } from '../../../src/config/bot';
import { REQUIRED_BOT_ENV } from './bot-env';

function read(env: Record<string, string>): { config: ApplyConfig; problems: string[] } {
  const problems: string[] = [];
  const config = readApplyConfig((name) => (env[name]?.trim() ? env[name]?.trim() : undefined), problems);
  return { config, problems };
}

const ON = { APPLY_ENABLED: 'true', APPLY_NAMESPACES: 'shop,payments', APPLY_ALLOWED_USERS: 'U0ALICE' };

describe('readApplyConfig', () => {
  it('is off with nothing set, and then asks for nothing else', () => {
    expect(read({})).toEqual({ config: APPLY_DISABLED, problems: [] });
    // Settings given while off are not validated (they do nothing), except the audit file.
    expect(
      read({ APPLY_NAMESPACES: 'Not A Namespace', AUDIT_LOG_FILE: '/var/log/oomdoctor/audit.jsonl' }),
    ).toEqual({
      config: { ...APPLY_DISABLED, auditLogFile: '/var/log/oomdoctor/audit.jsonl' },
      problems: [],
    });
  });

  it('reads every setting when on', () => {
    const { config, problems } = read({
      ...ON,
      APPLY_ALLOWED_GROUPS: 'S0ONCALL, S0SRE',
      APPLY_IMPERSONATE: 'yes',
      APPLY_IMPERSONATE_MAP: JSON.stringify({
        U0ALICE: { user: 'alice@example.com', groups: ['sre'] },
        S0ONCALL: { user: 'oncall' },
      }),
      APPLY_ROLLOUT_TIMEOUT: '15m',
      APPLY_ARGOCD_INSTANCE_LABEL: 'true',
      AUDIT_LOG_FILE: '/var/log/audit.jsonl',
    });
    expect(problems).toEqual([]);
    expect(config).toEqual({
      enabled: true,
      namespaces: { all: false, names: ['shop', 'payments'] },
      allowedUsers: ['U0ALICE'],
      allowedGroups: ['S0ONCALL', 'S0SRE'],
      impersonate: true,
      impersonateMap: {
        U0ALICE: { user: 'alice@example.com', groups: ['sre'] },
        S0ONCALL: { user: 'oncall', groups: [] },
      },
      rolloutTimeoutMs: 15 * 60_000,
      auditLogFile: '/var/log/audit.jsonl',
      argocdInstanceLabel: true,
    });
  });

  it('defaults the rollout time-out to 10 minutes, and accepts * for every namespace but the system ones', () => {
    const { config, problems } = read({ ...ON, APPLY_NAMESPACES: '*, kube-system' });
    expect(problems).toEqual([]);
    expect(config.rolloutTimeoutMs).toBe(600_000);
    expect(config.namespaces).toEqual({ all: true, names: ['kube-system'] });
  });

  it('asks for the allow-lists when on: one line each', () => {
    const { problems } = read({ APPLY_ENABLED: 'true' });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^APPLY_ENABLED=true needs APPLY_NAMESPACES/);
    expect(problems[1]).toMatch(/^APPLY_ENABLED=true needs APPLY_ALLOWED_USERS or APPLY_ALLOWED_GROUPS/);
  });

  it('names each bad value', () => {
    const { problems } = read({
      APPLY_ENABLED: 'true',
      APPLY_NAMESPACES: 'shop,Bad_NS',
      APPLY_ALLOWED_USERS: 'alice,U0BOB',
      APPLY_ALLOWED_GROUPS: 'oncall',
      APPLY_ROLLOUT_TIMEOUT: '5s',
      APPLY_ARGOCD_INSTANCE_LABEL: 'maybe',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^APPLY_NAMESPACES: .*"Bad_NS"/),
      expect.stringMatching(/^APPLY_ALLOWED_USERS "alice" is not a Slack user id/),
      expect.stringMatching(/^APPLY_ALLOWED_GROUPS "oncall" is not a Slack user-group id/),
      'APPLY_ROLLOUT_TIMEOUT "5s" must be between 10s and 6h',
      'APPLY_ARGOCD_INSTANCE_LABEL "maybe" must be true or false',
    ]);
  });

  it('validates the impersonation map at start-up, one line per problem with where it is', () => {
    expect(read({ ...ON, APPLY_IMPERSONATE: 'true' }).problems).toEqual([
      expect.stringMatching(/^APPLY_IMPERSONATE=true needs APPLY_IMPERSONATE_MAP/),
    ]);
    expect(
      read({ ...ON, APPLY_IMPERSONATE: 'true', APPLY_IMPERSONATE_MAP: '{"U0ALICE": ' }).problems,
    ).toEqual([expect.stringMatching(/^APPLY_IMPERSONATE_MAP is not valid JSON/)]);
    const bad = read({
      ...ON,
      APPLY_IMPERSONATE: 'true',
      APPLY_IMPERSONATE_MAP: JSON.stringify({
        alice: { user: 'a' },
        U0BOB: { user: '' },
        S0SRE: { user: 'x', groups: 'sre' },
        U0EVE: { user: 'e', role: 'admin' },
      }),
    }).problems;
    expect(bad).toHaveLength(4);
    expect(bad.join('\n')).toContain('APPLY_IMPERSONATE_MAP alice: keys must be Slack user ids');
    expect(bad.join('\n')).toContain('APPLY_IMPERSONATE_MAP U0BOB.user: must not be empty');
    expect(bad.join('\n')).toContain('APPLY_IMPERSONATE_MAP S0SRE.groups:');
    expect(bad.join('\n')).toContain('APPLY_IMPERSONATE_MAP U0EVE');
    expect(read({ ...ON, APPLY_IMPERSONATE_MAP: '{}' }).problems).toEqual([
      expect.stringMatching(/APPLY_IMPERSONATE_MAP is set but APPLY_IMPERSONATE is not true/),
    ]);
  });

  it('knows the system namespaces', () => {
    for (const ns of ['kube-system', 'kube-public', 'kube-node-lease', 'openshift', 'openshift-monitoring'])
      expect(isSystemNamespace(ns)).toBe(true);
    for (const ns of ['shop', 'default', 'kubernetes-dashboard-x', 'my-kube-system'])
      expect(isSystemNamespace(ns)).toBe(false);
  });
});

describe('readBotConfig with APPLY_*', () => {
  const base = REQUIRED_BOT_ENV;

  it('carries the apply settings, and lists every variable in BOT_ENVIRONMENT', () => {
    expect(readBotConfig({ ...base, ...ON }).apply.namespaces.names).toEqual(['shop', 'payments']);
    expect(APPLY_ENVIRONMENT).toContain('APPLY_ENABLED');
    for (const name of APPLY_ENVIRONMENT) expect(BOT_ENVIRONMENT).toContain(name);
  });

  it('fails start-up with the other problems, all at once', () => {
    try {
      readBotConfig({ ...base, SLACK_BOT_TOKEN: '', APPLY_ENABLED: 'true' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(3);
      expect(problems[0]).toMatch(/^SLACK_BOT_TOKEN/);
    }
  });
});
