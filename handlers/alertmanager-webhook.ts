// POST /alertmanager: authenticate, validate, enqueue, answer. Nothing slow happens here: the
// answer is 2xx only once the whole group is durably queued, and 5xx when it cannot be, so that
// Alertmanager retries and no alert is lost silently.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { BotConfig } from '../src/bot/config';
import { parseWebhook, planAlerts, shortHash } from '../src/bot/alertmanager';
import { alertsReceivedTotal, webhookRequestsTotal } from '../src/bot/metrics';
import { QueueUnavailableError, type JobQueue } from '../src/bot/queue';
import { ParseError } from '../src/core/errors';

const MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookDeps {
  config: BotConfig;
  queue: JobQueue;
  logger: Logger;
  now?: () => number;
}

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
  return (req, res) => {
    res.once('finish', () => webhookRequestsTotal.inc({ status: String(res.statusCode) }));
    void handle(req, res, deps).catch((error: unknown) => {
      deps.logger.error({ err: (error as Error).message }, 'alertmanager webhook failed');
      if (!res.headersSent) answer(res, 500, { error: 'internal error; Alertmanager will retry' });
    });
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: WebhookDeps): Promise<void> {
  const token = deps.config.alertmanager.token;
  if (token && !bearerMatches(req.headers.authorization, token)) {
    deps.logger.warn(
      { remote: req.socket.remoteAddress },
      'alertmanager webhook refused: missing or wrong bearer token',
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
