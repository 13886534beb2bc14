// The suggestion behind an "Apply fix" button: its id, how long it is kept, the states it goes
// through and, in one place, how each state is put into words (the button's refusal, the job's
// checks, the diagnosis message re-rendered later).
//
//   open ──claim──▶ applying ──patched──▶ applied ──claim──▶ undoing ──patched──▶ undone
//     │                │ (failure: back to open)      (failure: back to applied) │
//     └── stale ◀──────┘ (the workload changed since the diagnosis)
import { randomBytes } from 'node:crypto';
import { DAY_MS } from '../core/time';
import type { ApplyOp, ContainerState, SuggestionRecord, SuggestionState } from './types';

/** How long a suggestion (and so its button) is kept. */
export const SUGGESTION_TTL_MS = 7 * DAY_MS;

/** What a suggestion id looks like; anything else in a button value or a modal is refused. */
export const SUGGESTION_ID = /^[A-Za-z0-9_-]{16,64}$/;

/** A random id for the button: 144 bits, URL-safe, nothing in it but chance. */
export function newSuggestionId(): string {
  return randomBytes(18).toString('base64url');
}

/** The state `op` starts from, and the one it holds while a job makes the change. */
export function claimStates(op: ApplyOp): { from: SuggestionState; during: SuggestionState } {
  return op === 'apply' ? { from: 'open', during: 'applying' } : { from: 'applied', during: 'undoing' };
}

/**
 * Why the suggestion cannot go through `op` now, in words for the person who asked (an ephemeral,
 * the modal, the audit line); null when it can.
 */
export function stateRefusal(record: SuggestionRecord, op: ApplyOp): string | null {
  const who = (by: string | undefined): string => by ?? 'someone';
  if (op === 'apply') {
    switch (record.state) {
      case 'open':
        return null;
      case 'applying':
        return `the fix is being applied by ${who(record.claim?.userId)} right now`;
      case 'applied':
        return `the fix was already applied by ${who(record.applied?.by)}`;
      case 'undoing':
      case 'undone':
        return UNDONE;
      case 'stale':
        return `${staleWords(record)}: re-run the diagnosis for a new suggestion`;
    }
  }
  switch (record.state) {
    case 'applied':
      return null;
    case 'undoing':
      return `the fix is being undone by ${who(record.claim?.userId)} right now`;
    case 'undone':
      return `the fix was already undone by ${who(record.undone?.by)}`;
    default:
      return 'the fix has not been applied, so there is nothing to undo';
  }
}

/**
 * The diagnosis message's button once the suggestion has moved on: offered while it is open,
 * otherwise the reason shown in its place.
 */
export function buttonState(
  record: SuggestionRecord,
): { offered: true } | { offered: false; reason: string } {
  switch (record.state) {
    case 'open':
      return { offered: true };
    case 'applying':
    case 'applied':
      return {
        offered: false,
        reason: 'the fix has been applied: the thread below follows the rollout, and has Undo',
      };
    case 'undoing':
    case 'undone':
      return { offered: false, reason: UNDONE };
    case 'stale':
      return {
        offered: false,
        reason: `${staleWords(record)}: re-run the diagnosis for a suggestion that fits it`,
      };
  }
}

const UNDONE = 'the fix was applied and then undone: re-run the diagnosis for a new suggestion';

function staleWords(record: SuggestionRecord): string {
  return `the workload changed since this diagnosis (${record.staleReason ?? 'its spec moved on'})`;
}

// Transitions, written as updates for StateStore.updateSuggestion: each returns the new record, or
// null to leave the stored one alone (someone else's claim, or a state that has moved on).

/** Takes the suggestion for this job, or keeps it when the job already holds it (a retried job). */
export function claim(
  op: ApplyOp,
  jobId: string,
  userId: string,
  at: number,
): (s: SuggestionRecord) => SuggestionRecord | null {
  const { from, during } = claimStates(op);
  return (s) => {
    if (s.claim?.jobId === jobId) return null;
    if (s.state !== from) return null;
    return { ...s, state: during, claim: { op, jobId, userId, at } };
  };
}

/** Gives the suggestion back in `state` (the change did not happen). */
export function release(
  jobId: string,
  state: SuggestionState,
): (s: SuggestionRecord) => SuggestionRecord | null {
  return (s) => (s.claim?.jobId === jobId ? { ...s, state, claim: null } : null);
}

/** Remembers the values read before the patch, so a retried job can tell that it went through. */
export function rememberBefore(
  jobId: string,
  before: ContainerState,
): (s: SuggestionRecord) => SuggestionRecord | null {
  return (s) => (s.claim?.jobId === jobId ? { ...s, claim: { ...s.claim, before } } : null);
}

/** The workload changed since the diagnosis: the suggestion can no longer be applied. */
export function markStale(reason: string): (s: SuggestionRecord) => SuggestionRecord | null {
  return (s) =>
    s.state === 'open' || s.state === 'applying'
      ? { ...s, state: 'stale', claim: null, staleReason: reason }
      : null;
}
