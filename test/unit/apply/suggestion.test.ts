// The suggestion's states: which operation each allows, how each is worded, and the transitions.
import {
  buttonState,
  claim,
  markStale,
  newSuggestionId,
  release,
  rememberBefore,
  stateRefusal,
  SUGGESTION_ID,
} from '../../../src/apply/suggestion';
import type { SuggestionState } from '../../../src/apply/types';
import { suggestion } from '../../support/state-store-contract';

const STATES: SuggestionState[] = ['open', 'applying', 'applied', 'undoing', 'undone', 'stale'];
const BEFORE = { requestsMemory: '1Gi', limitsMemory: '1Gi', env: [] };

describe('stateRefusal', () => {
  it('lets apply through only when open, and undo only when applied', () => {
    for (const state of STATES) {
      const record = suggestion({ state });
      expect(stateRefusal(record, 'apply') === null).toBe(state === 'open');
      expect(stateRefusal(record, 'undo') === null).toBe(state === 'applied');
    }
  });

  it('names who holds or made the change, and what changed for a stale one', () => {
    const claimed = { op: 'apply' as const, jobId: 'j1', userId: 'U0BOB', at: 1 };
    expect(stateRefusal(suggestion({ state: 'applying', claim: claimed }), 'apply')).toBe(
      'the fix is being applied by U0BOB right now',
    );
    const applied = { by: 'U0ALICE', at: 1, identity: null, before: BEFORE, after: BEFORE, messageTs: null };
    expect(
      stateRefusal(
        suggestion({ state: 'applied', applied: { ...applied, snapshot: suggestion().snapshot } }),
        'apply',
      ),
    ).toBe('the fix was already applied by U0ALICE');
    expect(
      stateRefusal(
        suggestion({ state: 'undone', undone: { by: 'U0CAROL', at: 2, identity: null, messageTs: null } }),
        'undo',
      ),
    ).toBe('the fix was already undone by U0CAROL');
    expect(
      stateRefusal(suggestion({ state: 'stale', staleReason: 'limits.memory 512Mi → 1Gi' }), 'apply'),
    ).toBe(
      'the workload changed since this diagnosis (limits.memory 512Mi → 1Gi): re-run the diagnosis for a new suggestion',
    );
    expect(stateRefusal(suggestion({ state: 'open' }), 'undo')).toBe(
      'the fix has not been applied, so there is nothing to undo',
    );
  });
});

describe('buttonState', () => {
  it('offers the button while open and gives a reason in every other state', () => {
    for (const state of STATES) {
      const button = buttonState(suggestion({ state }));
      if (state === 'open') expect(button).toEqual({ offered: true });
      else expect(button.offered === false && button.reason.length > 0).toBe(true);
    }
    expect(buttonState(suggestion({ state: 'applied' }))).toMatchObject({
      reason: expect.stringContaining('Undo'),
    });
  });
});

describe('transitions', () => {
  it('claims an open suggestion once: a second job finds it taken, a retried job keeps its claim', () => {
    const taken = claim('apply', 'job-1', 'U0ALICE', 5)(suggestion());
    expect(taken).toMatchObject({
      state: 'applying',
      claim: { op: 'apply', jobId: 'job-1', userId: 'U0ALICE', at: 5 },
    });
    expect(claim('apply', 'job-2', 'U0BOB', 6)(taken!)).toBeNull();
    expect(claim('apply', 'job-1', 'U0ALICE', 7)(taken!)).toBeNull();
    expect(claim('undo', 'job-3', 'U0ALICE', 8)(suggestion())).toBeNull();
    expect(claim('undo', 'job-3', 'U0ALICE', 8)(suggestion({ state: 'applied' }))).toMatchObject({
      state: 'undoing',
    });
  });

  it('releases and remembers only for the job that holds the claim', () => {
    const taken = claim('apply', 'job-1', 'U0ALICE', 5)(suggestion())!;
    expect(release('job-2', 'open')(taken)).toBeNull();
    expect(release('job-1', 'open')(taken)).toMatchObject({ state: 'open', claim: null });
    expect(rememberBefore('job-2', BEFORE)(taken)).toBeNull();
    expect(rememberBefore('job-1', BEFORE)(taken)?.claim?.before).toEqual(BEFORE);
  });

  it('marks an open or claimed suggestion stale with the reason, and leaves an applied one alone', () => {
    expect(markStale('its spec changed')(suggestion())).toMatchObject({
      state: 'stale',
      staleReason: 'its spec changed',
    });
    expect(markStale('its spec changed')(suggestion({ state: 'applied' }))).toBeNull();
  });
});

it('makes ids the button and the modal accept', () => {
  const ids = new Set(Array.from({ length: 50 }, () => newSuggestionId()));
  expect(ids.size).toBe(50);
  for (const id of ids) expect(id).toMatch(SUGGESTION_ID);
  expect('short').not.toMatch(SUGGESTION_ID);
});
