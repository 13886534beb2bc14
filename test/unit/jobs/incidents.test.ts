// Incident threads: the bot decides what a thread is, whatever Alertmanager's grouping.
import pino from 'pino';
import type { PostedMessage, SlackMessage, SlackPoster } from '../../../src/adapters/slack';
import { readBotConfig } from '../../../src/config/bot';
import type { AlertGroupJob, BotJob } from '../../../src/bot/jobs';
import { MemoryStore } from '../../../src/bot/memory-store';
import { handleAlertGroup, renderParent, type IncidentDeps } from '../../../jobs/incidents';

/** Slack as the job sees it: posts get a ts, edits render their content (functions too) at once. */
class RecordingSlack implements SlackPoster {
  parents: Array<{ channel: string; ts: string; text: string }> = [];
  shown = new Map<string, string>();
  private seq = 0;
  async post(channel: string, message: SlackMessage, threadTs?: string): Promise<PostedMessage> {
    const ts = `1700000000.${String(++this.seq).padStart(6, '0')}`;
    if (!threadTs) this.parents.push({ channel, ts, text: message.text });
    this.shown.set(ts, message.text);
    return { channel, ts };
  }
  async update(_channel: string, ts: string, content: SlackMessage | (() => Promise<SlackMessage>)) {
    const message = typeof content === 'function' ? await content() : content;
    this.shown.set(ts, message.text);
  }
  async show(_k: string, channel: string, threadTs: string | null, message: SlackMessage) {
    return this.post(channel, message, threadTs ?? undefined);
  }
  async postedUnder() {
    return null;
  }
  async ephemeral() {}
  async upload() {}
  async respond() {}
  async permalink() {
    return null;
  }
  async authTest() {
    return true;
  }
}

function setup(env: Record<string, string> = {}) {
  const config = readBotConfig({
    SLACK_BOT_TOKEN: 'xoxb-1234-5678-abcdefABCDEF',
    SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
    SLACK_ALERT_CHANNEL: 'C0ALERTS',
    ALERTMANAGER_TOKEN: '0123456789abcdef0123456789abcdef',
    CLUSTER_NAME: 'prod',
    ...env,
  });
  const slack = new RecordingSlack();
  const queued: BotJob[] = [];
  const store = new MemoryStore();
  const deps: IncidentDeps = {
    config,
    store,
    slack,
    logger: pino({ level: 'silent' }),
    parentEditIntervalMs: 0,
    queue: {
      add: async (job: BotJob) => {
        queued.push(job);
        return 'added';
      },
    } as unknown as IncidentDeps['queue'],
  };
  return { deps, slack, queued, store };
}

let alertSeq = 0;
function group(
  status: 'firing' | 'resolved',
  pods: Array<[namespace: string, pod: string]>,
  extra: Partial<AlertGroupJob['plan']> = {},
): AlertGroupJob {
  return {
    kind: 'alert-group',
    receivedAt: Date.now(),
    alertName: 'ContainerOOMKilled',
    plan: {
      status,
      groupKey: `{}:{pod="${pods[0]?.[1]}"}`,
      groupId: `g${++alertSeq}`,
      targets: pods.map(([namespace, pod]) => ({
        id: `${namespace}-${pod}`,
        alertname: 'ContainerOOMKilled',
        namespace,
        pod,
        container: 'app',
        channel: null,
        startsAt: '2026-12-05T10:00:00Z',
        crashLoop: false,
      })),
      undiagnosable: [],
      ignored: [],
      channel: null,
      truncatedAlerts: 0,
      ...extra,
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('incident threads', () => {
  it('a storm arriving as one Alertmanager group per pod makes one parent per namespace', async () => {
    const { deps, slack, queued } = setup();
    for (const ns of ['shop', 'search', 'auth'])
      for (const pod of ['api-1', 'api-2', 'api-3'])
        await handleAlertGroup(group('firing', [[ns, pod]]), deps);
    expect(slack.parents).toHaveLength(3);
    expect(slack.parents.map((p) => p.text).join('\n')).toMatch(/in shop/);
    // Every pod is still diagnosed, into its namespace's thread.
    const diagnoses = queued.filter((j) => j.kind === 'diagnose-alert');
    expect(diagnoses).toHaveLength(9);
    expect(new Set(diagnoses.map((j) => (j.kind === 'diagnose-alert' ? j.groupId : '')))).toHaveProperty(
      'size',
      3,
    );
  });

  it('beyond the storm threshold, further namespaces fold into one storm message', async () => {
    const { deps, slack } = setup({ STORM_THRESHOLD: '2' });
    for (const ns of ['a', 'b', 'c', 'd', 'e', 'f'])
      await handleAlertGroup(group('firing', [[ns, 'api-1']]), deps);
    await settle();
    expect(slack.parents).toHaveLength(3); // two incidents, then one storm for the rest
    const storm = slack.parents[2]!;
    expect(slack.shown.get(storm.ts)).toMatch(/OOM storm: 4 workloads in 4 namespaces/);
  });

  it('a re-delivery keeps finished lines and their links instead of resetting them to queued', async () => {
    const { deps, slack, store } = setup();
    await handleAlertGroup(group('firing', [['shop', 'api-1']]), deps);
    const id = (await store.getIncidentOf('prod/shop/C0ALERTS'))!;
    await store.setWorkloadLine(
      id,
      'pod:shop/api-1',
      {
        namespace: 'shop',
        label: 'shop/deploy/api · app',
        status: 'OOMKilled: limit too small',
        link: 'https://x/p1',
        order: 0,
      },
      60_000,
    );
    await handleAlertGroup(group('firing', [['shop', 'api-1']]), deps);
    await settle();
    const lines = await store.getWorkloadLines(id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 'OOMKilled: limit too small', link: 'https://x/p1' });
    expect(slack.parents).toHaveLength(1);
  });

  it('resolving part of an incident does not mark it resolved; resolving the rest does', async () => {
    const { deps, store } = setup();
    await handleAlertGroup(group('firing', [['shop', 'api-1']]), deps);
    await handleAlertGroup(group('firing', [['shop', 'api-2']]), deps);
    const id = (await store.getIncidentOf('prod/shop/C0ALERTS'))!;
    await handleAlertGroup(group('resolved', [['shop', 'api-1']]), deps);
    expect((await store.getGroup(id))?.status).toBe('firing');
    await handleAlertGroup(group('resolved', [['shop', 'api-2']]), deps);
    expect((await store.getGroup(id))?.status).toBe('resolved');
  });

  it('after INCIDENT_WINDOW without alerts, the next alert opens a new thread', async () => {
    const { deps, slack } = setup({ INCIDENT_WINDOW: '1s' });
    await handleAlertGroup(group('firing', [['shop', 'api-1']]), deps);
    await handleAlertGroup(group('firing', [['shop', 'api-2']]), deps);
    expect(slack.parents).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1_100));
    await handleAlertGroup(group('firing', [['shop', 'api-3']]), deps);
    expect(slack.parents).toHaveLength(2);
  });

  it('the parent says how many alerts Alertmanager left out (max_alerts)', async () => {
    const { deps, slack } = setup();
    await handleAlertGroup(group('firing', [['shop', 'api-1']], { truncatedAlerts: 37 }), deps);
    const parent = slack.parents[0]!;
    const id = (await deps.store.getIncidentOf('prod/shop/C0ALERTS'))!;
    const message = await renderParent(id, deps);
    expect(JSON.stringify(message?.blocks)).toContain('left out 37 alerts');
    expect(parent.channel).toBe('C0ALERTS');
  });
});
