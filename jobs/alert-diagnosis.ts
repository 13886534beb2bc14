// One alerted pod: diagnose it and answer in its incident's thread, once per workload within the
// dedupe window (later kills of the same workload are counted and linked). A job that fails for
// good says so in the thread and in the parent's line; a cosmetic write never fails the job.
import type { Logger } from 'pino';
import type { ClusterReader } from '../src/adapters/kubernetes';
import { pickContainer } from '../src/adapters/container-choice';
import { resolveWorkload, type ApiObject } from '../src/adapters/kubernetes-objects';
import type { DiagnoseAlertJob } from '../src/bot/jobs';
import { PermanentJobError, type JobMeta } from '../src/bot/queue';
import type { DiagnosedRecord, WorkloadLine } from '../src/bot/store';
import { CAUSE_TITLES } from '../src/core/classify';
import { formatDuration } from '../src/core/duration';
import { isPermanent } from '../src/core/errors';
import type { Limiter } from '../src/core/limiter';
import { MINUTE_MS, WEEK_MS } from '../src/core/time';
import type { Diagnosis, Verdict } from '../src/core/types';
import { diagnose, type DiagnoseDeps } from '../src/diagnose';
import { rerunValue } from '../src/slack/action-ids';
import { failureMessage } from '../src/slack/blocks';
import { withCache } from './cached-cluster';
import { failureInWords } from './failure';
import { parentThread, podLineKey, refreshParent, type IncidentDeps } from './incidents';
import { postPlaceholder, progressReporter, publishDiagnosis } from './publish';

/** Most diagnoses are posted within this: only a slower one shows a placeholder first. */
const PLACEHOLDER_DELAY_MS = 3_000;

export const OOM_VERDICTS: readonly Verdict[] = ['cgroup-oom', 'child-process-oom', 'node-pressure-eviction'];

export interface AlertDiagnosisDeps extends IncidentDeps {
  cluster: ClusterReader;
  engine: (cluster: ClusterReader) => DiagnoseDeps;
  onDiagnosisPosted?: (info: {
    jobId: string;
    receivedAt: number;
    postedAt: number;
    verdict: Verdict;
    cause: string | null;
    /** Gathering and classifying, without the Slack writes. */
    diagnosisMs: number;
  }) => void;
  /** An alert answered in its thread some other way: a repeated-kill count, or its failure in words. */
  onAnswered?: (how: 'repeat-kill' | 'failure') => void;
  /** Diagnoses at once (WORKER_CONCURRENCY); more jobs than that may wait on Slack meanwhile. */
  diagnoses?: Limiter;
  /** Called when a user could not be told that a job failed (for metrics), with the way that failed. */
  onUntold?: (via: 'thread' | 'channel' | 'response_url' | 'ephemeral' | 'nowhere', error: unknown) => void;
}

export function workloadLabel(kind: string, namespace: string, name: string, container: string): string {
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

export function statusLine(d: Diagnosis): string {
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

/** The key of an alert's reply in the outbox: its post happens once, whatever retries come. */
export function alertReplyKey(targetId: string): string {
  return `alert-${targetId}`;
}

export async function handleDiagnoseAlert(
  job: DiagnoseAlertJob,
  meta: JobMeta,
  deps: AlertDiagnosisDeps,
  log: Logger,
): Promise<void> {
  const { target, groupId } = job;
  // Only where the thread is: the job holds it while it waits for a diagnosis slot, and in a storm
  // hundreds wait (the whole record, whose firing list grows with the storm, once filled the heap).
  const thread = await parentThread(groupId, deps);
  if (!thread) throw new PermanentJobError(`the incident ${groupId} is unknown (expired?)`);
  const podKey = podLineKey(target.namespace, target.pod);
  const replyKey = alertReplyKey(target.id);
  const where = { key: replyKey, channel: thread.channel, threadTs: thread.ts };
  const lastTry = (error: unknown) => isPermanent(error) || meta.attempt >= meta.maxAttempts;
  const cluster = withCache(deps.cluster);

  let pod: ApiObject;
  try {
    pod = await cluster.readPod(target.namespace, target.pod);
  } catch (error) {
    if (lastTry(error)) {
      const words = failureInWords(error);
      await setLine(deps, groupId, podKey, {
        namespace: target.namespace,
        label: `${target.namespace}/${target.pod}`,
        status: `could not diagnose: ${words}`,
      });
      await tellThread(
        deps,
        where,
        { namespace: target.namespace, pod: target.pod, container: target.container ?? '' },
        words,
        log,
      );
    }
    throw error;
  }
  const container = target.container ?? pickContainer(pod) ?? '';
  const ref = { namespace: target.namespace, pod: target.pod, container };
  const workload = await resolveWorkload(pod, (kind, ns, name) => cluster.readWorkload(kind, ns, name)).catch(
    () => null,
  );
  const kind = workload?.kind ?? 'Pod';
  const name = workload?.name ?? target.pod;
  const label = workloadLabel(kind, target.namespace, name, container);
  const dedupeKey = `${deps.config.clusterName ?? 'cluster'}/${target.namespace}/${kind}/${name}/${container}`;
  const now = deps.now?.() ?? Date.now();
  // From here the pod's line is its workload's line: the pods of one workload share one line.
  const line = (status: string, link?: string | null) =>
    setWorkloadLine(deps, groupId, { podKey, workloadKey: workloadLineKey(dedupeKey) }, (current) => ({
      namespace: target.namespace,
      label,
      status,
      ...(link ? { link } : {}),
      ...(current?.repeat ? { repeat: current.repeat } : {}),
    }));

  // Claim this workload for one diagnosis within the dedupe window. A retry of our own job finds its reply.
  const ownReply = await deps.slack.postedUnder(replyKey);
  if (!ownReply) {
    const existing = await deps.store.claimDiagnosed(
      dedupeKey,
      { channel: '', ts: '', threadTs: '', link: null, firstAt: now, kills: 1, label, claimedBy: replyKey },
      deps.config.dedupeWindowMs,
    );
    if (existing && existing.claimedBy !== replyKey) {
      await recordRepeatKill(
        existing,
        { dedupeKey, groupId, threadTs: thread.ts, podKey, label, now, namespace: target.namespace },
        deps,
      );
      return;
    }
  }

  try {
    // The pod line becomes the workload line: pods of one workload share it. Cosmetic from here on.
    await line('diagnosing…');
    const placeholder = target.crashLoop ? null : postPlaceholder(deps, where, ref, PLACEHOLDER_DELAY_MS);
    let diagnosis: Diagnosis;
    const diagnosisStarted = Date.now();
    try {
      diagnosis = await diagnoseInSlot(deps, () =>
        diagnose(
          {
            target: { kind: 'pod', namespace: target.namespace, pod: target.pod },
            // Unnamed by the alert: the engine chooses, with the OOM counters and node events as hints.
            ...(target.container ? { container: target.container } : {}),
            windowMs: deps.config.diagnosisWindowMs,
          },
          {
            ...deps.engine(cluster),
            onProgress: progressReporter(deps, () => placeholder?.current() ?? null, ref, meta.attempt),
          },
        ),
      );
    } catch (error) {
      if (lastTry(error)) {
        const words = failureInWords(error);
        await line(`could not diagnose: ${words}`);
        await tellThread(deps, where, ref, words, log);
      }
      throw error;
    } finally {
      placeholder?.stop(); // what comes next is shown under the same key
    }

    if (target.crashLoop && !OOM_VERDICTS.includes(diagnosis.verdict)) {
      // A crash loop that is not an OOM: counted in the parent, no reply.
      await deps.store.releaseDiagnosed(dedupeKey);
      await deps.store.updateGroup(groupId, (g) => ({ ...g, notOomCount: g.notOomCount + 1 }), WEEK_MS);
      await line(statusLine(diagnosis));
      log.info({ verdict: diagnosis.verdict }, 'crash loop is not an OOM kill; no reply');
      return;
    }
    const diagnosisEnded = Date.now();
    const reply = await publishDiagnosis(diagnosis, where, deps, cluster);
    await deps.store.setReply(replyKey, reply, WEEK_MS);
    const link = await deps.slack.permalink(reply.channel, reply.ts);
    // Later kills counted while this ran stay counted.
    const posted = { channel: reply.channel, ts: reply.ts, threadTs: reply.threadTs, link, label };
    const recorded = await deps.store.updateDiagnosed(
      dedupeKey,
      (current) => ({ ...current, ...posted }),
      deps.config.dedupeWindowMs,
    );
    if (!recorded)
      await deps.store.setDiagnosed(
        dedupeKey,
        { ...posted, firstAt: now, kills: 1 },
        deps.config.dedupeWindowMs,
      );
    await line(statusLine(diagnosis), link);
    deps.onDiagnosisPosted?.({
      jobId: meta.id,
      receivedAt: job.receivedAt,
      postedAt: Date.now(),
      verdict: diagnosis.verdict,
      cause: diagnosis.causes[0]?.id ?? null,
      diagnosisMs: diagnosisEnded - diagnosisStarted,
    });
  } catch (error) {
    // Whatever failed, the workload is free again: a later alert or retry diagnoses it.
    await deps.store.releaseDiagnosed(dedupeKey);
    throw error;
  }
}

export async function setLine(
  deps: IncidentDeps,
  groupId: string,
  key: string,
  line: { namespace: string; label: string; status: string; link?: string },
): Promise<void> {
  await deps.store.setWorkloadLine(groupId, key, { ...line, order: 0 }, WEEK_MS);
  refreshParent(groupId, deps);
}

/** Runs a diagnosis when a diagnosis slot is free (all at once without a limiter). */
export function diagnoseInSlot(deps: AlertDiagnosisDeps, work: () => Promise<Diagnosis>): Promise<Diagnosis> {
  return deps.diagnoses ? deps.diagnoses.run(work) : work();
}

export function workloadLineKey(dedupeKey: string): string {
  return `workload:${dedupeKey}`;
}

/** Sets a workload's line in the parent, taking over its pod's line (the alert's, while queued). */
async function setWorkloadLine(
  deps: IncidentDeps,
  groupId: string,
  keys: { podKey: string; workloadKey: string },
  change: (current: WorkloadLine | null) => Omit<WorkloadLine, 'order'>,
): Promise<void> {
  await deps.store.updateWorkloadLine(groupId, keys.workloadKey, change, WEEK_MS, { replaces: keys.podKey });
  refreshParent(groupId, deps);
}

/** The failure in the thread, as the alert's reply; a failure to say it is logged and counted. */
export async function tellThread(
  deps: AlertDiagnosisDeps,
  where: { key: string; channel: string; threadTs: string },
  target: { namespace: string; pod: string; container: string },
  words: string,
  log: Logger,
): Promise<void> {
  try {
    await deps.slack.show(
      where.key,
      where.channel,
      where.threadTs,
      failureMessage(target, words, {
        rerunValue: rerunValue(target),
      }),
      { priority: 'reply' },
    );
    deps.onAnswered?.('failure');
  } catch (error) {
    deps.onUntold?.('thread', error);
    log.error(
      { err: (error as Error).message, failure: words },
      'could not tell the thread that a diagnosis failed',
    );
  }
}

/**
 * A later kill of a workload diagnosed (or being diagnosed) within the dedupe window: counted on
 * the workload's line in this incident's parent, linked to the reply; no new reply, no reply edit
 * (in a storm that would be one chat.update per kill).
 */
async function recordRepeatKill(
  existing: DiagnosedRecord,
  ctx: {
    dedupeKey: string;
    groupId: string;
    threadTs: string;
    podKey: string;
    label: string;
    now: number;
    namespace: string;
  },
  deps: AlertDiagnosisDeps,
): Promise<void> {
  const record =
    (await deps.store.updateDiagnosed(
      ctx.dedupeKey,
      (current) => ({ ...current, kills: current.kills + 1 }),
      deps.config.dedupeWindowMs,
    )) ?? existing;
  const within = formatDuration(Math.max(MINUTE_MS, ctx.now - record.firstAt));
  const sameThread = record.threadTs === ctx.threadTs;
  const settled = record.ts
    ? sameThread
      ? 'diagnosed above'
      : 'already diagnosed in an earlier thread'
    : 'diagnosing…';
  await setWorkloadLine(
    deps,
    ctx.groupId,
    { podKey: ctx.podKey, workloadKey: workloadLineKey(ctx.dedupeKey) },
    (current) => ({
      namespace: ctx.namespace,
      label: ctx.label,
      // The diagnosis's own status when this parent shows it already; else where it is.
      status: current?.status ?? settled,
      ...((current?.link ?? record.link) ? { link: (current?.link ?? record.link) as string } : {}),
      repeat: { kills: record.kills, within },
    }),
  );
  deps.onAnswered?.('repeat-kill');
}
