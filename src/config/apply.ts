// The "Apply fix" settings: read from the environment at the edge, validated with zod, one clear
// line per problem. Off unless APPLY_ENABLED says otherwise, and then every setting that decides
// who may change what must be given explicitly.
import { z } from 'zod';
import { commaList } from './comma-list';
import { parseDuration } from '../core/duration';
import type { KubeIdentity } from '../core/kubernetes-types';
import { parseNamespace } from '../core/target';
import { HOUR_MS, MINUTE_MS, SECOND_MS } from '../core/time';

export type { KubeIdentity } from '../core/kubernetes-types';

export interface ApplyConfig {
  enabled: boolean;
  /** The allow-list. `all` ("*") means every namespace except the system ones, which must be named. */
  namespaces: { all: boolean; names: string[] };
  /** Slack user ids (U…/W…) that may apply. */
  allowedUsers: string[];
  /** Slack user-group ids (S…) whose members may apply. */
  allowedGroups: string[];
  impersonate: boolean;
  /** Slack user or user-group id to the Kubernetes identity the patch is sent as. */
  impersonateMap: Record<string, KubeIdentity>;
  rolloutTimeoutMs: number;
  auditLogFile: string | null;
  /** Treat Argo CD's instance label (app.kubernetes.io/instance) as GitOps management; Helm sets it too. */
  argocdInstanceLabel: boolean;
}

export const APPLY_ENVIRONMENT = [
  'APPLY_ENABLED',
  'APPLY_NAMESPACES',
  'APPLY_ALLOWED_USERS',
  'APPLY_ALLOWED_GROUPS',
  'APPLY_IMPERSONATE',
  'APPLY_IMPERSONATE_MAP',
  'APPLY_ROLLOUT_TIMEOUT',
  'APPLY_ARGOCD_INSTANCE_LABEL',
  'AUDIT_LOG_FILE',
] as const;

export const APPLY_DISABLED: ApplyConfig = {
  enabled: false,
  namespaces: { all: false, names: [] },
  allowedUsers: [],
  allowedGroups: [],
  impersonate: false,
  impersonateMap: {},
  rolloutTimeoutMs: 10 * MINUTE_MS,
  auditLogFile: null,
  argocdInstanceLabel: false,
};

const SLACK_USER = /^[UW][A-Z0-9]{2,30}$/;
const SLACK_GROUP = /^S[A-Z0-9]{2,30}$/;
const BOOLEAN = /^(1|true|yes|on|0|false|no|off)$/i;

/** kube-system, kube-public, kube-node-lease and the other namespaces a platform owns. */
export function isSystemNamespace(namespace: string): boolean {
  return namespace.startsWith('kube-') || namespace === 'openshift' || namespace.startsWith('openshift-');
}

// A Kubernetes user name as impersonation takes it: printable, no control characters, at most 253.
const kubeName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(253, 'must be at most 253 characters')
  .regex(
    /^[^\s\u0000-\u001f\u007f]([^\u0000-\u001f\u007f]*[^\s\u0000-\u001f\u007f])?$/,
    'must be printable text without leading or trailing spaces',
  );

const identitySchema = z.strictObject({
  user: kubeName,
  groups: z.array(kubeName).max(50, 'at most 50 groups').default([]),
});

const mapSchema = z.record(
  z
    .string()
    .regex(
      new RegExp(`${SLACK_USER.source}|${SLACK_GROUP.source}`),
      'keys must be Slack user ids (U…/W…) or user-group ids (S…)',
    ),
  identitySchema,
);

function flag(name: string, text: string | undefined, problems: string[]): boolean {
  if (text === undefined) return false;
  if (!BOOLEAN.test(text)) {
    problems.push(`${name} "${text.slice(0, 20)}" must be true or false`);
    return false;
  }
  return /^(1|true|yes|on)$/i.test(text);
}

/** "APPLY_IMPERSONATE_MAP U0ALICE.user: must not be empty", from zod's issues. */
function zodProblems(name: string, error: z.ZodError): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const issue of error.issues) {
    const where = issue.path.map(String).join('.');
    if (seen.has(where)) continue; // the first problem of a field is the one to fix
    seen.add(where);
    const message =
      issue.code === 'invalid_key'
        ? 'keys must be Slack user ids (U…/W…) or user-group ids (S…)'
        : issue.message;
    lines.push(`${name}${where ? ` ${where}` : ''}: ${message}`);
  }
  return lines.slice(0, 10);
}

/**
 * Reads the APPLY_* settings. `get` gives a variable's trimmed value or undefined; problems are
 * appended to `problems`, one line each, and the returned config is only meaningful when none were.
 */
export function readApplyConfig(get: (name: string) => string | undefined, problems: string[]): ApplyConfig {
  const enabled = flag('APPLY_ENABLED', get('APPLY_ENABLED'), problems);
  // Read either way: a refusal of a stale or forged button is audited even with applying off.
  const auditLogFile = get('AUDIT_LOG_FILE') ?? null;
  if (auditLogFile !== null && (auditLogFile.length > 1024 || /[\u0000-\u001f]/.test(auditLogFile)))
    problems.push('AUDIT_LOG_FILE must be a file path');
  if (!enabled)
    return { ...APPLY_DISABLED, namespaces: { all: false, names: [] }, impersonateMap: {}, auditLogFile };

  const namespaces = { all: false, names: [] as string[] };
  const namespaceText = commaList(get('APPLY_NAMESPACES'));
  if (namespaceText.length === 0) {
    problems.push(
      'APPLY_ENABLED=true needs APPLY_NAMESPACES: the comma-separated namespaces where fixes may be applied (or * for every namespace but the system ones)',
    );
  }
  for (const ns of namespaceText) {
    if (ns === '*') {
      namespaces.all = true;
      continue;
    }
    try {
      namespaces.names.push(parseNamespace(ns, 'APPLY_NAMESPACES'));
    } catch (error) {
      problems.push(`APPLY_NAMESPACES: ${(error as Error).message}`);
    }
  }

  const allowedUsers = commaList(get('APPLY_ALLOWED_USERS'));
  for (const id of allowedUsers)
    if (!SLACK_USER.test(id))
      problems.push(
        `APPLY_ALLOWED_USERS "${id.slice(0, 40)}" is not a Slack user id (U0123ABCD; a profile's "Copy member ID")`,
      );
  const allowedGroups = commaList(get('APPLY_ALLOWED_GROUPS'));
  for (const id of allowedGroups)
    if (!SLACK_GROUP.test(id))
      problems.push(`APPLY_ALLOWED_GROUPS "${id.slice(0, 40)}" is not a Slack user-group id (S0123ABCD)`);
  if (allowedUsers.length === 0 && allowedGroups.length === 0) {
    problems.push(
      'APPLY_ENABLED=true needs APPLY_ALLOWED_USERS or APPLY_ALLOWED_GROUPS: the Slack users or user groups who may press Apply',
    );
  }

  const impersonate = flag('APPLY_IMPERSONATE', get('APPLY_IMPERSONATE'), problems);
  let impersonateMap: Record<string, KubeIdentity> = {};
  const mapText = get('APPLY_IMPERSONATE_MAP');
  if (impersonate && !mapText) {
    problems.push(
      'APPLY_IMPERSONATE=true needs APPLY_IMPERSONATE_MAP: JSON from Slack user or user-group id to {"user": "...", "groups": ["..."]}',
    );
  }
  if (mapText) {
    let json: unknown;
    try {
      json = JSON.parse(mapText);
    } catch (error) {
      problems.push(`APPLY_IMPERSONATE_MAP is not valid JSON: ${(error as Error).message}`);
    }
    if (json !== undefined) {
      const parsed = mapSchema.safeParse(json);
      if (parsed.success) impersonateMap = parsed.data;
      else problems.push(...zodProblems('APPLY_IMPERSONATE_MAP', parsed.error));
    }
    if (!impersonate && mapText)
      problems.push(
        'APPLY_IMPERSONATE_MAP is set but APPLY_IMPERSONATE is not true: set APPLY_IMPERSONATE=true to use it, or remove the map',
      );
  }

  let rolloutTimeoutMs = APPLY_DISABLED.rolloutTimeoutMs;
  const timeoutText = get('APPLY_ROLLOUT_TIMEOUT');
  if (timeoutText) {
    try {
      rolloutTimeoutMs = parseDuration(timeoutText, 'APPLY_ROLLOUT_TIMEOUT');
      if (rolloutTimeoutMs < 10 * SECOND_MS || rolloutTimeoutMs > 6 * HOUR_MS)
        problems.push(`APPLY_ROLLOUT_TIMEOUT "${timeoutText}" must be between 10s and 6h`);
    } catch (error) {
      problems.push(`APPLY_ROLLOUT_TIMEOUT: ${(error as Error).message}`);
    }
  }

  return {
    enabled,
    namespaces,
    allowedUsers,
    allowedGroups,
    impersonate,
    impersonateMap,
    rolloutTimeoutMs,
    auditLogFile,
    argocdInstanceLabel: flag('APPLY_ARGOCD_INSTANCE_LABEL', get('APPLY_ARGOCD_INSTANCE_LABEL'), problems),
  };
}
