// At most N tasks at once; the rest wait their turn, first come first served.
// Used to keep diagnoses (Kubernetes and Prometheus reads, classification) to WORKER_CONCURRENCY
// while more jobs than that wait on Slack's rate limits without holding a diagnosis slot.

export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Tasks running now. */
  readonly active: number;
  /** Tasks waiting for a slot. */
  readonly waiting: number;
}

export function createLimiter(slots: number): Limiter {
  if (!Number.isInteger(slots) || slots < 1)
    throw new RangeError(`a limiter needs at least 1 slot, not ${slots}`);
  let active = 0;
  const queue: Array<() => void> = [];
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else active--;
  };
  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active < slots) active++;
      // The slot is handed over directly by release(), so `active` stays counted meanwhile.
      else await new Promise<void>((resolve) => queue.push(resolve));
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
