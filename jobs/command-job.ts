// `/oom <target>` and the Re-run button: find the pod, post a thread for the answer, diagnose into
// it. Every way this can end is said to the person who asked: in the thread, or through the
// command's response_url (or an ephemeral message) when there is no thread yet.
import type { Logger } from 'pino';
import type { ClusterReader } from '../src/adapters/kubernetes';
import { pickContainer } from '../src/adapters/container-choice';
import type { ApiObject } from '../src/adapters/kubernetes-objects';
import { SlackDeliveryError } from '../src/adapters/slack';
import type { CommandJob, RerunJob } from '../src/bot/jobs';
import { PermanentJobError, type JobMeta } from '../src/bot/queue';
import { isPermanent } from '../src/core/errors';
import { parseCommandTarget } from '../src/core/target';
import type { TargetRequest } from '../src/core/types';
import { diagnose, resolvePod } from '../src/diagnose';
import { rerunValue } from '../src/slack/action-ids';
import {
  commandFailedMessage,
  failureMessage,
  groupParentMessage,
  namespaceRefusedMessage,
  podPickerMessage,
  responseUrlText,
  type TargetRef,
} from '../src/slack/blocks';
import { diagnoseInSlot, type AlertDiagnosisDeps } from './alert-diagnosis';
import { withCache } from './cached-cluster';
import { failureInWords } from './failure';
import { postPlaceholder, progressReporter, publishDiagnosis } from './publish';

/** A pod's namespace and name, read defensively off the API object. */
function identityOf(pod: ApiObject): { namespace: string; name: string } {
  const metadata = pod.metadata as { namespace?: unknown; name?: unknown } | undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return { namespace: text(metadata?.namespace), name: text(metadata?.name) };
}

async function findPods(
  request: TargetRequest | { kind: 'bare'; pod: string },
  deps: AlertDiagnosisDeps,
  cluster: ClusterReader,
): Promise<ApiObject[]> {
  if (request.kind !== 'bare') return [await resolvePod(cluster, request)];
  const pods = await cluster.listPodsAllNamespaces(`metadata.name=${request.pod}`);
  const allowed = deps.config.namespaces;
  return pods.filter((p) => !allowed || allowed.includes(identityOf(p).namespace));
}

export async function handleCommand(
  job: CommandJob,
  meta: JobMeta,
  deps: AlertDiagnosisDeps,
  log: Logger,
): Promise<void> {
  try {
    await answerCommand(job, meta, deps, log);
  } catch (error) {
    // Before a thread exists, the only way to tell the person is the command's own channel back.
    if (
      (isPermanent(error) || meta.attempt >= meta.maxAttempts) &&
      !(await deps.slack.postedUnder(`cmd-${meta.id}`))
    )
      await tellUser(job, commandFailedMessage(job.text.trim(), failureInWords(error)), deps).catch(
        (untold: unknown) => {
          deps.onUntold?.(job.responseUrl ? 'response_url' : 'ephemeral', untold);
          log.error(
            { err: (untold as Error).message },
            'could not tell the /oom caller that the command failed',
          );
        },
      );
    throw error;
  }
}

async function answerCommand(
  job: CommandJob,
  meta: JobMeta,
  deps: AlertDiagnosisDeps,
  log: Logger,
): Promise<void> {
  const cluster = withCache(deps.cluster);
  const request = parseCommandTarget(job.text);
  const pods = await findPods(request, deps, cluster);
  if (pods.length === 0) {
    await tellUser(job, podPickerMessage(job.text.trim(), []), deps);
    return;
  }
  if (pods.length > 1) {
    await tellUser(
      job,
      podPickerMessage(
        job.text.trim(),
        pods.map((p) => ({ namespace: identityOf(p).namespace, pod: identityOf(p).name })),
      ),
      deps,
    );
    return;
  }
  const pod = pods[0] as ApiObject;
  const { namespace, name: podName } = identityOf(pod);
  if (deps.config.namespaces && !deps.config.namespaces.includes(namespace)) {
    await tellUser(job, namespaceRefusedMessage(namespace), deps);
    return;
  }
  const container = pickContainer(pod) ?? '';
  let parentTs: string;
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
      undefined,
      { key: `cmd-parent-${meta.id}`, priority: 'interactive' },
    );
    parentTs = parent.ts;
  } catch (error) {
    // A private channel or a DM the bot is not in: answer through response_url, text only.
    if (
      error instanceof SlackDeliveryError &&
      (error.slackError === 'not_in_channel' || error.slackError === 'channel_not_found') &&
      job.responseUrl
    ) {
      log.info({ channel: job.channel }, 'not in the channel; answering through response_url');
      const diagnosis = await diagnoseInSlot(deps, () =>
        diagnose(
          { target: { kind: 'pod', namespace, pod: podName }, windowMs: deps.config.diagnosisWindowMs },
          deps.engine(cluster),
        ),
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
  await diagnoseIntoThread(
    { namespace, pod: podName, container },
    { key: `cmd-${meta.id}`, channel: job.channel, threadTs: parentTs },
    meta,
    deps,
    cluster,
  );
}

export async function tellUser(
  job: CommandJob,
  message: { text: string; blocks?: unknown[] },
  deps: AlertDiagnosisDeps,
): Promise<void> {
  if (job.responseUrl)
    await deps.slack.respond(job.responseUrl, {
      ...message,
      response_type: 'ephemeral',
      replace_original: false,
    });
  else await deps.slack.ephemeral(job.channel, job.userId, message);
}

/** Diagnoses into a keyed reply of a thread; a last failure shows in that reply, with Re-run. */
async function diagnoseIntoThread(
  target: TargetRef,
  where: { key: string; channel: string; threadTs: string },
  meta: JobMeta,
  deps: AlertDiagnosisDeps,
  cluster: ClusterReader,
): Promise<void> {
  const placeholder = postPlaceholder(deps, where, target);
  try {
    const diagnosis = await diagnoseInSlot(deps, () =>
      diagnose(
        {
          target: { kind: 'pod', namespace: target.namespace, pod: target.pod },
          ...(target.container ? { container: target.container } : {}),
          windowMs: deps.config.diagnosisWindowMs,
        },
        {
          ...deps.engine(cluster),
          onProgress: progressReporter(deps, () => placeholder.current(), target, meta.attempt),
        },
      ),
    );
    await publishDiagnosis(diagnosis, where, deps, cluster);
  } catch (error) {
    if (isPermanent(error) || meta.attempt >= meta.maxAttempts) {
      await deps.slack.show(
        where.key,
        where.channel,
        where.threadTs,
        failureMessage(target, failureInWords(error), {
          rerunValue: rerunValue({ ...target, container: target.container ?? '' }),
        }),
        { priority: 'interactive' },
      );
    }
    throw error;
  }
}

export async function handleRerun(
  job: RerunJob,
  meta: JobMeta,
  deps: AlertDiagnosisDeps,
  log: Logger,
): Promise<void> {
  const target = { namespace: job.namespace, pod: job.pod, container: job.container ?? '' };
  log.info({ target }, 're-running a diagnosis');
  if (!job.threadTs) throw new PermanentJobError('a Re-run press without its thread');
  await diagnoseIntoThread(
    target,
    { key: `rerun-${meta.id}`, channel: job.channel, threadTs: job.threadTs },
    meta,
    deps,
    withCache(deps.cluster),
  );
}
