// The worker's side: one function per job kind, orchestrating the engine, the store and Slack.
// Every step that posts is idempotent (its message id is stored before anything slow happens), so a
// retried or stalled job updates the same messages and each diagnosis appears exactly once.
import type { Logger } from 'pino';
import { ClusterUnreachableError, ForbiddenError, NotFoundError } from '../src/adapters/errors';
import type { ClusterReader } from '../src/adapters/kubernetes';
import { pickContainer, resolveWorkload, type ApiObject } from '../src/adapters/kubernetes-objects';
import type { SlackMessage, SlackPoster } from '../src/adapters/slack';
import { SlackDeliveryError } from '../src/adapters/slack';
import type { BotConfig } from '../src/bot/config';
import {
  botJobSchema,
  type AlertGroupJob,
  type BotJob,
  type CommandJob,
  type DiagnoseAlertJob,
  type RerunJob,
} from '../src/bot/jobs';
import { PermanentJobError, type JobHandler, type JobMeta, type JobQueue } from '../src/bot/queue';
import type { DiagnosedRecord, GroupThread, StateStore } from '../src/bot/store';
import { CAUSE_TITLES } from '../src/core/classify';
import { formatDuration } from '../src/core/duration';
import { ordinal } from '../src/core/format';
import { parseCommandTarget } from '../src/core/target';
import type { Diagnosis, TargetRequest, Verdict } from '../src/core/types';
import { diagnose, resolvePod, type DiagnoseDeps } from '../src/diagnose';
import { renderMemoryChartPngAsync, type MemoryChartInput } from '../src/render/chart';
import {
  diagnosisMessage,
  failureMessage,
  groupParentMessage,
  podPickerMessage,
  progressMessage,
  responseUrlText,
  type ProgressStage,
} from '../src/slack/blocks';
import { handleApply, handleApplyPreview, type ApplyDeps } from './apply-job';
import { offerApply, storedApplyOptions } from './apply-offer';
import { withCache } from './cached-cluster';

const WEEK_MS = 7 * 24 * 3_600_000;
const OOM_VERDICTS: readonly Verdict[] = ['cgroup-oom', 'child-process-oom', 'node-pressure-eviction'];

export interface WorkerDeps {
  config: BotConfig;
  store: StateStore;
  slack: SlackPoster;
  queue: JobQueue;
  cluster: ClusterReader;
  /** Engine dependencies for one job (a per-job cache over the cluster reader). */
  engine: (cluster: ClusterReader) => DiagnoseDeps;
  logger: Logger;
  now?: () => number;
  /** Called when a diagnosis has been posted (for metrics and benchmarks). */
  onDiagnosisPosted?: (info: {
    jobId: string;
    receivedAt: number;
    postedAt: number;
    verdict: Verdict;
  }) => void;
  /** What "Apply fix" jobs need (the cluster writer, modals, the audit log); absent when applying is off. */
  apply?: Omit<ApplyDeps, 'config' | 'store' | 'slack' | 'logger' | 'refreshDiagnosis'>;
}

export function createJobHandler(deps: WorkerDeps): JobHandler {
  return async (raw: BotJob, meta: JobMeta) => {
    const parsed = botJobSchema.safeParse(raw);
    if (!parsed.success)
      throw new PermanentJobError(
        `job ${meta.id} has data this version cannot read: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      );
    const job = parsed.data;
    const log = deps.logger.child({ jobId: meta.id, kind: job.kind, attempt: meta.attempt });
    try {
      switch (job.kind) {
        case 'alert-group':
          return await handleAlertGroup(job, deps);
        case 'diagnose-alert':
          return await handleDiagnoseAlert(job, meta, deps, log);
        case 'command':
          return await handleCommand(job, meta, deps, log);
        case 'rerun':
          return await handleRerun(job, meta, deps, log);
        case 'apply-preview':
          return await handleApplyPreview(job, meta, applyDeps(deps, log));
        case 'apply':
          return await handleApply(job, meta, applyDeps(deps, log));
      }
    } catch (error) {
      const permanent = isPermanent(error);
      log[permanent || meta.attempt >= meta.maxAttempts ? 'error' : 'warn'](
        { err: (error as Error).message, permanent },
        'job failed',
      );
      throw permanent && !(error instanceof PermanentJobError)
        ? new PermanentJobError((error as Error).message)
        : error;
    }
  };
}

function applyDeps(deps: WorkerDeps, log: Logger): ApplyDeps {
  if (!deps.apply)
    throw new PermanentJobError(
      'an Apply job reached a worker where applying is not configured (APPLY_ENABLED)',
    );
  return {
    ...deps.apply,
    config: deps.config,
    store: deps.store,
    slack: deps.slack,
    logger: log,
    refreshDiagnosis: (channel, ts) => refreshDiagnosisMessage(deps, channel, ts),
  };
}

/** Re-renders a posted diagnosis with its Apply button as the suggestion's state says. */
/**
 * What a posted diagnosis message shows besides the diagnosis: why there is no Apply button, and the
 * running kill count. Stored with the diagnosis, so that every re-render (a kill count, an apply, an
 * undo) keeps what the others added.
 */
interface MessageExtras {
  applyUnavailableReason?: string;
  killCount?: { count: number; windowText: string; subject?: string };
}
type StoredDiagnosis = Diagnosis & { extras?: MessageExtras };

async function renderStored(
  deps: WorkerDeps,
  channel: string,
  ts: string,
  change: (extras: MessageExtras) => MessageExtras = (e) => e,
): Promise<void> {
  const stored: StoredDiagnosis | null = await deps.store.getDiagnosis(channel, ts);
  if (!stored) return;
  const current = stored.extras ?? {};
  const extras = change(current);
  if (extras !== current)
    await deps.store.setDiagnosis(channel, ts, { ...stored, extras } as StoredDiagnosis, WEEK_MS);
  const apply = await storedApplyOptions(deps.store, channel, ts);
  const reason = apply.applyUnavailableReason ?? extras.applyUnavailableReason;
  await deps.slack.update(
    channel,
    ts,
    diagnosisMessage(stored, {
      ...apply,
      ...(reason ? { applyUnavailableReason: reason } : {}),
      rerunValue: rerunValue(stored.target.namespace, stored.target.pod, stored.target.container),
      ...(extras.killCount ? { killCount: extras.killCount } : {}),
    }),
  );
}

export async function refreshDiagnosisMessage(deps: WorkerDeps, channel: string, ts: string): Promise<void> {
  await renderStored(deps, channel, ts);
}

function isPermanent(error: unknown): boolean {
  if (error instanceof PermanentJobError || error instanceof NotFoundError || error instanceof ForbiddenError)
    return true;
  if (error instanceof SlackDeliveryError) return error.permanent;
  return false;
}

/** Failure in words, for the placeholder a person is watching. */
export function failureInWords(error: unknown): string {
  if (error instanceof NotFoundError)
    return `${error.message}. The pod may have been replaced since the alert fired: try its workload, e.g. /oom <namespace>/deploy/<name>.`;
  if (error instanceof ForbiddenError)
    return `the Kubernetes API refused: ${error.message}. The bot's RBAC role needs that permission.`;
  if (error instanceof ClusterUnreachableError)
    return `${error.message}. Retried several times; check the bot's kubeconfig or in-cluster access.`;
  if (error instanceof SlackDeliveryError) return error.message;
  return `an unexpected error: ${(error as Error).message}`;
}

// ---------------------------------------------------------------------------------------------
// Alert groups: one parent message per Alertmanager group, one job per alert.

function parentMessage(
  group: GroupThread,
  lines: Array<{ label: string; status: string; link?: string }>,
  config: BotConfig,
): SlackMessage {
  return groupParentMessage({
    clusterName:
      group.title.kind === 'alert' ? group.title.clusterName : (config.clusterName ?? 'kubernetes'),
    alertName: group.title.kind === 'alert' ? group.title.alertName : '',
    status: group.status,
    workloads: lines.map((l, i) => ({
      key: String(i),
      label: l.label,
      status: l.status,
      ...(l.link ? { link: l.link } : {}),
    })),
    undiagnosable: group.undiagnosable,
    notOomCount: group.notOomCount,
    ...(group.title.kind === 'command'
      ? { commandBy: { userId: group.title.userId, text: group.title.text } }
      : {}),
  });
}

async function refreshParent(groupId: string, deps: WorkerDeps): Promise<void> {
  await deps.store.withLock(`parent:${groupId}`, async () => {
    const group = await deps.store.getGroup(groupId);
    if (!group) return;
    const lines = await deps.store.getWorkloadLines(groupId);
    await deps.slack.update(group.channel, group.ts, parentMessage(group, lines, deps.config));
  });
}

async function handleAlertGroup(job: AlertGroupJob, deps: WorkerDeps): Promise<void> {
  const { plan } = job;
  if (plan.status === 'resolved') {
    const updated = await deps.store.updateGroup(
      plan.groupId,
      (g) => ({ ...g, status: 'resolved' }),
      WEEK_MS,
    );
    if (updated) await refreshParent(plan.groupId, deps);
    return;
  }
  const channel = plan.channel ?? deps.config.slack.alertChannel;
  const group = await deps.store.claimGroup(
    plan.groupId,
    async () => {
      const draft: GroupThread = {
        channel,
        ts: '',
        title: {
          kind: 'alert',
          alertName: job.alertName,
          clusterName: deps.config.clusterName ?? 'kubernetes',
        },
        status: 'firing',
        undiagnosable: plan.undiagnosable,
        notOomCount: 0,
      };
      const posted = await deps.slack.post(
        channel,
        parentMessage(
          draft,
          plan.targets.map((t) => ({
            label: `${t.namespace}/${t.pod}${t.container ? ` · ${t.container}` : ''}`,
            status: 'queued',
          })),
          deps.config,
        ),
      );
      return { ...draft, channel: posted.channel, ts: posted.ts };
    },
    WEEK_MS,
  );
  // A repeat of a group that had resolved fires again: mark it firing, add what is new.
  if (group.status === 'resolved' || plan.undiagnosable.length > 0) {
    await deps.store.updateGroup(
      plan.groupId,
      (g) => ({ ...g, status: 'firing', undiagnosable: mergeByLabel(g.undiagnosable, plan.undiagnosable) }),
      WEEK_MS,
    );
  }
  for (const target of plan.targets) {
    await deps.store.setWorkloadLine(
      plan.groupId,
      `pod:${target.namespace}/${target.pod}`,
      {
        label: `${target.namespace}/${target.pod}${target.container ? ` · ${target.container}` : ''}`,
        status: 'queued',
        order: 0,
      },
      WEEK_MS,
    );
    await deps.queue.add(
      { kind: 'diagnose-alert', receivedAt: job.receivedAt, groupId: plan.groupId, target },
      `alert-${target.id}`,
    );
  }
  await refreshParent(plan.groupId, deps);
}

function mergeByLabel(
  a: Array<{ label: string; why: string }>,
  b: Array<{ label: string; why: string }>,
): Array<{ label: string; why: string }> {
  const seen = new Set(a.map((x) => x.label));
  return [...a, ...b.filter((x) => !seen.has(x.label))];
}

function workloadLabel(kind: string, namespace: string, name: string, container: string): string {
  const short: Record<string, string> = {
    Deployment: 'deploy',
    StatefulSet: 'sts',
    DaemonSet: 'ds',
    CronJob: 'cronjob',
    Job: 'job',
    ReplicaSet: 'rs',
    Pod: 'pod',
  };
  return `${namespace}/${short[kind] ?? kind.toLowerCase()}/${name} · ${container}`;
}

function statusLine(d: Diagnosis): string {
  const top = d.causes[0];
  switch (d.verdict) {
    case 'cgroup-oom':
      return `OOMKilled${top ? `: ${CAUSE_TITLES[top.id]}` : ''}`;
    case 'node-pressure-eviction':
      return 'node ran low on memory (not its own limit)';
    case 'child-process-oom':
      return 'a process inside was OOM-killed';
    case 'sigkill-not-oom':
      return 'not an OOM kill (SIGKILL from elsewhere)';
    case 'no-oom-found':
      return 'no OOM kill found';
  }
}

async function handleDiagnoseAlert(
  job: DiagnoseAlertJob,
  meta: JobMeta,
  deps: WorkerDeps,
  log: Logger,
): Promise<void> {
  const { target, groupId } = job;
  const group = await deps.store.getGroup(groupId);
  if (!group) throw new PermanentJobError(`the alert group ${groupId} is unknown (expired?)`);
  const podLineKey = `pod:${target.namespace}/${target.pod}`;
  const cluster = withCache(deps.cluster);

  let pod: ApiObject;
  try {
    pod = await cluster.readPod(target.namespace, target.pod);
  } catch (error) {
    if (isPermanent(error) || meta.attempt >= meta.maxAttempts) {
      await deps.store.setWorkloadLine(
        groupId,
        podLineKey,
        {
          label: `${target.namespace}/${target.pod}`,
          status: `could not diagnose: ${failureInWords(error)}`,
          order: 0,
        },
        WEEK_MS,
      );
      await refreshParent(groupId, deps);
    }
    throw error;
  }
  const container = target.container ?? pickContainer(pod) ?? '';
  const workload = await resolveWorkload(pod, (kind, ns, name) => cluster.readWorkload(kind, ns, name)).catch(
    () => null,
  );
  const kind = workload?.kind ?? 'Pod';
  const name = workload?.name ?? target.pod;
  const label = workloadLabel(kind, target.namespace, name, container);
  const dedupeKey = `${deps.config.clusterName ?? 'cluster'}/${target.namespace}/${kind}/${name}/${container}`;
  const now = deps.now?.() ?? Date.now();
  const replyKey = `alert-${target.id}`;

  // Claim this workload for one diagnosis within the dedupe window. A retry of our own job finds its reply.
  const ownReply = await deps.store.getReply(replyKey);
  if (!ownReply) {
    const existing = await deps.store.claimDiagnosed(
      dedupeKey,
      { channel: '', ts: '', threadTs: '', link: null, firstAt: now, kills: 1, label },
      deps.config.dedupeWindowMs,
    );
    if (existing) {
      await recordRepeatKill(existing, { dedupeKey, groupId, group, podLineKey, label, now }, deps);
      return;
    }
  }

  // The pod line becomes the workload line: pods of one workload share it.
  await deps.store.setWorkloadLine(groupId, podLineKey, { label, status: 'diagnosing…', order: 0 }, WEEK_MS);
  await refreshParent(groupId, deps);

  let reply = ownReply;
  if (!reply && !target.crashLoop) {
    const posted = await deps.slack.post(
      group.channel,
      progressMessage({ namespace: target.namespace, pod: target.pod, container }, 'queued'),
      group.ts,
    );
    reply = { channel: posted.channel, ts: posted.ts, threadTs: group.ts };
    await deps.store.setReply(replyKey, reply, WEEK_MS);
  }
  const progress = progressUpdater(
    deps,
    reply,
    { namespace: target.namespace, pod: target.pod, container },
    meta.attempt,
  );

  let diagnosis: Diagnosis;
  try {
    diagnosis = await diagnose(
      {
        target: { kind: 'pod', namespace: target.namespace, pod: target.pod },
        ...(container ? { container } : {}),
        windowMs: deps.config.diagnosisWindowMs,
      },
      { ...deps.engine(cluster), onProgress: progress },
    );
  } catch (error) {
    await deps.store.releaseDiagnosed(dedupeKey);
    if (reply && (isPermanent(error) || meta.attempt >= meta.maxAttempts)) {
      await deps.slack.update(
        reply.channel,
        reply.ts,
        failureMessage({ namespace: target.namespace, pod: target.pod, container }, failureInWords(error), {
          rerunValue: rerunValue(target.namespace, target.pod, container),
        }),
      );
      await deps.store.setWorkloadLine(
        groupId,
        podLineKey,
        { label, status: 'could not diagnose', order: 0 },
        WEEK_MS,
      );
      await refreshParent(groupId, deps);
    }
    throw error;
  }

  if (target.crashLoop && !OOM_VERDICTS.includes(diagnosis.verdict)) {
    // A crash loop that is not an OOM: counted in the parent, no reply.
    await deps.store.releaseDiagnosed(dedupeKey);
    await deps.store.updateGroup(groupId, (g) => ({ ...g, notOomCount: g.notOomCount + 1 }), WEEK_MS);
    await deps.store.setWorkloadLine(
      groupId,
      podLineKey,
      { label, status: statusLine(diagnosis), order: 0 },
      WEEK_MS,
    );
    await refreshParent(groupId, deps);
    log.info({ verdict: diagnosis.verdict }, 'crash loop is not an OOM kill; no reply');
    return;
  }
  if (!reply) {
    const posted = await deps.slack.post(
      group.channel,
      progressMessage({ namespace: target.namespace, pod: target.pod, container }, 'classifying'),
      group.ts,
    );
    reply = { channel: posted.channel, ts: posted.ts, threadTs: group.ts };
    await deps.store.setReply(replyKey, reply, WEEK_MS);
  }
  await publishDiagnosis(diagnosis, reply, deps, cluster);
  const link = await deps.slack.permalink(reply.channel, reply.ts);
  await deps.store.setDiagnosed(
    dedupeKey,
    { channel: reply.channel, ts: reply.ts, threadTs: reply.threadTs, link, firstAt: now, kills: 1, label },
    deps.config.dedupeWindowMs,
  );
  await deps.store.setWorkloadLine(
    groupId,
    podLineKey,
    { label, status: statusLine(diagnosis), ...(link ? { link } : {}), order: 0 },
    WEEK_MS,
  );
  await refreshParent(groupId, deps);
  deps.onDiagnosisPosted?.({
    jobId: meta.id,
    receivedAt: job.receivedAt,
    postedAt: Date.now(),
    verdict: diagnosis.verdict,
  });
}

async function recordRepeatKill(
  existing: DiagnosedRecord,
  ctx: {
    dedupeKey: string;
    groupId: string;
    group: GroupThread;
    podLineKey: string;
    label: string;
    now: number;
  },
  deps: WorkerDeps,
): Promise<void> {
  if (!existing.ts) {
    // The first diagnosis of this workload is still running: try again shortly, then link to it.
    throw new Error(`waiting for the diagnosis of ${existing.label} in progress`);
  }
  const kills = existing.kills + 1;
  await deps.store.setDiagnosed(ctx.dedupeKey, { ...existing, kills }, deps.config.dedupeWindowMs);
  const sinceText = formatDuration(Math.max(60_000, ctx.now - existing.firstAt));
  const sameThread = existing.threadTs === ctx.group.ts;
  await deps.store.setWorkloadLine(
    ctx.groupId,
    ctx.podLineKey,
    {
      label: ctx.label,
      status: sameThread
        ? `${ordinal(kills)} pod of this workload in the alert (diagnosed once)`
        : `${ordinal(kills)} OOM kill in ${sinceText}: already diagnosed`,
      ...(existing.link ? { link: existing.link } : {}),
      order: 0,
    },
    WEEK_MS,
  );
  await refreshParent(ctx.groupId, deps);
  // The earlier reply gets the running count.
  const subject = ctx.label.replace(/ · .*$/, '').replace(/\/(deploy|sts|ds|cronjob|job|rs|pod)\//, '/');
  await renderStored(deps, existing.channel, existing.ts, (extras) => ({
    ...extras,
    killCount: { count: kills, windowText: sinceText, subject },
  }));
}

// ---------------------------------------------------------------------------------------------
// Posting a diagnosis: the reply updated in place, the chart uploaded into the thread.

function rerunValue(namespace: string, pod: string, container: string): string {
  return JSON.stringify({ namespace, pod, container });
}

function progressUpdater(
  deps: WorkerDeps,
  reply: { channel: string; ts: string } | null,
  target: { namespace: string; pod: string; container: string },
  attempt: number,
) {
  let last = 0;
  let pending: Promise<void> = Promise.resolve();
  return (stage: ProgressStage) => {
    if (!reply) return;
    const now = Date.now();
    // At most one progress edit a second: Slack allows about 50 chat.update calls a minute.
    if (now - last < 1000 && stage !== 'querying-prometheus') return;
    last = now;
    pending = pending.then(() =>
      deps.slack
        .update(reply.channel, reply.ts, progressMessage(target, stage, attempt))
        .catch(() => undefined),
    );
  };
}

/** The chart of a diagnosis: its history, limit, request and kills over its window. */
export function chartInput(diagnosis: Diagnosis): MemoryChartInput {
  return {
    title: `${diagnosis.target.namespace}/${diagnosis.target.pod} · ${diagnosis.target.container}`,
    points: diagnosis.series.points,
    limitBytes: diagnosis.series.limitBytes,
    requestBytes: diagnosis.series.requestBytes,
    kills: diagnosis.kills.map((k) => ({ at: Date.parse(k.at), reason: k.reason })),
    start: Date.parse(diagnosis.window.start),
    end: Date.parse(diagnosis.window.end),
    stepMs: diagnosis.series.stepMs,
  };
}

async function publishDiagnosis(
  diagnosis: Diagnosis,
  reply: { channel: string; ts: string; threadTs: string },
  deps: WorkerDeps,
  cluster: ClusterReader,
): Promise<void> {
  // The job's cached reader: the workload the suggestion snapshots is the one the diagnosis read.
  const apply = await offerApply(diagnosis, reply, deps, cluster);
  const message = diagnosisMessage(diagnosis, {
    ...apply,
    rerunValue: rerunValue(diagnosis.target.namespace, diagnosis.target.pod, diagnosis.target.container),
  });
  await deps.slack.update(reply.channel, reply.ts, message);
  const extras: MessageExtras = apply.applyUnavailableReason
    ? { applyUnavailableReason: apply.applyUnavailableReason }
    : {};
  await deps.store.setDiagnosis(
    reply.channel,
    reply.ts,
    { ...diagnosis, extras } as StoredDiagnosis,
    WEEK_MS,
  );
  if (diagnosis.series.points.length > 1) {
    const png = await renderMemoryChartPngAsync(chartInput(diagnosis));
    await deps.slack.upload(reply.channel, reply.threadTs, {
      filename: `memory-${diagnosis.target.pod}.png`,
      title: `Memory of ${diagnosis.target.pod} (${diagnosis.target.container}) against its limit`,
      bytes: png,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// /oom and Re-run.

async function findPods(
  request: TargetRequest | { kind: 'bare'; pod: string },
  deps: WorkerDeps,
  cluster: ClusterReader,
): Promise<ApiObject[]> {
  if (request.kind !== 'bare') return [await resolvePod(cluster, request)];
  const pods = await cluster.listPodsAllNamespaces(`metadata.name=${request.pod}`);
  const allowed = deps.config.namespaces;
  return pods.filter((p) => !allowed || allowed.includes(String(p.metadata?.namespace)));
}

async function handleCommand(job: CommandJob, meta: JobMeta, deps: WorkerDeps, log: Logger): Promise<void> {
  const cluster = withCache(deps.cluster);
  const request = parseCommandTarget(job.text);
  let pods: ApiObject[];
  try {
    pods = await findPods(request, deps, cluster);
  } catch (error) {
    if (isPermanent(error)) {
      await tellUser(job, { text: `:x: ${failureInWords(error)}` }, deps);
      throw new PermanentJobError((error as Error).message);
    }
    throw error;
  }
  if (pods.length === 0) {
    await tellUser(
      job,
      { text: `:mag: No pod named \`${job.text.trim()}\` in the namespaces this bot may read.` },
      deps,
    );
    return;
  }
  if (pods.length > 1) {
    await tellUser(
      job,
      podPickerMessage(
        job.text.trim(),
        pods.map((p) => ({ namespace: String(p.metadata?.namespace), pod: String(p.metadata?.name) })),
      ),
      deps,
    );
    return;
  }
  const pod = pods[0] as ApiObject;
  const namespace = String(pod.metadata?.namespace);
  const podName = String(pod.metadata?.name);
  if (deps.config.namespaces && !deps.config.namespaces.includes(namespace)) {
    await tellUser(
      job,
      { text: `:no_entry: Namespace \`${namespace}\` is not one this bot may look into.` },
      deps,
    );
    return;
  }
  const container = pickContainer(pod) ?? '';
  const replyKey = `cmd-${meta.id}`;
  let reply = await deps.store.getReply(replyKey);
  if (!reply) {
    try {
      const parent = await deps.slack.post(
        job.channel,
        groupParentMessage({
          clusterName: deps.config.clusterName ?? 'kubernetes',
          alertName: '',
          status: 'firing',
          workloads: [],
          undiagnosable: [],
          notOomCount: 0,
          commandBy: { userId: job.userId, text: `${namespace}/${podName}` },
        }),
      );
      const posted = await deps.slack.post(
        parent.channel,
        progressMessage({ namespace, pod: podName, container }, 'queued'),
        parent.ts,
      );
      reply = { channel: posted.channel, ts: posted.ts, threadTs: parent.ts };
      await deps.store.setReply(replyKey, reply, WEEK_MS);
    } catch (error) {
      // A private channel or a DM the bot is not in: answer through response_url, text only.
      if (
        error instanceof SlackDeliveryError &&
        (error.slackError === 'not_in_channel' || error.slackError === 'channel_not_found') &&
        job.responseUrl
      ) {
        log.info({ channel: job.channel }, 'not in the channel; answering through response_url');
        const diagnosis = await diagnose(
          { target: { kind: 'pod', namespace, pod: podName }, windowMs: deps.config.diagnosisWindowMs },
          deps.engine(cluster),
        );
        await deps.slack.respond(job.responseUrl, {
          text: responseUrlText(diagnosis),
          response_type: 'in_channel',
          replace_original: false,
        });
        return;
      }
      throw error;
    }
  }
  await diagnoseIntoReply({ namespace, pod: podName, container }, reply, meta, deps, cluster);
}

async function tellUser(
  job: CommandJob,
  message: { text: string; blocks?: unknown[] },
  deps: WorkerDeps,
): Promise<void> {
  if (job.responseUrl)
    await deps.slack.respond(job.responseUrl, {
      ...message,
      response_type: 'ephemeral',
      replace_original: false,
    });
  else await deps.slack.ephemeral(job.channel, job.userId, message);
}

async function diagnoseIntoReply(
  target: { namespace: string; pod: string; container: string },
  reply: { channel: string; ts: string; threadTs: string },
  meta: JobMeta,
  deps: WorkerDeps,
  cluster: ClusterReader,
): Promise<void> {
  try {
    const diagnosis = await diagnose(
      {
        target: { kind: 'pod', namespace: target.namespace, pod: target.pod },
        ...(target.container ? { container: target.container } : {}),
        windowMs: deps.config.diagnosisWindowMs,
      },
      { ...deps.engine(cluster), onProgress: progressUpdater(deps, reply, target, meta.attempt) },
    );
    await publishDiagnosis(diagnosis, reply, deps, cluster);
  } catch (error) {
    if (isPermanent(error) || meta.attempt >= meta.maxAttempts) {
      await deps.slack.update(
        reply.channel,
        reply.ts,
        failureMessage(target, failureInWords(error), {
          rerunValue: rerunValue(target.namespace, target.pod, target.container),
        }),
      );
    }
    throw error;
  }
}

async function handleRerun(job: RerunJob, meta: JobMeta, deps: WorkerDeps, log: Logger): Promise<void> {
  const replyKey = `rerun-${meta.id}`;
  let reply = await deps.store.getReply(replyKey);
  const target = { namespace: job.namespace, pod: job.pod, container: job.container ?? '' };
  if (!reply) {
    const posted = await deps.slack.post(job.channel, progressMessage(target, 'queued'), job.threadTs);
    reply = { channel: posted.channel, ts: posted.ts, threadTs: job.threadTs };
    await deps.store.setReply(replyKey, reply, WEEK_MS);
  }
  log.info({ target }, 're-running a diagnosis');
  await diagnoseIntoReply(target, reply, meta, deps, withCache(deps.cluster));
}
