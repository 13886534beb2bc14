// Alert groups into incident threads. The bot, not Alertmanager's grouping, decides what a thread
// is: one incident per cluster, namespace and channel, open for INCIDENT_WINDOW after its last
// alert. Alerts for an open incident go into its thread whatever group they arrive in; when more
// than STORM_THRESHOLD incidents open within a minute in one channel, the rest fold into one storm
// message with one reply per workload under it. Parent messages are edited at most every 30 s.
import { randomUUID } from 'node:crypto';
import type { SlackMessage } from '../src/adapters/slack';
import { shortHash } from '../src/bot/alertmanager';
import type { AlertGroupJob } from '../src/bot/jobs';
import type { JobQueue } from '../src/bot/queue';
import type { GroupThread, WorkloadLine } from '../src/bot/store';
import { plural } from '../src/core/format';
import { MINUTE_MS, SECOND_MS, WEEK_MS } from '../src/core/time';
import { groupParentMessage } from '../src/slack/blocks';
import type { PublishDeps } from './publish';

export interface IncidentDeps extends PublishDeps {
  queue: JobQueue;
  /** At most one edit of a parent message per this interval (default 30 s). */
  parentEditIntervalMs?: number;
}

/** Incidents opened in a channel are counted over this window to tell a storm. */
const STORM_WINDOW_MS = MINUTE_MS;
const PARENT_EDIT_INTERVAL_MS = 30 * SECOND_MS;
/** How long a group job waits for another process to post the parent it needs. */
const PARENT_WAIT_MS = 2 * MINUTE_MS;

type AlertTarget = AlertGroupJob['plan']['targets'][number];

function clusterOf(deps: IncidentDeps): string {
  return deps.config.clusterName ?? 'kubernetes';
}

function podLabel(t: AlertTarget): string {
  return `${t.namespace}/${t.pod}${t.container ? ` · ${t.container}` : ''}`;
}

export function podLineKey(namespace: string, pod: string): string {
  return `pod:${namespace}/${pod}`;
}

/** The parent message of an incident, rendered from what the store holds now. */
export async function renderParent(incidentId: string, deps: PublishDeps): Promise<SlackMessage | null> {
  const group = await deps.store.getGroup(incidentId);
  if (!group) return null;
  const lines = await deps.store.getWorkloadLines(incidentId);
  return parentMessageOf(group, lines, deps.config.clusterName ?? 'kubernetes');
}

export function parentMessageOf(
  group: GroupThread,
  lines: WorkloadLine[],
  clusterName: string,
): SlackMessage {
  const namespaces = new Set(lines.map((l) => l.namespace ?? l.label.split('/')[0]));
  const scope =
    group.scope?.kind === 'storm'
      ? { kind: 'storm' as const, namespaces: namespaces.size }
      : group.scope?.kind === 'namespace'
        ? group.scope
        : undefined;
  return groupParentMessage({
    clusterName: group.title.kind === 'alert' ? group.title.clusterName : clusterName,
    alertName: group.title.kind === 'alert' ? group.title.alertName : '',
    status: group.status,
    workloads: lines.map((l, i) => ({
      key: String(i),
      label: l.label,
      status: l.repeat
        ? `${l.status} · ${plural(l.repeat.kills, 'OOM kill')} in ${l.repeat.within}`
        : l.status,
      ...(l.link ? { link: l.link } : {}),
    })),
    undiagnosable: group.undiagnosable,
    notOomCount: group.notOomCount,
    ...(group.title.kind === 'command'
      ? { commandBy: { userId: group.title.userId, text: group.title.text } }
      : {}),
    ...(scope ? { scope } : {}),
    ...(group.truncatedAlerts ? { truncatedAlerts: group.truncatedAlerts } : {}),
  });
}

/**
 * Asks for the parent to show the store's latest state: an edit of low priority, at most one per
 * interval, rendered when it goes out. Never awaited by a job: counts are cosmetic.
 */
export function refreshParent(incidentId: string, deps: IncidentDeps): void {
  // One refresh waiting per parent and outbox is enough: it renders from the store when its turn
  // comes, so it shows every change made before then. In a storm, a refresh per delivery would keep
  // hundreds waiting up to the parent's edit interval.
  let pending = pendingRefreshes.get(deps.slack);
  if (!pending) pendingRefreshes.set(deps.slack, (pending = new Set<string>()));
  if (pending.has(incidentId)) return;
  pending.add(incidentId);
  void (async () => {
    const thread = await parentThread(incidentId, deps);
    if (!thread) return;
    await deps.slack.update(
      thread.channel,
      thread.ts,
      async () => {
        // From here on a change needs a refresh of its own: this render may already have read it.
        pending.delete(incidentId);
        return (await renderParent(incidentId, deps)) ?? { text: ' ' };
      },
      { priority: 'background', throttleMs: deps.parentEditIntervalMs ?? PARENT_EDIT_INTERVAL_MS },
    );
  })()
    .catch((error: unknown) =>
      deps.logger.warn(
        { err: (error as Error).message, incidentId },
        'the parent message could not be updated',
      ),
    )
    .finally(() => pending.delete(incidentId));
}

/** The incidents whose parent refresh is waiting its turn, per outbox (one per running bot). */
const pendingRefreshes = new WeakMap<object, Set<string>>();

/**
 * Where the parent is, and nothing more: whatever waits (a refresh for its turn, an alert job for a
 * diagnosis slot) holds this, never the whole record (its firing list grows with a storm).
 */
export async function parentThread(
  incidentId: string,
  deps: IncidentDeps,
): Promise<{ channel: string; ts: string } | null> {
  const group = await deps.store.getGroup(incidentId);
  return group?.ts ? { channel: group.channel, ts: group.ts } : null;
}

/**
 * The incident an alert for `namespace` belongs to: the open one, else the channel's open storm,
 * else a new one (a storm when too many opened in the last minute). One decision at a time per
 * channel, so two groups arriving together open one parent.
 */
async function incidentFor(
  namespace: string,
  channel: string,
  alertName: string,
  deps: IncidentDeps,
): Promise<{ id: string; opened: boolean }> {
  const cluster = clusterOf(deps);
  const window = deps.config.incidentWindowMs;
  const key = `${cluster}/${namespace}/${channel}`;
  const stormKey = `${cluster}/(storm)/${channel}`;
  return deps.store.withLock(`incidents:${cluster}/${channel}`, async () => {
    const existing = await deps.store.getIncidentOf(key);
    const existingGroup = existing ? await deps.store.getGroup(existing) : null;
    if (existing && existingGroup) {
      await deps.store.setIncidentOf(key, existing, window);
      if (existingGroup.scope?.kind === 'storm') await deps.store.setIncidentOf(stormKey, existing, window);
      return { id: existing, opened: false };
    }
    const storm = await deps.store.getIncidentOf(stormKey);
    if (storm && (await deps.store.getGroup(storm))) {
      await deps.store.setIncidentOf(key, storm, window);
      await deps.store.setIncidentOf(stormKey, storm, window);
      return { id: storm, opened: false };
    }
    const opened = await deps.store.countIncidentOpened(`${cluster}/${channel}`, STORM_WINDOW_MS);
    const isStorm = opened > deps.config.stormThreshold;
    const id = shortHash(`${key}|${randomUUID()}`);
    const draft: GroupThread = {
      channel,
      ts: '',
      title: { kind: 'alert', alertName, clusterName: cluster },
      status: 'firing',
      undiagnosable: [],
      notOomCount: 0,
      ...(isStorm
        ? { scope: { kind: 'storm' as const } }
        : namespace
          ? { scope: { kind: 'namespace' as const, namespace } }
          : {}),
      firing: [],
    };
    await deps.store.claimGroup(id, async () => draft, WEEK_MS);
    await deps.store.setIncidentOf(key, id, window);
    if (isStorm) {
      await deps.store.setIncidentOf(stormKey, id, window);
      deps.logger.warn({ channel, opened }, 'OOM storm: further incidents fold into one message');
    }
    return { id, opened: true };
  });
}

/** The parent's ts: posted by the job that opened the incident, awaited by the others. */
async function parentOf(id: string, opened: boolean, deps: IncidentDeps): Promise<GroupThread> {
  if (opened) {
    const group = await deps.store.getGroup(id);
    if (!group) throw new Error(`incident ${id} vanished before its parent was posted`);
    if (group.ts) return group;
    const message = (await renderParent(id, deps)) ?? { text: 'OOM alert' };
    const posted = await deps.slack.post(group.channel, message, undefined, {
      key: `parent:${id}`,
      priority: 'reply',
    });
    const updated = await deps.store.updateGroup(
      id,
      (g) => ({ ...g, channel: posted.channel, ts: posted.ts }),
      WEEK_MS,
    );
    return updated ?? { ...group, channel: posted.channel, ts: posted.ts };
  }
  const deadline = Date.now() + PARENT_WAIT_MS;
  for (;;) {
    const group = await deps.store.getGroup(id);
    if (group?.ts) return group;
    if (Date.now() > deadline)
      throw new Error(
        `the parent message of incident ${id} was not posted within ${PARENT_WAIT_MS / 1000} s`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function handleAlertGroup(job: AlertGroupJob, deps: IncidentDeps): Promise<void> {
  const { plan } = job;
  const channel = plan.channel ?? deps.config.slack.alertChannel;
  if (plan.status === 'resolved') {
    await resolveAlerts(plan.targets, channel, deps);
    return;
  }
  // Targets by namespace: one incident each (or the storm). Undiagnosable alerts join the first.
  const byNamespace = new Map<string, AlertTarget[]>();
  for (const t of plan.targets) byNamespace.set(t.namespace, [...(byNamespace.get(t.namespace) ?? []), t]);
  if (byNamespace.size === 0 && plan.undiagnosable.length > 0) byNamespace.set('', []);
  let first = true;
  for (const [namespace, targets] of byNamespace) {
    const { id, opened } = await incidentFor(namespace, channel, job.alertName, deps);
    const undiagnosable = first ? plan.undiagnosable : [];
    first = false;
    await deps.store.updateGroup(
      id,
      (g) => ({
        ...g,
        status: 'firing',
        undiagnosable: mergeByLabel(g.undiagnosable, undiagnosable),
        firing: [...new Set([...(g.firing ?? []), ...targets.map((t) => t.id)])],
        truncatedAlerts: Math.max(g.truncatedAlerts ?? 0, plan.truncatedAlerts),
      }),
      WEEK_MS,
    );
    // A re-delivery merges: a line already there (diagnosed, with its link) is left as it is.
    for (const target of targets)
      await deps.store.setWorkloadLine(
        id,
        podLineKey(target.namespace, target.pod),
        { namespace: target.namespace, label: podLabel(target), status: 'queued', order: 0 },
        WEEK_MS,
        { onlyIfAbsent: true },
      );
    await parentOf(id, opened, deps);
    for (const target of targets)
      await deps.queue.add(
        { kind: 'diagnose-alert', receivedAt: job.receivedAt, groupId: id, target },
        `alert-${target.id}`,
      );
    if (!opened) refreshParent(id, deps);
  }
}

/** Resolved alerts leave their incident's firing set; the incident is resolved when it is empty. */
async function resolveAlerts(targets: AlertTarget[], channel: string, deps: IncidentDeps): Promise<void> {
  const cluster = clusterOf(deps);
  const byIncident = new Map<string, Set<string>>();
  for (const t of targets) {
    const id = await deps.store.getIncidentOf(`${cluster}/${t.namespace}/${channel}`);
    if (!id) continue; // its incident closed long ago, or never opened here: nothing to mark
    byIncident.set(id, new Set([...(byIncident.get(id) ?? []), t.id]));
  }
  for (const [id, resolved] of byIncident) {
    const updated = await deps.store.updateGroup(
      id,
      (g) => {
        const firing = (g.firing ?? []).filter((a) => !resolved.has(a));
        return { ...g, firing, status: firing.length === 0 ? 'resolved' : g.status };
      },
      WEEK_MS,
    );
    if (updated) refreshParent(id, deps);
  }
}

function mergeByLabel(
  a: Array<{ label: string; why: string }>,
  b: Array<{ label: string; why: string }>,
): Array<{ label: string; why: string }> {
  const seen = new Set(a.map((x) => x.label));
  return [...a, ...b.filter((x) => !seen.has(x.label))];
}
