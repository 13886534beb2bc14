// Alertmanager's webhook body (version 4), parsed at the edge and turned into a plan: which alerts
// to diagnose, which cannot be, which to leave alone. Pure, so every rule is tested on fixtures.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ParseError } from '../core/errors';
import { parseContainerName, parseNamespace, parsePodName } from '../core/target';
import type { BotConfig } from '../config/bot';

const labels = z.record(z.string(), z.string());

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels.optional().default({}),
  startsAt: z.string().max(64),
  endsAt: z.string().max(64).optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().max(128).optional(),
});

/** Unknown fields are ignored: newer Alertmanagers add some (notification_reason, routeLabels). */
export const webhookSchema = z.object({
  version: z.string().max(8),
  groupKey: z.string().min(1).max(4096),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(512),
  groupLabels: labels.optional().default({}),
  commonLabels: labels.optional().default({}),
  commonAnnotations: labels.optional().default({}),
  externalURL: z.string().max(4096).optional(),
  alerts: z.array(alertSchema).max(1000),
});

export type WebhookPayload = z.infer<typeof webhookSchema>;
export type WebhookAlert = z.infer<typeof alertSchema>;

export function parseWebhook(body: unknown): WebhookPayload {
  const result = webhookSchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'body';
    throw new ParseError(
      'alertmanager webhook',
      `not an Alertmanager webhook payload: ${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  if (result.data.version !== '4')
    throw new ParseError(
      'alertmanager webhook',
      `webhook payload version "${result.data.version}" is not supported: oomdoctor reads version 4`,
    );
  return result.data;
}

export interface AlertTarget {
  /** Stable id of this alert instance: the fingerprint and its start, so a re-send is the same job. */
  id: string;
  alertname: string;
  namespace: string;
  pod: string;
  container: string | null;
  channel: string | null;
  startsAt: string;
  /** A crash-loop alert: diagnosed, but replied to only when the verdict is an OOM kind. */
  crashLoop: boolean;
}

export interface AlertPlan {
  status: 'firing' | 'resolved';
  groupKey: string;
  /** Short, stable id of the group for job ids and store keys. */
  groupId: string;
  targets: AlertTarget[];
  undiagnosable: Array<{ label: string; why: string }>;
  /** Alerts of other names in the group, and of other clusters: acknowledged and left alone. */
  ignored: Array<{ alertname: string; why: string }>;
  channel: string | null;
  /** Alerts Alertmanager left out of this delivery (its receiver's max_alerts). */
  truncatedAlerts: number;
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function alertId(alert: WebhookAlert): string {
  if (alert.fingerprint && /^[A-Za-z0-9]+$/.test(alert.fingerprint))
    return `${alert.fingerprint}-${shortHash(alert.startsAt).slice(0, 8)}`;
  // Older Alertmanagers send no fingerprint: hash the sorted labels instead.
  const sorted = Object.keys(alert.labels)
    .sort()
    .map((k) => `${k}=${alert.labels[k]}`)
    .join(',');
  return `${shortHash(sorted)}-${shortHash(alert.startsAt).slice(0, 8)}`;
}

/** Label text bounded to what a job may carry: a foreign alert with huge labels must not sink its group. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A channel label is used only when it looks like a channel id or name. */
function channelLabel(text: string | undefined): string | null {
  return text && /^(#?[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{2,20})$/.test(text) ? text : null;
}

export function planAlerts(
  payload: WebhookPayload,
  config: Pick<BotConfig, 'alerts' | 'clusterName' | 'namespaces'>,
): AlertPlan {
  const { labels: names } = config.alerts;
  const targets: AlertTarget[] = [];
  const undiagnosable: AlertPlan['undiagnosable'] = [];
  const ignored: AlertPlan['ignored'] = [];
  for (const alert of payload.alerts) {
    const alertname = clip(alert.labels.alertname ?? '(no alertname)', 200);
    if (!config.alerts.names.includes(alertname)) {
      ignored.push({ alertname, why: 'not an OOM alert' });
      continue;
    }
    const cluster = alert.labels[names.cluster];
    if (config.clusterName && cluster === undefined && config.alerts.ignoreUnlabelled) {
      ignored.push({
        alertname,
        why: clip(`no ${names.cluster} label, and CLUSTER_UNLABELLED_ALERTS=ignore`, 500),
      });
      continue;
    }
    if (config.clusterName && cluster !== undefined && cluster !== config.clusterName) {
      ignored.push({
        alertname,
        why: clip(`for cluster ${cluster}, and this bot serves ${config.clusterName}`, 500),
      });
      continue;
    }
    const namespaceText = alert.labels[names.namespace];
    const podText = alert.labels[names.pod];
    const label = clip(
      `${alertname}${namespaceText ? ` in ${namespaceText}` : ''}${podText ? `/${podText}` : ''}`,
      500,
    );
    if (!podText || !namespaceText) {
      undiagnosable.push({
        label,
        why: `no ${!podText ? names.pod : names.namespace} label, so there is no pod to look at`,
      });
      continue;
    }
    try {
      const namespace = parseNamespace(namespaceText);
      const pod = parsePodName(podText);
      const containerText = alert.labels[names.container];
      const container = containerText ? parseContainerName(containerText) : null;
      if (config.namespaces && !config.namespaces.includes(namespace)) {
        undiagnosable.push({
          label,
          why: `namespace ${namespace} is not one this bot may read (OOM_NAMESPACES)`,
        });
        continue;
      }
      targets.push({
        id: alertId(alert),
        alertname,
        namespace,
        pod,
        container,
        channel: channelLabel(alert.labels[names.channel]),
        startsAt: alert.startsAt,
        crashLoop: config.alerts.crashLoopNames.includes(alertname),
      });
    } catch (error) {
      undiagnosable.push({ label, why: clip((error as Error).message, 500) });
    }
  }
  const channel =
    targets.find((t) => t.channel)?.channel ?? channelLabel(payload.commonLabels[names.channel]);
  return {
    status: payload.status,
    groupKey: payload.groupKey,
    groupId: shortHash(payload.groupKey),
    targets,
    undiagnosable,
    ignored,
    channel,
    truncatedAlerts: payload.truncatedAlerts ?? 0,
  };
}
