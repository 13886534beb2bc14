// Who may apply a fix where: pure decisions over the configuration and what Slack says about the
// user. Every refusal carries a reason a person can act on, and a code for the audit log.
import { isSystemNamespace, type ApplyConfig, type KubeIdentity } from '../config/apply';

export type Refusal = {
  allowed: false;
  code: 'disabled' | 'namespace' | 'user' | 'no-identity';
  reason: string;
};
export type Decision = { allowed: true; via: string } | Refusal;

export function namespaceAllowed(config: ApplyConfig, namespace: string): boolean {
  if (config.namespaces.names.includes(namespace)) return true;
  return config.namespaces.all && !isSystemNamespace(namespace);
}

/** Why applying is not offered in a namespace, or null when it is. */
export function namespaceRefusal(config: ApplyConfig, namespace: string): string | null {
  if (namespaceAllowed(config, namespace)) return null;
  if (config.namespaces.all && isSystemNamespace(namespace)) {
    return `namespace ${namespace} is a system namespace: fixes are applied there only when APPLY_NAMESPACES names it`;
  }
  return `namespace ${namespace} is not in APPLY_NAMESPACES, the namespaces where fixes may be applied`;
}

/** The configured user groups a user belongs to, in configuration order, given the groups' members. */
export function groupsOf(
  userId: string,
  groupIds: string[],
  membersOf: (groupId: string) => readonly string[] | null,
): string[] {
  return groupIds.filter((g) => membersOf(g)?.includes(userId) ?? false);
}

/**
 * Whether `userId` may apply a fix in `namespace`. `userGroups` are the Slack user groups the
 * user is known to belong to (the caller asks Slack; membership is not in the payload).
 */
export function decide(
  config: ApplyConfig,
  userId: string,
  userGroups: readonly string[],
  namespace: string,
): Decision {
  if (!config.enabled)
    return {
      allowed: false,
      code: 'disabled',
      reason: 'applying fixes is turned off for this bot (APPLY_ENABLED)',
    };
  const ns = namespaceRefusal(config, namespace);
  if (ns) return { allowed: false, code: 'namespace', reason: ns };
  if (config.allowedUsers.includes(userId)) return { allowed: true, via: 'APPLY_ALLOWED_USERS' };
  const group = config.allowedGroups.find((g) => userGroups.includes(g));
  if (group) return { allowed: true, via: `user group ${group}` };
  const groups =
    config.allowedGroups.length > 0
      ? ` or a member of the user group${config.allowedGroups.length > 1 ? 's' : ''} ${config.allowedGroups.join(', ')}`
      : '';
  return {
    allowed: false,
    code: 'user',
    reason: `only the people in APPLY_ALLOWED_USERS${groups} may apply fixes, and you are not one of them`,
  };
}

/**
 * The Kubernetes identity a Slack user acts as: the user's own entry first, then the first of the
 * user's groups (in the map's order) that has one. Null when none is mapped.
 */
export function identityFor(
  config: ApplyConfig,
  userId: string,
  userGroups: readonly string[],
): { key: string; identity: KubeIdentity } | null {
  const own = config.impersonateMap[userId];
  if (own) return { key: userId, identity: own };
  for (const [key, identity] of Object.entries(config.impersonateMap)) {
    if (key.startsWith('S') && userGroups.includes(key)) return { key, identity };
  }
  return null;
}

/** The user groups whose membership matters for a decision: the allowed ones, and the impersonation map's. */
export function groupsToCheck(config: ApplyConfig): string[] {
  const keys = config.impersonate ? Object.keys(config.impersonateMap).filter((k) => k.startsWith('S')) : [];
  return [...new Set([...config.allowedGroups, ...keys])];
}
