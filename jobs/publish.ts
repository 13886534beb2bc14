// Posting a diagnosis into its thread: the reply (posted as the diagnosis directly when it is ready
// before its placeholder's turn), the Apply button bound to it, the chart uploaded once, progress
// while it runs. Everything goes through the Slack outbox, keyed, so retries and crashes post once.
import type { Logger } from 'pino';
import type { ClusterReader } from '../src/adapters/kubernetes';
import type { PostedMessage, SlackPoster } from '../src/adapters/slack';
import { SUGGESTION_TTL_MS } from '../src/apply/suggestion';
import type { BotConfig } from '../src/config/bot';
import type { ReplyRecord, StateStore } from '../src/bot/store';
import { WEEK_MS } from '../src/core/time';
import type { Diagnosis } from '../src/core/types';
import { renderMemoryChartPng, type MemoryChartInput } from '../src/render/chart';
import { rerunValue } from '../src/slack/action-ids';
import { diagnosisMessage, progressMessage, type ProgressStage, type TargetRef } from '../src/slack/blocks';
import { offerApply, storedApplyOptions } from './apply-offer';

export interface PublishDeps {
  config: BotConfig;
  store: StateStore;
  slack: SlackPoster;
  logger: Logger;
  now?: () => number;
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

/**
 * What a posted diagnosis message shows besides the diagnosis: why there is no Apply button. Stored
 * with the diagnosis, so that every re-render (an apply, an undo) keeps it.
 */
export interface MessageExtras {
  applyUnavailableReason?: string;
}
type StoredDiagnosis = Diagnosis & { extras?: MessageExtras };

/** Re-renders a posted diagnosis (its Apply button as the suggestion's state says, its extras). */
export async function renderStored(
  deps: PublishDeps,
  channel: string,
  ts: string,
  change: (extras: MessageExtras) => MessageExtras = (e) => e,
): Promise<void> {
  const stored: StoredDiagnosis | null = await deps.store.getDiagnosis(channel, ts);
  if (!stored) return;
  const current = stored.extras ?? {};
  const extras = change(current);
  if (extras !== current) {
    const updated: StoredDiagnosis = { ...stored, extras };
    await deps.store.setDiagnosis(channel, ts, updated, WEEK_MS);
  }
  // Rendered when its turn comes, so a burst of re-renders sends the latest once.
  await deps.slack.update(channel, ts, async () => {
    const apply = await storedApplyOptions(deps.store, channel, ts);
    const reason = apply.applyUnavailableReason ?? extras.applyUnavailableReason;
    return diagnosisMessage(stored, {
      ...apply,
      ...(reason ? { applyUnavailableReason: reason } : {}),
      rerunValue: rerunValue(stored.target),
    });
  });
}

/**
 * Progress edits of a reply: cosmetic, so dropped whenever the edit budget is short, never waited
 * for, and never able to replace a later state (the outbox versions each message's edits).
 */
export function progressReporter(
  deps: PublishDeps,
  reply: () => PostedMessage | null,
  target: TargetRef,
  attempt: number,
): (stage: ProgressStage) => void {
  let last = 0;
  return (stage) => {
    const posted = reply();
    if (!posted) return;
    const now = Date.now();
    if (now - last < 1000 && stage !== 'querying-prometheus') return;
    last = now;
    deps.slack
      .update(posted.channel, posted.ts, progressMessage(target, stage, attempt), {
        priority: 'cosmetic',
        droppable: true,
      })
      .catch((error: unknown) =>
        deps.logger.debug({ err: (error as Error).message }, 'a progress edit was not delivered'),
      );
  };
}

/**
 * The placeholder of a reply, posted after `delayMs` when the channel's budget allows; the diagnosis
 * may overtake it (it is then posted directly). Alerts wait a few seconds first: most diagnoses are
 * ready by then, and in a storm a placeholder would cost a post's turn and an edit per workload.
 * `stop()` before showing anything else under the key, so a late timer never posts over it.
 */
export function postPlaceholder(
  deps: PublishDeps,
  where: { key: string; channel: string; threadTs: string },
  target: TargetRef,
  delayMs = 0,
): { current: () => PostedMessage | null; stop: () => void } {
  let posted: PostedMessage | null = null;
  let stopped = false;
  const post = () => {
    if (stopped) return;
    deps.slack
      .show(where.key, where.channel, where.threadTs, progressMessage(target, 'queued'), {
        priority: 'background',
      })
      .then((p) => {
        posted = p;
      })
      .catch((error: unknown) =>
        deps.logger.warn({ err: (error as Error).message }, 'the placeholder reply could not be posted'),
      );
  };
  const timer = delayMs > 0 ? setTimeout(post, delayMs) : null;
  if (!timer) post();
  return {
    current: () => posted,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * Shows the diagnosis as the keyed reply in the thread (posting it, or editing the placeholder),
 * with its Apply button, and uploads the chart once. Returns where the reply is.
 */
export async function publishDiagnosis(
  diagnosis: Diagnosis,
  where: { key: string; channel: string; threadTs: string },
  deps: PublishDeps,
  cluster: ClusterReader,
): Promise<ReplyRecord> {
  // The button's suggestion is prepared first and bound to the message once Slack gave it a ts.
  const apply = await offerApply(
    diagnosis,
    { channel: where.channel, ts: '', threadTs: where.threadTs },
    deps,
    cluster,
  );
  const message = diagnosisMessage(diagnosis, {
    ...apply,
    rerunValue: rerunValue(diagnosis.target),
  });
  const posted = await deps.slack.show(where.key, where.channel, where.threadTs, message, {
    priority: 'reply',
  });
  const reply: ReplyRecord = { channel: posted.channel, ts: posted.ts, threadTs: where.threadTs };
  if (apply.suggestionId) await bindSuggestion(deps.store, apply.suggestionId, reply);
  const extras: MessageExtras = apply.applyUnavailableReason
    ? { applyUnavailableReason: apply.applyUnavailableReason }
    : {};
  const stored: StoredDiagnosis = { ...diagnosis, extras };
  await deps.store.setDiagnosis(reply.channel, reply.ts, stored, WEEK_MS);
  if (diagnosis.series.points.length > 1) {
    const png = await renderMemoryChartPng(chartInput(diagnosis));
    await deps.slack.upload(
      reply.channel,
      reply.threadTs,
      {
        filename: `memory-${diagnosis.target.pod}.png`,
        title: `Memory of ${diagnosis.target.pod} (${diagnosis.target.container}) against its limit`,
        bytes: png,
      },
      { key: `${where.key}:chart`, priority: 'reply' },
    );
  }
  return reply;
}

async function bindSuggestion(store: StateStore, id: string, message: ReplyRecord): Promise<void> {
  const record = await store.getSuggestion(id);
  if (!record) return;
  await store.setSuggestion(
    id,
    { ...record, message, diagnosisId: `${message.channel}:${message.ts}` },
    SUGGESTION_TTL_MS,
  );
}
