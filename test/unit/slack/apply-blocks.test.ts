// The Apply fix modal and thread messages: snapshots, escaping, and Slack's limits.
import type { ModalView } from '@slack/types';
import type { DiffLine, WorkloadId } from '../../../src/apply/types';
import { ACTION_IDS } from '../../../src/slack/blocks';
import {
  APPLY_IDS,
  appliedMessage,
  type AppliedProps,
  checkingView,
  confirmView,
  diffText,
  doneView,
  failedMessage,
  gitOpsReason,
  raceMessage,
  refusalMessage,
  refusedView,
  submittedView,
  undoneNote,
} from '../../../src/slack/apply-blocks';

const DEPLOY: WorkloadId = { kind: 'Deployment', namespace: 'payments', name: 'ledger' };
const DIFF: DiffLine[] = [
  { field: 'requests.memory', before: '1Gi', after: '2Gi' },
  { field: 'limits.memory', before: '2Gi', after: '3Gi' },
  { field: 'env _JAVA_OPTIONS', before: '(not set)', after: '-Xmx2048m' },
];
const AT = Date.parse('2026-01-10T03:12:00Z');
const TARGET = { namespace: 'payments', pod: 'ledger-bc9xsnqjs-zjg2r', container: 'ledger' };

function texts(blocks: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k === 'text' && typeof x === 'string') out.push(x);
        else walk(x);
      }
  };
  walk(blocks);
  return out;
}

function expectValidModal(view: ModalView): void {
  expect(view.type).toBe('modal');
  expect(view.callback_id).toBe(APPLY_IDS.confirm);
  expect(view.title.text.length).toBeLessThanOrEqual(24);
  if (view.submit) expect(view.submit.text.length).toBeLessThanOrEqual(24);
  expect(view.blocks.length).toBeLessThanOrEqual(100);
  for (const t of texts(view.blocks)) expect(t.length).toBeLessThanOrEqual(3000);
  expect((view.private_metadata ?? '').length).toBeLessThanOrEqual(3000);
}

describe('the modal', () => {
  it('opens at once with a "checking" view (snapshot)', () => {
    const view = checkingView('apply', DEPLOY, 'ledger');
    expectValidModal(view);
    expect(view.submit).toBeUndefined();
    expect(view).toMatchSnapshot();
  });

  it('confirms with the diff, the Helm warning and the ConfigMap key (snapshot)', () => {
    const view = confirmView({
      op: 'apply',
      workload: DEPLOY,
      container: 'ledger',
      diff: DIFF,
      metadata: { s: 'abc123', op: 'apply' },
      helmRelease: 'ledger-prod',
      configMapSettings: [
        { value: 'MaxRAMPercentage=90', source: 'configmap payments/ledger-env key JAVA_TOOL_OPTIONS' },
      ],
      identity: 'alice@example.com',
    });
    expectValidModal(view);
    expect(view.submit?.text).toBe('Apply');
    expect(JSON.parse(view.private_metadata ?? '')).toEqual({ s: 'abc123', op: 'apply' });
    const all = texts(view.blocks).join('\n');
    expect(all).toContain('`limits.memory`: `2Gi` → `3Gi`');
    expect(all).toContain('Helm release `ledger-prod`');
    expect(all).toContain('configmap payments/ledger-env key JAVA_TOOL_OPTIONS');
    expect(all).toContain('dryRun=All');
    expect(view).toMatchSnapshot();
  });

  it('says what a CronJob change does, and words Undo as a restore', () => {
    const view = confirmView({
      op: 'undo',
      workload: { kind: 'CronJob', namespace: 'ops', name: 'report' },
      container: 'report',
      diff: DIFF,
      metadata: { s: 'x', op: 'undo' },
      helmRelease: null,
      configMapSettings: [],
      identity: null,
    });
    expect(view.submit?.text).toBe('Undo');
    expect(view.title.text).toBe('Undo fix');
    const all = texts(view.blocks).join('\n');
    expect(all).toContain('restores the values from before the fix');
    expect(all).toContain('The next run of the CronJob takes the new values');
  });

  it('refuses, submits and finishes without a submit button (snapshots)', () => {
    for (const view of [
      refusedView(
        'apply',
        'The dry run was refused.',
        'admission webhook "x" denied the request: <!channel> no',
      ),
      submittedView('apply', DEPLOY, 'ledger'),
      doneView('undo', true, 'Undone.'),
    ]) {
      expectValidModal(view);
      expect(view.submit).toBeUndefined();
      expect(view).toMatchSnapshot();
    }
    expect(JSON.stringify(refusedView('apply', 'x', '<!channel> <@U123>'))).not.toMatch(/<!channel>|<@U123>/);
  });

  it('cuts a long diff with "…and N more"', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({
      field: `args[${i}]`,
      before: 'x'.repeat(50),
      after: 'y'.repeat(50),
    }));
    const text = diffText(many);
    expect(text.length).toBeLessThanOrEqual(2500);
    expect(text).toMatch(/…and \d+ more$/);
  });
});

/** Alice's fix to payments/ledger, rolling out; each test changes what it is about. */
function applied(overrides: Partial<AppliedProps> = {}): AppliedProps {
  return {
    op: 'apply',
    userId: 'U0ALICE',
    at: AT,
    workload: DEPLOY,
    container: 'ledger',
    diff: DIFF,
    identity: null,
    rollout: { phase: 'progressing', summary: '1 of 3 pods updated' },
    undoId: null,
    ...overrides,
  };
}

describe('the thread', () => {
  it('records who applied what and when, follows the rollout, and offers Undo with the id only (snapshot)', () => {
    const message = appliedMessage(applied({ undoId: 'abc123' }));
    expect(message).toMatchSnapshot();
    const all = texts(message.blocks).join('\n');
    expect(all).toContain('<@U0ALICE> applied the fix to Deployment `payments/ledger`');
    expect(all).toContain('<!date^1768014720^{date_short_pretty} {time}|2026-01-10 03:12 UTC>');
    const undo = JSON.stringify(message.blocks);
    expect(undo).toContain(`"action_id":"${APPLY_IDS.undo}"`);
    expect(undo).toContain('"value":"abc123"');
  });

  it('shows a stuck rollout with why, and no Undo once undone (snapshot)', () => {
    const message = appliedMessage(
      applied({
        identity: 'alice@example.com',
        rollout: {
          phase: 'stuck',
          summary: 'stuck: ReplicaSet "ledger-5d" has timed out progressing.',
          trouble: 'pod ledger-5d-x, container ledger: CrashLoopBackOff',
        },
        footnote: undoneNote('U0BOB', AT + 60_000),
      }),
    );
    expect(JSON.stringify(message.blocks)).not.toContain(APPLY_IDS.undo);
    expect(message).toMatchSnapshot();
  });

  it('refuses an Undo value longer than Slack allows, as every button does, rather than cut it', () => {
    expect(JSON.stringify(appliedMessage(applied({ undoId: 'u'.repeat(2000) })).blocks)).toContain(
      `"value":"${'u'.repeat(2000)}"`,
    );
    expect(() => appliedMessage(applied({ undoId: 'u'.repeat(2001) }))).toThrow(RangeError);
  });

  it("bounds cluster text after escaping it, and shows its times in the reader's zone", () => {
    const message = appliedMessage(
      applied({
        rollout: {
          phase: 'stuck',
          summary: '<b>&</b>'.repeat(400),
          trouble: 'pod ledger-5d-x restarting since 2026-01-10 03:12 UTC',
        },
      }),
    );
    const rollout = texts(message.blocks).find((t) => t.includes('Rollout:')) ?? '';
    const summary = rollout.slice(rollout.indexOf('Rollout: ') + 'Rollout: '.length, rollout.indexOf('\n'));
    expect(summary.length).toBeLessThanOrEqual(800);
    expect(summary.startsWith('&lt;b&gt;&amp;&lt;/b&gt;')).toBe(true);
    expect(summary).not.toMatch(/&[a-z]*…$/); // never ends in an entity cut open
    expect(rollout).toContain('since <!date^1768014720^{date_short_pretty} {time}|2026-01-10 03:12 UTC>');
  });

  it('tells of a race with what changed and a Re-run button (snapshot)', () => {
    const message = raceMessage({
      op: 'apply',
      userId: 'U0ALICE',
      workload: DEPLOY,
      container: 'ledger',
      reasons: ['its spec changed (metadata.generation 4 → 5)'],
      target: TARGET,
    });
    const rerun = JSON.stringify(message.blocks);
    expect(rerun).toContain(`"action_id":"${ACTION_IDS.rerun}"`);
    expect(message).toMatchSnapshot();
    expect(
      JSON.stringify(
        raceMessage({
          op: 'undo',
          userId: 'U0ALICE',
          workload: DEPLOY,
          container: 'ledger',
          reasons: ['x'],
          target: TARGET,
        }).blocks,
      ),
    ).not.toContain(ACTION_IDS.rerun);
  });

  it('reports a refused change, refusals and GitOps in words (snapshots)', () => {
    expect(
      failedMessage({
        op: 'apply',
        userId: 'U0ALICE',
        workload: DEPLOY,
        container: 'ledger',
        reason: 'patch deployments.apps in namespace payments (for alice)',
      }),
    ).toMatchSnapshot();
    expect(refusalMessage('apply', 'namespace kube-system is not in APPLY_NAMESPACES')).toMatchSnapshot();
    expect(
      gitOpsReason(
        'Argo CD',
        'annotation argocd.argoproj.io/tracking-id=ledger:apps/Deployment:payments/ledger',
        DEPLOY,
      ),
    ).toBe(
      'Deployment payments/ledger is managed by Argo CD (annotation argocd.argoproj.io/tracking-id=ledger:apps/Deployment:payments/ledger): a change made in the cluster would be reverted at the next sync. Commit the YAML patch above to its Git repository instead.',
    );
  });
});
