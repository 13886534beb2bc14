import { APPLY_DISABLED, type ApplyConfig } from '../../../src/config/apply';
import {
  decide,
  groupsOf,
  groupsToCheck,
  identityFor,
  namespaceAllowed,
  namespaceRefusal,
} from '../../../src/apply/authorize';

const config: ApplyConfig = {
  ...APPLY_DISABLED,
  enabled: true,
  namespaces: { all: false, names: ['shop', 'kube-system'] },
  allowedUsers: ['U0ALICE'],
  allowedGroups: ['S0ONCALL'],
  impersonate: true,
  impersonateMap: {
    U0ALICE: { user: 'alice@example.com', groups: ['sre'] },
    S0ONCALL: { user: 'oncall', groups: [] },
    S0DEVS: { user: 'dev', groups: [] },
  },
};

describe('decide', () => {
  it('allows a listed user, and a member of a listed group, in an allowed namespace', () => {
    expect(decide(config, 'U0ALICE', [], 'shop')).toEqual({ allowed: true, via: 'APPLY_ALLOWED_USERS' });
    expect(decide(config, 'U0BOB', ['S0ONCALL'], 'shop')).toEqual({
      allowed: true,
      via: 'user group S0ONCALL',
    });
  });

  it('refuses with a reason: off, namespace, user', () => {
    expect(decide({ ...config, enabled: false }, 'U0ALICE', [], 'shop')).toMatchObject({
      allowed: false,
      code: 'disabled',
    });
    expect(decide(config, 'U0ALICE', [], 'payments')).toEqual({
      allowed: false,
      code: 'namespace',
      reason: 'namespace payments is not in APPLY_NAMESPACES, the namespaces where fixes may be applied',
    });
    const user = decide(config, 'U0MALLORY', ['S0OTHER'], 'shop');
    expect(user).toMatchObject({ allowed: false, code: 'user' });
    expect(user.allowed ? '' : user.reason).toBe(
      'only the people in APPLY_ALLOWED_USERS or a member of the user group S0ONCALL may apply fixes, and you are not one of them',
    );
  });

  it('refuses system namespaces under *, unless named', () => {
    const all = { ...config, namespaces: { all: true, names: ['kube-system'] } };
    expect(namespaceAllowed(all, 'anything')).toBe(true);
    expect(namespaceAllowed(all, 'kube-system')).toBe(true);
    expect(namespaceAllowed(all, 'kube-public')).toBe(false);
    expect(namespaceRefusal(all, 'kube-node-lease')).toContain('is a system namespace');
  });
});

describe('group membership and identities', () => {
  it("finds the user's configured groups from their members", () => {
    const members: Record<string, string[]> = { S0ONCALL: ['U0BOB'], S0DEVS: ['U0BOB', 'U0CAROL'] };
    expect(groupsOf('U0BOB', ['S0ONCALL', 'S0DEVS', 'S0NONE'], (g) => members[g] ?? null)).toEqual([
      'S0ONCALL',
      'S0DEVS',
    ]);
    expect(groupsToCheck(config)).toEqual(['S0ONCALL', 'S0DEVS']);
    expect(groupsToCheck({ ...config, impersonate: false })).toEqual(['S0ONCALL']);
  });

  it("maps a user to their own identity first, then their first group's", () => {
    expect(identityFor(config, 'U0ALICE', ['S0ONCALL'])).toEqual({
      key: 'U0ALICE',
      identity: { user: 'alice@example.com', groups: ['sre'] },
    });
    expect(identityFor(config, 'U0BOB', ['S0DEVS', 'S0ONCALL'])?.key).toBe('S0ONCALL');
    expect(identityFor(config, 'U0EVE', [])).toBeNull();
  });
});
