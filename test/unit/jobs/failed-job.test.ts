// A job that failed where its handler could not say so (bull gave up on it, or its data cannot be
// read) is said where the handler would have said it; when that fails too, or the job names no
// place at all, it is counted by the way telling failed.
import pino from 'pino';
import type { PostedMessage, SlackMessage, SlackPoster } from '../../../src/adapters/slack';
import { SlackDeliveryError } from '../../../src/adapters/slack-wire';
import { firstRolloutCheck } from '../../../jobs/apply-rollout';
import { MemoryStore } from '../../../src/bot/memory-store';
import { suggestion } from '../../support/state-store-contract';
import { readBotConfig } from '../../../src/config/bot';
import type { WorkerDeps } from '../../../jobs/worker';
import { tellFailedJob } from '../../../jobs/worker';

type Call = {
  method: string;
  key?: string;
  channel?: string;
  threadTs?: string | null;
  text: string;
  to?: string;
};

/** Slack as the teller sees it: every write recorded, or refused as Slack refuses a revoked token. */
class RecordingSlack implements SlackPoster {
  calls: Call[] = [];
  posted = new Map<string, PostedMessage>();
  refuse = false;
  private seq = 0;
  private check(method: string): void {
    if (this.refuse)
      throw new SlackDeliveryError('invalid_auth', true, `Slack refused ${method}: invalid_auth`);
  }
  async post(channel: string, message: SlackMessage, threadTs?: string, options?: { key?: string }) {
    this.check('chat.postMessage');
    this.calls.push({
      method: 'post',
      channel,
      threadTs: threadTs ?? null,
      text: message.text,
      ...(options?.key ? { key: options.key } : {}),
    });
    return { channel, ts: `1700000000.${String(++this.seq).padStart(6, '0')}` };
  }
  async show(key: string, channel: string, threadTs: string | null, message: SlackMessage) {
    this.check('chat.postMessage');
    this.calls.push({ method: 'show', key, channel, threadTs, text: message.text });
    return { channel, ts: `1700000000.${String(++this.seq).padStart(6, '0')}` };
  }
  async postedUnder(key: string) {
    return this.posted.get(key) ?? null;
  }
  /** Edits, apart from the calls: a parent's line is refreshed by an edit of its own. */
  updates: Array<{ channel: string; ts: string; said: string }> = [];
  async update(channel: string, ts: string, content: unknown) {
    this.check('chat.update');
    this.updates.push({ channel, ts, said: JSON.stringify(content) });
  }
  async ephemeral(channel: string, user: string, message: SlackMessage) {
    this.check('chat.postEphemeral');
    this.calls.push({ method: 'ephemeral', channel, to: user, text: message.text });
  }
  async upload() {}
  async respond(responseUrl: string, message: SlackMessage) {
    this.check('response_url');
    this.calls.push({ method: 'respond', to: responseUrl, text: message.text });
  }
  async permalink() {
    return null;
  }
  async authTest() {
    return !this.refuse;
  }
}

const views: Array<{ viewId: string; text: string }> = [];

function setup() {
  const config = readBotConfig({
    SLACK_BOT_TOKEN: 'xoxb-1234-5678-abcdefABCDEF',
    SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
    SLACK_ALERT_CHANNEL: 'C0ALERTS',
    ALERTMANAGER_TOKEN: '0123456789abcdef0123456789abcdef',
    CLUSTER_NAME: 'prod',
  });
  const slack = new RecordingSlack();
  const store = new MemoryStore();
  const untold: string[] = [];
  const deps = {
    config,
    store,
    slack,
    logger: pino({ level: 'silent' }),
    parentEditIntervalMs: 0,
    onUntold: (via: string) => untold.push(via),
    apply: {
      interactive: {
        updateView: async (viewId: string, view: unknown) => {
          views.push({ viewId, text: JSON.stringify(view) });
        },
      },
    },
  } as unknown as WorkerDeps;
  return { deps, slack, store, untold };
}

const WORDS = 'the worker running it stopped or froze mid-job more than twice';

it("an alert's job: its reply in the incident's thread, under the reply's key, and its parent line", async () => {
  const { deps, slack, store, untold } = setup();
  await store.claimGroup(
    'g1',
    async () => ({
      channel: 'C0ALERTS',
      ts: '1700000000.000100',
      title: { kind: 'alert', alertName: 'ContainerOOMKilled', clusterName: 'prod' },
      status: 'firing',
      undiagnosable: [],
      notOomCount: 0,
    }),
    60_000,
  );
  const job = {
    kind: 'diagnose-alert',
    receivedAt: 1,
    groupId: 'g1',
    target: { id: 'a1', alertname: 'X', namespace: 'shop', pod: 'api-1', container: 'api' },
  };
  await tellFailedJob(job, 'alert-a1', WORDS, deps);
  expect(slack.calls).toEqual([
    expect.objectContaining({
      method: 'show',
      key: 'alert-a1',
      channel: 'C0ALERTS',
      threadTs: '1700000000.000100',
    }),
  ]);
  expect(slack.calls[0]?.text).toContain(`Could not diagnose \`shop/api-1\` (container \`api\`): ${WORDS}`);
  expect(await store.getWorkloadLines('g1')).toEqual([
    expect.objectContaining({ label: 'shop/api-1', status: `could not diagnose: ${WORDS}` }),
  ]);
  expect(untold).toEqual([]);
});

it("an alert's job whose incident is gone is counted as untold in its thread", async () => {
  const { deps, slack, untold } = setup();
  const job = {
    kind: 'diagnose-alert',
    groupId: 'gone',
    target: { id: 'a2', namespace: 'shop', pod: 'api-2' },
  };
  await tellFailedJob(job, 'alert-a2', WORDS, deps);
  expect(slack.calls).toEqual([]);
  expect(untold).toEqual(['thread']);
});

it('an /oom before its thread: through response_url, or as an ephemeral message without one', async () => {
  const { deps, slack } = setup();
  const command = { kind: 'command', channel: 'C0TEAM', userId: 'U0ALICE', text: ' shop/api-1 ' };
  await tellFailedJob({ ...command, responseUrl: 'https://hooks.slack.com/commands/1' }, 'c1', WORDS, deps);
  await tellFailedJob({ ...command, responseUrl: null }, 'c2', WORDS, deps);
  expect(slack.calls).toEqual([
    {
      method: 'respond',
      to: 'https://hooks.slack.com/commands/1',
      text: `:x: Could not diagnose \`shop/api-1\`: ${WORDS}`,
    },
    {
      method: 'ephemeral',
      channel: 'C0TEAM',
      to: 'U0ALICE',
      text: `:x: Could not diagnose \`shop/api-1\`: ${WORDS}`,
    },
  ]);
});

it('an /oom whose thread exists: in that thread, under the reply key its handler uses', async () => {
  const { deps, slack } = setup();
  slack.posted.set('cmd-parent-c3', { channel: 'C0TEAM', ts: '1700000000.000900' });
  const command = {
    kind: 'command',
    channel: 'C0TEAM',
    userId: 'U0ALICE',
    text: 'shop/api-1',
    responseUrl: 'https://x/1',
  };
  await tellFailedJob(command, 'c3', WORDS, deps);
  expect(slack.calls).toEqual([
    expect.objectContaining({
      method: 'show',
      key: 'cmd-c3',
      channel: 'C0TEAM',
      threadTs: '1700000000.000900',
    }),
  ]);
  expect(slack.calls[0]?.text).toContain(`Could not diagnose \`shop/api-1\`: ${WORDS}`);
});

it("a Re-run: in its thread; an alert group: in the group's channel", async () => {
  const { deps, slack } = setup();
  await tellFailedJob(
    {
      kind: 'rerun',
      channel: 'C0ALERTS',
      threadTs: '1700000000.000200',
      namespace: 'shop',
      pod: 'api-1',
      container: null,
    },
    'r1',
    WORDS,
    deps,
  );
  await tellFailedJob(
    { kind: 'alert-group', alertName: 'ContainerOOMKilled', plan: { channel: null } },
    'g1',
    WORDS,
    deps,
  );
  expect(slack.calls).toEqual([
    expect.objectContaining({
      method: 'show',
      key: 'rerun-r1',
      channel: 'C0ALERTS',
      threadTs: '1700000000.000200',
    }),
    {
      method: 'post',
      channel: 'C0ALERTS',
      threadTs: null,
      key: 'group-failed-g1',
      text: `:x: oomdoctor could not open the thread for ContainerOOMKilled: ${WORDS}`,
    },
  ]);
});

it('a failure to tell is counted by the way it failed; a job naming nowhere is counted too', async () => {
  const { deps, slack, untold } = setup();
  slack.refuse = true;
  await tellFailedJob(
    { kind: 'command', channel: 'C0TEAM', userId: 'U0ALICE', text: 'shop/api-1', responseUrl: 'https://x/1' },
    'c4',
    WORDS,
    deps,
  );
  await tellFailedJob({ kind: 'alert-group', alertName: 'A' }, 'g2', WORDS, deps);
  await tellFailedJob({ kind: 'apply', suggestionId: 's1' }, 'p1', WORDS, deps);
  await tellFailedJob('not even an object', 'x1', WORDS, deps);
  expect(untold).toEqual(['response_url', 'channel', 'nowhere', 'nowhere']);
});

describe("Apply's jobs, said where the suggestion's diagnosis is", () => {
  const record = suggestion();
  const threadTs = record.message.threadTs;

  it('an Apply: in the thread, naming who asked and what to check; its claim given back so it can be pressed again', async () => {
    const { deps, slack, store, untold } = setup();
    await store.setSuggestion(
      record.id,
      { ...record, state: 'applying', claim: { op: 'apply', jobId: 'apply-1', userId: 'U0ALICE', at: 1 } },
      60_000,
    );
    const job = {
      kind: 'apply',
      receivedAt: 1,
      suggestionId: record.id,
      op: 'apply',
      userId: 'U0ALICE',
      userGroups: [],
      viewId: 'V1',
    };
    await tellFailedJob(job, 'apply-1', WORDS, deps);
    expect(slack.calls).toEqual([
      expect.objectContaining({
        method: 'post',
        channel: record.message.channel,
        threadTs,
        key: 'apply-failed-apply-1',
      }),
    ]);
    expect(slack.calls[0]?.text).toBe(
      `:x: <@U0ALICE> asked to apply the fix to Deployment \`payments/ledger\`, container \`ledger\`, and it did not finish: ${WORDS}. The workload may have been changed before it stopped: check it before pressing Apply again.`,
    );
    expect(await store.getSuggestion(record.id)).toEqual(
      expect.objectContaining({ state: 'open', claim: null }),
    );
    expect(views).toContainEqual({ viewId: 'V1', text: expect.stringContaining('It did not finish') });
    expect(untold).toEqual([]);
  });

  it("an Apply whose claim another job holds: said, and the other job's claim left alone", async () => {
    const { deps, store } = setup();
    const claim = { op: 'undo' as const, jobId: 'undo-2', userId: 'U0BOB', at: 1 };
    await store.setSuggestion(record.id, { ...record, state: 'undoing', claim }, 60_000);
    await tellFailedJob(
      { kind: 'apply', suggestionId: record.id, op: 'undo', userId: 'U0ALICE' },
      'undo-1',
      WORDS,
      deps,
    );
    expect(await store.getSuggestion(record.id)).toEqual(
      expect.objectContaining({ state: 'undoing', claim }),
    );
  });

  it('a preview: the modal and an ephemeral line to the person who pressed', async () => {
    const { deps, slack, store, untold } = setup();
    await store.setSuggestion(record.id, record, 60_000);
    await tellFailedJob(
      { kind: 'apply-preview', suggestionId: record.id, op: 'apply', userId: 'U0ALICE', viewId: 'V2' },
      'preview-1',
      WORDS,
      deps,
    );
    expect(slack.calls).toEqual([
      {
        method: 'ephemeral',
        channel: record.message.channel,
        to: 'U0ALICE',
        text: `:x: oomdoctor could not check this change: ${WORDS}. Nothing was changed.`,
      },
    ]);
    expect(views).toContainEqual({
      viewId: 'V2',
      text: expect.stringContaining('could not check this change'),
    });
    expect(untold).toEqual([]);
  });

  it('a rollout check: its message edited to say oomdoctor stopped following, with the command to follow it by hand', async () => {
    const { deps, slack, store, untold } = setup();
    await store.setSuggestion(record.id, { ...record, state: 'applied' }, 60_000);
    const check = firstRolloutCheck(
      record,
      'apply',
      {
        op: 'apply',
        userId: 'U0ALICE',
        at: 1_700_000_000_000,
        workload: record.workload,
        container: record.container,
        diff: [{ field: 'limits.memory', before: '1Gi', after: '2Gi' }],
        identity: null,
        rollout: { phase: 'progressing', summary: 'starting…' },
        undoId: record.id,
      },
      '1700000000.000500',
      5,
    );
    await tellFailedJob(check, 'rollout-1', WORDS, deps);
    expect(slack.calls).toEqual([]);
    expect(slack.updates).toEqual([
      { channel: record.message.channel, ts: '1700000000.000500', said: expect.any(String) },
    ]);
    expect(slack.updates[0]?.said).toMatch(
      /oomdoctor stopped following the rollout \(the worker running it stopped .*kubectl -n payments rollout status deployment\/ledger/,
    );
    // Still offered: the fix stands.
    expect(slack.updates[0]?.said).toContain('Undo');
    expect(untold).toEqual([]);
  });

  it("a rollout check this version cannot read in full: a reply in the diagnosis' thread", async () => {
    const { deps, slack, store } = setup();
    await store.setSuggestion(record.id, { ...record, state: 'applied' }, 60_000);
    await tellFailedJob(
      { kind: 'rollout-follow', suggestionId: record.id, op: 'apply', message: { channel: 'C1', ts: '1.5' } },
      'rollout-2',
      WORDS,
      deps,
    );
    expect(slack.calls).toEqual([
      expect.objectContaining({ method: 'post', threadTs, key: 'rollout-failed-rollout-2' }),
    ]);
    expect(slack.calls[0]?.text).toMatch(
      /stopped following the rollout \(.*\): see kubectl -n payments rollout status deployment\/ledger/,
    );
  });

  it('an Apply whose suggestion is gone is counted as untold in its thread', async () => {
    const { deps, slack, untold } = setup();
    await tellFailedJob(
      { kind: 'apply', suggestionId: 'gone', op: 'apply', userId: 'U0ALICE' },
      'apply-3',
      WORDS,
      deps,
    );
    expect(slack.calls).toEqual([]);
    expect(untold).toEqual(['thread']);
  });
});
