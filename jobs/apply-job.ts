// The worker's side of "Apply fix": two jobs, and what they need (ApplyDeps, here, so that the jobs
// import it and nothing imports them back).
// - apply-preview (apply-preview.ts): behind the modal. Every check and a server-side dry run of the
//   very patch, then the modal shows the diff, or why not.
// - apply (apply-change.ts): the change. A claim on the suggestion, the checks again, the patch with a
//   resourceVersion precondition, the thread told who applied what, then the rollout followed in one
//   message by a chain of delayed rollout-follow jobs (apply-rollout.ts).
// Undo is the same two jobs with op "undo": it restores the values recorded before the fix. The
// checks and how a refusal is told are in apply-checks.ts; the suggestion's states and their wording
// in src/apply/suggestion.ts.
import type { Logger } from 'pino';
import type { ClusterWriter } from '../src/adapters/cluster-writer';
import type { SlackInteractive } from '../src/adapters/slack-interactive';
import type { SlackPoster } from '../src/adapters/slack';
import type { AuditLog } from '../src/apply/audit';
import type { JobQueue } from '../src/bot/queue';
import type { BotConfig } from '../src/config/bot';
import type { StateStore } from '../src/bot/store';

export interface ApplyDeps {
  config: BotConfig;
  store: StateStore;
  slack: SlackPoster;
  writer: ClusterWriter;
  interactive: SlackInteractive;
  audit: AuditLog;
  logger: Logger;
  /** Where the rollout's checks are queued, each a delayed job (see apply-rollout.ts). */
  queue: Pick<JobQueue, 'add' | 'durable'>;
  /** How often the rollout is read while it is followed. */
  pollMs: number;
  /** Aborted when the process stops: with the in-memory queue, a rollout check then says it stopped following. */
  stopping: AbortSignal;
  /** Re-renders the diagnosis message, so its button matches the suggestion's state. */
  refreshDiagnosis: (channel: string, ts: string) => Promise<void>;
  now?: () => number;
}
