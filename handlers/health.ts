// GET /healthz (the process is up) and GET /readyz (its dependencies answer), in every role.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readinessCheckUp } from '../src/bot/metrics';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean>;
}

export function healthz(): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok' }));
  };
}

/**
 * 503 only when a `checks` entry fails (Redis and the queue: this role cannot take work). `details`
 * adds the latest start-up and periodic checks (Kubernetes, RBAC, Prometheus, Slack) with their
 * reasons to the body without ever making the answer 503.
 */
export function readyz(
  checks: ReadinessCheck[],
  cacheMs = 5000,
  details?: () => object,
): (req: IncomingMessage, res: ServerResponse) => void {
  // Probes come every few seconds: cache the answer briefly rather than call Slack each time.
  let cached: { at: number; results: Record<string, boolean> } | null = null;
  return (_req, res) => {
    void (async () => {
      if (!cached || Date.now() - cached.at > cacheMs) {
        // Each check gets two seconds: a dependency that hangs is as unready as one that refuses.
        const entries = await Promise.all(
          checks.map(async (c) => [c.name, await withTimeout(c.check(), 2000)] as const),
        );
        cached = { at: Date.now(), results: Object.fromEntries(entries) };
        for (const [check, ok] of entries) readinessCheckUp.set({ check }, ok ? 1 : 0);
      }
      const ok = Object.values(cached.results).every(Boolean);
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          status: ok ? 'ready' : 'not ready',
          checks: cached.results,
          ...(details ? { dependencies: details() } : {}),
        }),
      );
    })();
  };
}

function withTimeout(check: Promise<boolean>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    check.then(
      (ok) => {
        clearTimeout(timer);
        resolve(ok);
      },
      () => {
        clearTimeout(timer);
        resolve(false);
      },
    );
  });
}
