// The bot's own metrics, served on GET /metrics in Prometheus' text format. One registry per process
// (not prom-client's global one, so that nothing a dependency registers leaks in). Counters are
// incremented where the thing happens; the queue's backlog is read at scrape time.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'oomdoctor_' });

/** A finished diagnosis, by verdict (`cgroup-oom`, …) and top cause (`limit-too-small`, …, `none`). */
export const diagnosesTotal = new Counter({
  name: 'oomdoctor_diagnoses_total',
  help: 'Diagnoses posted, by verdict and top cause.',
  labelNames: ['verdict', 'cause'] as const,
  registers: [metricsRegistry],
});

/** Seconds from the start of a diagnosis job's gathering to its verdict. */
export const diagnosisDurationSeconds = new Histogram({
  name: 'oomdoctor_diagnosis_duration_seconds',
  help: 'Time to gather evidence and classify one diagnosis.',
  buckets: [0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
  registers: [metricsRegistry],
});

/** Job runs by kind (`diagnose-alert`, `command`, …) and outcome (`completed`, `retried`, `failed`). */
export const jobsTotal = new Counter({
  name: 'oomdoctor_jobs_total',
  help: 'Job runs by kind and outcome: completed, retried (a passing failure), failed (given up).',
  labelNames: ['kind', 'outcome'] as const,
  registers: [metricsRegistry],
});

/** Alerts of a webhook payload queued for a diagnosis (re-sent ones not counted). */
export const alertsReceivedTotal = new Counter({
  name: 'oomdoctor_alerts_received_total',
  help: 'Firing alerts queued for a diagnosis.',
  registers: [metricsRegistry],
});

/** Alerts answered in their thread: a diagnosis, a kill count, or a failure said in words. */
export const alertsAnsweredTotal = new Counter({
  name: 'oomdoctor_alerts_answered_total',
  help: 'Alerts answered in Slack (a diagnosis, a repeated-kill count, or the failure in words).',
  registers: [metricsRegistry],
});

/** Slack Web API calls by method and outcome (`ok`, `error`, `rate_limited` for a 429). */
export const slackCallsTotal = new Counter({
  name: 'oomdoctor_slack_calls_total',
  help: 'Slack Web API calls by method and outcome: ok, error, rate_limited (HTTP 429).',
  labelNames: ['method', 'outcome'] as const,
  registers: [metricsRegistry],
});

/** Failed Kubernetes API requests, by reason (`unreachable`, `forbidden`, `not_found`, `other`). */
export const kubernetesErrorsTotal = new Counter({
  name: 'oomdoctor_kubernetes_request_errors_total',
  help: 'Kubernetes API requests that failed, by reason.',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

/** Failed Prometheus requests, by reason (`unreachable`, `unauthorized`, `bad_query`, `other`). */
export const prometheusErrorsTotal = new Counter({
  name: 'oomdoctor_prometheus_request_errors_total',
  help: 'Prometheus requests that failed, by reason.',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

/** Apply fix and Undo attempts by operation (`apply`, `undo`) and audit event (`applied`, `refused`, …). */
export const fixesTotal = new Counter({
  name: 'oomdoctor_fixes_total',
  help: 'Apply fix and Undo attempts by operation and outcome, as in the audit log.',
  labelNames: ['operation', 'outcome'] as const,
  registers: [metricsRegistry],
});

/** Answers of POST /alertmanager by HTTP status. */
export const webhookRequestsTotal = new Counter({
  name: 'oomdoctor_webhook_requests_total',
  help: 'Alertmanager webhook requests by HTTP status of the answer.',
  labelNames: ['status'] as const,
  registers: [metricsRegistry],
});

/**
 * A failure nobody could be told about, by the way telling failed: `thread` (an alert's or a
 * command's thread), `channel` (the alert channel), `response_url` and `ephemeral` (an /oom caller),
 * `nowhere` (a job naming no place to answer). Each is also logged at error level.
 */
export const userNotificationFailuresTotal = new Counter({
  name: 'oomdoctor_user_notification_failures_total',
  help: 'Failures that could not be told to the user in Slack, by the way telling failed.',
  labelNames: ['via'] as const,
  registers: [metricsRegistry],
});

/** The last result of each /readyz check: 1 passed, 0 failed. */
export const readinessCheckUp = new Gauge({
  name: 'oomdoctor_readiness_check_up',
  help: 'Last result of each readiness check (1 passed, 0 failed).',
  labelNames: ['check'] as const,
  registers: [metricsRegistry],
});

export interface QueueBacklog {
  waiting: number;
  /** Milliseconds the oldest waiting job has waited; null when none waits. */
  oldestWaitingMs: number | null;
}

let readBacklog: (() => Promise<QueueBacklog>) | null = null;
let lastBacklog: Promise<QueueBacklog> | null = null;

/** The queue whose backlog /metrics reports (the last one started in this process). */
export function observeQueueBacklog(read: (() => Promise<QueueBacklog>) | null): void {
  readBacklog = read;
  lastBacklog = null;
}

// Both gauges come from one read per scrape.
function backlogForScrape(): Promise<QueueBacklog> {
  if (!lastBacklog) {
    lastBacklog = (readBacklog ? readBacklog() : Promise.resolve({ waiting: 0, oldestWaitingMs: null }))
      .catch(() => ({ waiting: Number.NaN, oldestWaitingMs: Number.NaN }))
      .finally(() => setImmediate(() => (lastBacklog = null)));
  }
  return lastBacklog;
}

new Gauge({
  name: 'oomdoctor_queue_waiting_jobs',
  help: 'Jobs waiting in the queue (NaN when the queue cannot be read).',
  registers: [metricsRegistry],
  async collect() {
    this.set((await backlogForScrape()).waiting);
  },
});

new Gauge({
  name: 'oomdoctor_queue_oldest_waiting_seconds',
  help: 'Age of the oldest waiting job in seconds (0 when none waits).',
  registers: [metricsRegistry],
  async collect() {
    const { oldestWaitingMs } = await backlogForScrape();
    this.set(oldestWaitingMs === null ? 0 : oldestWaitingMs / 1000);
  },
});

/** GET /metrics. */
export function metricsEndpoint(): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    metricsRegistry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': metricsRegistry.contentType });
        res.end(text);
      },
      (error: Error) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`metrics could not be collected: ${error.message}\n`);
      },
    );
  };
}

/**
 * The same object, with every failed call of its methods counted by the error's code: how the
 * Kubernetes and Prometheus adapters are watched without loading prom-client into them (the CLI
 * uses them too).
 */
export function countingFailures<T extends object>(
  target: T,
  counter: Counter<'reason'>,
  reasonOf: (error: unknown) => string,
): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(object, args);
        if (result instanceof Promise)
          return result.catch((error: unknown) => {
            counter.inc({ reason: reasonOf(error) });
            throw error;
          });
        return result;
      };
    },
  });
}
