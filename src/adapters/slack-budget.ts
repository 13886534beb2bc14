// The outbox's rate budget (src/adapters/slack-outbox.ts): an in-process queue per bucket, highest
// priority first, whose head asks the shared state (Redis, or memory) for a reservation. So every
// process draws on one budget per method (and channel, for posts), and a waiting diagnosis reply
// goes before a waiting progress edit. Cosmetic callers never queue.
import type { Logger } from 'pino';
import type { OutboxState } from './outbox-state';
import { bucketOf, limitOf, PRIORITY_ORDER, usableBurst, type WritePriority } from './slack-limits';
import { SlackDeliveryError } from './slack-wire';

interface Waiter {
  priority: () => WritePriority;
  seq: number;
  resolve: () => void;
}

export class SlackBudget {
  private readonly queues = new Map<string, Waiter[]>();
  private readonly polling = new Set<string>();
  private seq = 0;
  private closed = false;

  constructor(
    private readonly state: OutboxState,
    private readonly logger: Logger,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  /** After a 429: no call of this method (in this channel, for posts) goes for `ms`, in any process. */
  async block(method: string, channel: string | null, ms: number): Promise<void> {
    await this.state.block(bucketOf(method, channel), ms);
  }

  /** Releases every waiting call; each then fails with shutting_down. */
  close(): void {
    this.closed = true;
    for (const queue of this.queues.values()) for (const waiter of queue.splice(0)) waiter.resolve();
  }

  /**
   * Waits for the call's turn in its bucket (method, and channel for posts); true once a call may go.
   * A droppable (cosmetic) call never queues: false at once when the budget is short or others wait.
   */
  async acquire(
    method: string,
    channel: string | null,
    priority: () => WritePriority,
    droppable: boolean,
  ): Promise<boolean> {
    const bucket = bucketOf(method, channel);
    const limit = limitOf(method);
    if (droppable) {
      if ((this.queues.get(bucket)?.length ?? 0) > 0) return false;
      return (await this.state.reserve(bucket, limit.intervalMs, usableBurst(limit, priority()))) === 0;
    }
    await new Promise<void>((resolve) => {
      const queue = this.queues.get(bucket) ?? [];
      queue.push({ priority, seq: this.seq++, resolve });
      this.queues.set(bucket, queue);
      void this.poll(bucket, method);
    });
    if (this.closed) throw new SlackDeliveryError('shutting_down', false, 'the bot is shutting down');
    return true;
  }

  private async poll(bucket: string, method: string): Promise<void> {
    if (this.polling.has(bucket)) return;
    this.polling.add(bucket);
    const limit = limitOf(method);
    try {
      for (;;) {
        const queue = this.queues.get(bucket);
        if (!queue || queue.length === 0 || this.closed) break;
        queue.sort((a, b) => PRIORITY_ORDER[a.priority()] - PRIORITY_ORDER[b.priority()] || a.seq - b.seq);
        const head = queue[0]!;
        let wait: number;
        try {
          wait = await this.state.reserve(bucket, limit.intervalMs, usableBurst(limit, head.priority()));
        } catch (error) {
          this.logger.warn({ err: (error as Error).message, bucket }, 'rate budget unavailable; waiting');
          wait = 1_000;
        }
        if (wait === 0) {
          queue.shift();
          head.resolve();
        } else {
          await this.sleep(Math.min(wait, 5_000));
        }
      }
    } finally {
      this.polling.delete(bucket);
      if ((this.queues.get(bucket)?.length ?? 0) > 0 && !this.closed) void this.poll(bucket, method);
    }
  }
}
