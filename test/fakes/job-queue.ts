// A job queue that runs nothing by itself: it records what was queued (with its delay) so a test can
// look at each job and run it when it likes. It keeps the real queues' rules that matter to callers:
// a job id already known is a duplicate (bull keeps finished jobs for a day), the job data is
// copied as it would be through Redis, and a closed or unreachable queue refuses with the real error.
import type { BotJob } from '../../src/bot/jobs';
import { QueueUnavailableError, type AddOptions, type JobQueue } from '../../src/bot/queue';

export interface QueuedJob {
  job: BotJob;
  id: string;
  delayMs: number;
}

export class RecordingJobQueue implements Pick<JobQueue, 'add' | 'durable'> {
  /** Everything queued, in order; `take()` removes from the front. */
  readonly queued: QueuedJob[] = [];
  private readonly known = new Set<string>();
  /** Errors thrown by the next adds, one each (Redis down: QueueUnavailableError). */
  readonly failNext: Error[] = [];
  closed = false;

  constructor(readonly durable = true) {}

  async add(job: BotJob, id: string, options: AddOptions = {}): Promise<'added' | 'duplicate'> {
    if (this.closed) throw new QueueUnavailableError('the queue is shutting down');
    const failure = this.failNext.shift();
    if (failure) throw failure;
    if (this.known.has(id)) return 'duplicate';
    this.known.add(id);
    this.queued.push({ job: JSON.parse(JSON.stringify(job)) as BotJob, id, delayMs: options.delayMs ?? 0 });
    return 'added';
  }

  /** The oldest queued job not yet taken; throws when there is none, so a test cannot miss that. */
  take(): QueuedJob {
    const next = this.queued.shift();
    if (!next) throw new Error('no job was queued');
    return next;
  }
}
