// POST /alertmanager: authenticate, validate, enqueue, answer. Nothing slow happens here: the
// answer is 2xx only once the whole group is durably queued, and 5xx when it cannot be, so that
// Alertmanager retries and no alert is lost silently.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { BotConfig } from '../src/config/bot';
import { parseWebhook, planAlerts, shortHash } from '../src/bot/alertmanager';
import { alertsReceivedTotal, userNotificationFailuresTotal, webhookRequestsTotal } from '../src/bot/metrics';
import { QueueUnavailableError, type JobQueue } from '../src/bot/queue';
import type { SlackPoster } from '../src/adapters/slack';
import { ParseError } from '../src/core/errors';
import { MINUTE_MS } from '../src/core/time';
import { webhookRefusedMessage } from '../src/slack/blocks';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookDeps {
  config: BotConfig;
  queue: JobQueue;
  logger: Logger;
  now?: () => number;
  /** Where a refused payload is said: Alertmanager does not retry a 4xx, so otherwise it is lost unseen. */
  slack?: Pick<SlackPoster, 'post'>;
}

/** At most one notice per reason in this long, so a storm of refused payloads is one line, not a flood. */
const REFUSAL_NOTICE_INTERVAL_MS = MINUTE_MS;

/**
 * Says in the alert channel that a payload was refused, why, and what to change. Fire and forget:
 * the answer to Alertmanager never waits for Slack, and a failure to post is logged at error level.
 */
function refusalNotifier(deps: WebhookDeps): (reason: string, fix: string) => void {
  const lastSaid = new Map<string, number>();
  return (reason, fix) => {
    const slack = deps.slack;
    if (!slack) return;
    const now = deps.now?.() ?? Date.now();
    const key = reason.slice(0, 40);
    if (now - (lastSaid.get(key) ?? -Infinity) < REFUSAL_NOTICE_INTERVAL_MS) return;
    lastSaid.set(key, now);
    slack.post(deps.config.slack.alertChannel, webhookRefusedMessage(reason, fix)).catch((error: unknown) => {
      userNotificationFailuresTotal.inc({ via: 'channel' });
      deps.logger.error(
        { err: (error as Error).message, reason },
        'could not tell the alert channel that a webhook was refused',
      );
    });
  };
}

const MAX_ALERTS_FIX =
  'Set max_alerts (at most 400) on the oomdoctor webhook in the Alertmanager receiver, as deploy/alertmanager-receiver.yaml does.';

function answer(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? '');
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => Object.assign(new Error('body too large'), { status: 413 });
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      req.resume(); // Drain without keeping it, so the 413 answer reaches the sender.
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function alertmanagerWebhook(deps: WebhookDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const refused = refusalNotifier(deps);
  return (req, res) => {
    res.once('finish', () => webhookRequestsTotal.inc({ status: String(res.statusCode) }));
    void handle(req, res, deps, refused).catch((error: unknown) => {
      deps.logger.error({ err: (error as Error).message }, 'alertmanager webhook failed');
      if (!res.headersSent) answer(res, 500, { error: 'internal error; Alertmanager will retry' });
    });
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  deps: WebhookDeps,
  refused: (reason: string, fix: string) => void,
): Promise<void> {
  const token = deps.config.alertmanager.token;
  if (token && !bearerMatches(req.headers.authorization, token)) {
    deps.logger.warn(
      { remote: req.socket.remoteAddress },
      'alertmanager webhook refused: missing or wrong bearer token',
    );
    refused(
      '401: missing or wrong bearer token',
      "Set http_config.authorization.credentials in the receiver to the bot's ALERTMANAGER_TOKEN.",
    );
    res.setHeader('WWW-Authenticate', 'Bearer');
    answer(res, 401, {
      error:
        'missing or wrong bearer token: set http_config.authorization.credentials to ALERTMANAGER_TOKEN in the Alertmanager receiver',
    });
    return;
  }
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    answer(res, 415, { error: 'expected Content-Type: application/json' });
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse((await readBody(req, MAX_BODY_BYTES)).toString('utf8'));
  } catch (error) {
    const status = (error as { status?: number }).status ?? 400;
    if (status === 413) res.setHeader('Connection', 'close');
    refused(
      status === 413
        ? `413: the body is larger than ${MAX_BODY_BYTES} bytes`
        : '400: the body is not valid JSON',
      status === 413
        ? MAX_ALERTS_FIX
        : "Check what posts to /alertmanager: only Alertmanager's webhook should.",
    );
    answer(res, status, {
      error: status === 413 ? `body larger than ${MAX_BODY_BYTES} bytes` : 'body is not valid JSON',
    });
    return;
  }
  let plan;
  try {
    plan = planAlerts(parseWebhook(body), deps.config);
  } catch (error) {
    if (error instanceof ParseError) {
      deps.logger.warn({ err: error.message }, 'alertmanager webhook refused: malformed payload');
      const tooMany = /alerts/.test(error.message) && /1000|too (many|big)/i.test(error.message);
      refused(
        `400: ${error.message.slice(0, 300)}`,
        tooMany
          ? MAX_ALERTS_FIX
          : 'Check the receiver: it must be a webhook_config of Alertmanager 0.25 or later.',
      );
      answer(res, 400, { error: error.message });
      return;
    }
    throw error;
  }
  const log = deps.logger.child({ groupId: plan.groupId, status: plan.status });
  for (const ignored of plan.ignored)
    log.info({ alertname: ignored.alertname, why: ignored.why }, 'alert left alone');
  if (plan.targets.length === 0 && plan.undiagnosable.length === 0 && plan.status === 'firing') {
    answer(res, 200, { queued: 0, ignored: plan.ignored.length });
    return;
  }
  const alertName = (
    (body as { commonLabels?: Record<string, string> }).commonLabels?.alertname ??
    plan.targets[0]?.alertname ??
    'OOM alert'
  ).slice(0, 200);
  // One job per delivery of a group state: a re-send of the same alerts is recognised and ignored.
  const stateKey = `${plan.status}|${plan.targets
    .map((t) => t.id)
    .sort()
    .join(',')}|${plan.undiagnosable
    .map((u) => u.label)
    .sort()
    .join(',')}`;
  const jobId = `group-${plan.groupId}-${shortHash(stateKey)}`;
  try {
    const result = await deps.queue.add(
      { kind: 'alert-group', receivedAt: deps.now?.() ?? Date.now(), plan, alertName },
      jobId,
    );
    log.info(
      { jobId, targets: plan.targets.length, duplicate: result === 'duplicate' },
      'alert group queued',
    );
    if (result === 'added' && plan.status === 'firing') alertsReceivedTotal.inc(plan.targets.length);
    answer(res, 200, {
      queued: result === 'added' ? plan.targets.length : 0,
      duplicate: result === 'duplicate',
      undiagnosable: plan.undiagnosable.length,
      ignored: plan.ignored.length,
    });
  } catch (error) {
    if (error instanceof QueueUnavailableError) {
      log.error({ err: error.message }, 'cannot queue the alert group; Alertmanager will retry');
      answer(res, 503, { error: `cannot queue the alerts right now (${error.message}); retry later` });
      return;
    }
    throw error;
  }
}
