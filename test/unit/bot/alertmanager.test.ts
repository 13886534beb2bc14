import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  parseWebhook,
  planAlerts,
  shortHash,
  type AlertPlan,
  type WebhookPayload,
} from '../../../src/bot/alertmanager';
import { botJobSchema } from '../../../src/bot/jobs';
import { readBotConfig, type BotConfig } from '../../../src/config/bot';
import { ParseError } from '../../../src/core/errors';

const REAL = path.join(__dirname, '../../fixtures/real');
const GROUPED = 'alertmanager-webhook-kubepodcrashlooping-grouped-3-alerts-incl-oom.json';
const NOT_READY = 'alertmanager-webhook-kubepodnotready-single-alert.json';
const COMPACT_RESOLVED = 'alertmanager-webhook-resolved-compact-alertmanager-bot.json';
const DEPLOYMENT_RESOLVED = 'alertmanager-webhook-resolved-k8s-deployment-replicas.json';
const CAPTURED_OOM = 'alertmanager-0.25-webhook-captured-oom-alert.json';

/** The raw JSON body as Alertmanager sent it (a fresh copy each time, so tests can change it). */
function fixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(path.join(REAL, name), 'utf8')) as Record<string, any>;
}

const BASE_ENV = {
  SLACK_BOT_TOKEN: 'xoxb-1-2-3',
  SLACK_SIGNING_SECRET: 'secret',
  SLACK_ALERT_CHANNEL: 'C0123ABCD',
  ALERTMANAGER_TOKEN: '0123456789abcdef0123456789abcdef',
};

/** The configuration the bot would read from this environment (so the defaults are the real ones). */
function config(extra: Record<string, string> = {}): BotConfig {
  return readBotConfig({ ...BASE_ENV, ...extra });
}

function plan(body: unknown, cfg: BotConfig = config()): AlertPlan {
  return planAlerts(parseWebhook(body), cfg);
}

function parseError(body: unknown): ParseError {
  try {
    parseWebhook(body);
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw new Error(`expected a ParseError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a ParseError, but the payload was accepted');
}

/** A minimal valid firing alert for hand-made payloads. */
function alert(labels: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    status: 'firing',
    labels: { alertname: 'ContainerOOMKilled', ...labels },
    annotations: {},
    startsAt: '2026-01-01T00:00:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    ...extra,
  };
}

function payload(alerts: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '4',
    groupKey: '{}:{alertname="ContainerOOMKilled"}',
    status: 'firing',
    receiver: 'oomdoctor',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://am:9093',
    alerts,
    ...extra,
  };
}

describe('parseWebhook on the real fixtures', () => {
  it.each([GROUPED, NOT_READY, COMPACT_RESOLVED, DEPLOYMENT_RESOLVED, CAPTURED_OOM])('parses %s', (name) => {
    const body = fixture(name);
    const parsed = parseWebhook(body);
    expect(parsed.version).toBe('4');
    expect(parsed.groupKey).toBe(body.groupKey);
    expect(parsed.status).toBe(body.status);
    expect(parsed.alerts).toHaveLength(body.alerts.length);
    expect(parsed.alerts.map((a) => a.labels)).toEqual(body.alerts.map((a: { labels: unknown }) => a.labels));
  });

  it('parses the compact payload of an old Alertmanager, which has no fingerprint and no truncatedAlerts', () => {
    const body = fixture(COMPACT_RESOLVED);
    expect(body.truncatedAlerts).toBeUndefined();
    expect(body.alerts[0].fingerprint).toBeUndefined();
    const parsed = parseWebhook(body);
    expect(parsed.truncatedAlerts).toBeUndefined();
    expect(parsed.alerts[0]?.fingerprint).toBeUndefined();
    expect(parsed.alerts[0]?.startsAt).toBe('2018-11-04T22:43:58.283995108+01:00');
  });

  it('fills in absent annotations and common labels with empty records', () => {
    const body = payload([
      { status: 'firing', labels: { alertname: 'X' }, startsAt: '2026-01-01T00:00:00Z' },
    ]);
    delete body.commonLabels;
    delete body.groupLabels;
    const parsed = parseWebhook(body);
    expect(parsed.commonLabels).toEqual({});
    expect(parsed.groupLabels).toEqual({});
    expect(parsed.alerts[0]?.annotations).toEqual({});
  });
});

describe('planAlerts on the real fixtures', () => {
  it('the grouped KubePodCrashLooping payload: all three alerts are crash-loop targets, the OOM pod among them', () => {
    const p = plan(fixture(GROUPED));
    expect(p.status).toBe('firing');
    expect(p.ignored).toEqual([]);
    expect(p.undiagnosable).toEqual([]);
    expect(p.targets.map((t) => [t.namespace, t.pod, t.container])).toEqual([
      ['cpu-throttle', 'cpu-throttle-example-65cb7677f9-ncs5t', 'cpu-throttle-container'],
      ['crash-loopbackoff', 'crash-loopbackoff-example-6768587b8-lgw5g', 'crash-loop-container'],
      ['oom', 'oom-example-56d77685f5-dqv7z', 'oom-container'],
    ]);
    for (const t of p.targets) {
      expect(t.alertname).toBe('KubePodCrashLooping');
      expect(t.crashLoop).toBe(true);
      expect(t.channel).toBeNull();
    }
    const oom = p.targets[2];
    expect(oom?.startsAt).toBe('2024-12-31T04:58:37.42Z');
    expect(oom?.id).toBe(`328c4b7fcec75544-${shortHash('2024-12-31T04:58:37.42Z').slice(0, 8)}`);
    expect(new Set(p.targets.map((t) => t.id)).size).toBe(3);
    expect(p.groupKey).toBe(fixture(GROUPED).groupKey);
    expect(p.groupId).toBe(shortHash(fixture(GROUPED).groupKey));
    expect(p.groupId).toMatch(/^[0-9a-f]{16}$/);
    expect(p.channel).toBeNull();
  });

  it('the single KubePodNotReady alert is not an OOM alert: ignored, nothing to diagnose', () => {
    const p = plan(fixture(NOT_READY));
    expect(p.targets).toEqual([]);
    expect(p.undiagnosable).toEqual([]);
    expect(p.ignored).toEqual([{ alertname: 'KubePodNotReady', why: 'not an OOM alert' }]);
  });

  it('KubePodNotReady becomes a target once OOM_ALERT_NAMES names it, and is not a crash loop', () => {
    const p = plan(fixture(NOT_READY), config({ OOM_ALERT_NAMES: 'KubePodNotReady' }));
    expect(p.targets).toHaveLength(1);
    expect(p.targets[0]).toMatchObject({
      namespace: 'non-exists-image',
      pod: 'image-pullbackoff-example-d8689bfb8-nlb8b',
      container: null,
      crashLoop: false,
    });
  });

  it('the compact resolved payload: alertname Fire is ignored and the plan is resolved', () => {
    const p = plan(fixture(COMPACT_RESOLVED));
    expect(p.status).toBe('resolved');
    expect(p.targets).toEqual([]);
    expect(p.ignored).toEqual([{ alertname: 'Fire', why: 'not an OOM alert' }]);
  });

  it('an old-Alertmanager alert without a pod label, when its name counts, is undiagnosable with why', () => {
    const p = plan(fixture(COMPACT_RESOLVED), config({ OOM_ALERT_NAMES: 'Fire' }));
    expect(p.targets).toEqual([]);
    expect(p.undiagnosable).toEqual([{ label: 'Fire', why: 'no pod label, so there is no pod to look at' }]);
  });

  it('the resolved Deployment payload: a namespace but no pod label, so undiagnosable when its name counts', () => {
    expect(plan(fixture(DEPLOYMENT_RESOLVED)).ignored).toEqual([
      { alertname: 'Deployment', why: 'not an OOM alert' },
    ]);
    const p = plan(fixture(DEPLOYMENT_RESOLVED), config({ OOM_ALERT_NAMES: 'Deployment' }));
    expect(p.status).toBe('resolved');
    expect(p.targets).toEqual([]);
    expect(p.undiagnosable).toEqual([
      { label: 'Deployment in eric-eo-cm-ci406', why: 'no pod label, so there is no pod to look at' },
    ]);
  });

  it('the captured Alertmanager 0.25 KubePodOOMKilled alert: left alone by the default names, a target when named', () => {
    expect(plan(fixture(CAPTURED_OOM)).ignored).toEqual([
      { alertname: 'KubePodOOMKilled', why: 'not an OOM alert' },
    ]);
    const p = plan(fixture(CAPTURED_OOM), config({ OOM_ALERT_NAMES: 'KubePodOOMKilled' }));
    expect(p.ignored).toEqual([]);
    expect(p.targets).toEqual([
      {
        id: `3105f93d5b9d9f7e-${shortHash('2026-11-28T07:14:22Z').slice(0, 8)}`,
        alertname: 'KubePodOOMKilled',
        namespace: 'shop',
        pod: 'api-1',
        container: 'api',
        channel: null,
        startsAt: '2026-11-28T07:14:22Z',
        crashLoop: false,
      },
    ]);
  });

  it('an alert without a namespace label is undiagnosable and says which label is missing', () => {
    const body = fixture(CAPTURED_OOM);
    delete body.alerts[0].labels.namespace;
    const p = plan(body, config({ OOM_ALERT_NAMES: 'KubePodOOMKilled' }));
    expect(p.targets).toEqual([]);
    expect(p.undiagnosable).toEqual([
      { label: 'KubePodOOMKilled/api-1', why: 'no namespace label, so there is no pod to look at' },
    ]);
  });

  it('reads the pod from the configured label (ALERT_LABEL_POD)', () => {
    const body = payload([alert({ namespace: 'shop', exported_pod: 'api-7', pod: 'kube-state-metrics-0' })]);
    expect(plan(body, config({ ALERT_LABEL_POD: 'exported_pod' })).targets[0]?.pod).toBe('api-7');
    expect(plan(body).targets[0]?.pod).toBe('kube-state-metrics-0');
  });
});

describe('planAlerts: one bot, one cluster', () => {
  it('leaves alone the alerts of another cluster when CLUSTER_NAME is set', () => {
    const p = plan(fixture(GROUPED), config({ CLUSTER_NAME: 'prod-eu' }));
    expect(p.targets).toEqual([]);
    expect(p.ignored).toHaveLength(3);
    for (const i of p.ignored) {
      expect(i.alertname).toBe('KubePodCrashLooping');
      expect(i.why).toBe('for cluster kienlt-rke2, and this bot serves prod-eu');
    }
  });

  it('diagnoses them when CLUSTER_NAME matches the cluster label', () => {
    expect(plan(fixture(GROUPED), config({ CLUSTER_NAME: 'kienlt-rke2' })).targets).toHaveLength(3);
  });

  it('diagnoses an alert without a cluster label whatever CLUSTER_NAME says', () => {
    const p = plan(
      fixture(CAPTURED_OOM),
      config({ CLUSTER_NAME: 'prod-eu', OOM_ALERT_NAMES: 'KubePodOOMKilled' }),
    );
    expect(p.targets).toHaveLength(1);
  });

  it('leaves alone an alert without a cluster label with CLUSTER_UNLABELLED_ALERTS=ignore', () => {
    const p = plan(
      fixture(CAPTURED_OOM),
      config({
        CLUSTER_NAME: 'prod-eu',
        CLUSTER_UNLABELLED_ALERTS: 'ignore',
        OOM_ALERT_NAMES: 'KubePodOOMKilled',
      }),
    );
    expect(p.targets).toEqual([]);
    expect(p.ignored).toEqual([
      { alertname: 'KubePodOOMKilled', why: 'no cluster label, and CLUSTER_UNLABELLED_ALERTS=ignore' },
    ]);
  });

  it('still diagnoses the labelled alerts of its own cluster with CLUSTER_UNLABELLED_ALERTS=ignore', () => {
    const p = plan(
      fixture(GROUPED),
      config({ CLUSTER_NAME: 'kienlt-rke2', CLUSTER_UNLABELLED_ALERTS: 'ignore' }),
    );
    expect(p.targets).toHaveLength(3);
  });

  it('refuses CLUSTER_UNLABELLED_ALERTS=ignore without CLUSTER_NAME, and values other than diagnose or ignore', () => {
    expect(() => config({ CLUSTER_UNLABELLED_ALERTS: 'ignore' })).toThrow(
      'CLUSTER_UNLABELLED_ALERTS=ignore needs CLUSTER_NAME: set it to the value of the cluster label this bot answers',
    );
    expect(() => config({ CLUSTER_NAME: 'prod-eu', CLUSTER_UNLABELLED_ALERTS: 'skip' })).toThrow(
      'CLUSTER_UNLABELLED_ALERTS "skip" must be diagnose (the default: an alert without a cluster label is this cluster\'s) or ignore (it is another bot\'s)',
    );
    expect(config({ CLUSTER_NAME: 'prod-eu' }).alerts.ignoreUnlabelled).toBeUndefined();
  });

  it('reads the cluster from the configured label (ALERT_LABEL_CLUSTER)', () => {
    const p = plan(
      fixture(GROUPED),
      config({ CLUSTER_NAME: 'rke2-cluster', ALERT_LABEL_CLUSTER: 'cluster_name' }),
    );
    expect(p.targets).toHaveLength(3);
  });
});

describe('planAlerts: alert ids', () => {
  const cfg = config({ OOM_ALERT_NAMES: 'KubePodOOMKilled' });
  const idOf = (body: unknown) => plan(body, cfg).targets[0]?.id;

  it('are stable across re-sends of the same alert (repeat_interval, retries)', () => {
    const first = fixture(CAPTURED_OOM);
    const resent = fixture(CAPTURED_OOM);
    // A re-send differs in what Alertmanager adds around the alert, not in the alert itself.
    resent.alerts[0].annotations = { summary: 'changed wording' };
    resent.truncatedAlerts = 0;
    resent.groupKey = `${first.groupKey} `;
    expect(idOf(first)).toBeDefined();
    expect(idOf(resent)).toBe(idOf(first));
  });

  it('differ for a new firing of the same alert (a new startsAt)', () => {
    const later = fixture(CAPTURED_OOM);
    later.alerts[0].startsAt = '2026-11-28T09:00:00Z';
    expect(idOf(later)).not.toBe(idOf(fixture(CAPTURED_OOM)));
    expect(idOf(later)?.startsWith('3105f93d5b9d9f7e-')).toBe(true);
  });

  it('fall back to a hash of the sorted labels when there is no fingerprint', () => {
    const body = fixture(CAPTURED_OOM);
    delete body.alerts[0].fingerprint;
    const labels = body.alerts[0].labels as Record<string, string>;
    const sorted = Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(',');
    const id = idOf(body);
    expect(id).toBe(`${shortHash(sorted)}-${shortHash('2026-11-28T07:14:22Z').slice(0, 8)}`);
    expect(id).toMatch(/^[0-9a-f]{16}-[0-9a-f]{8}$/);

    // The label order in the JSON does not matter; a label value does.
    const reordered = fixture(CAPTURED_OOM);
    delete reordered.alerts[0].fingerprint;
    reordered.alerts[0].labels = Object.fromEntries(Object.entries(labels).reverse());
    expect(idOf(reordered)).toBe(id);
    const otherPod = fixture(CAPTURED_OOM);
    delete otherPod.alerts[0].fingerprint;
    otherPod.alerts[0].labels.pod = 'api-2';
    expect(idOf(otherPod)).not.toBe(id);
  });

  it('do not trust a fingerprint that is not plain alphanumerics (it becomes part of job ids and keys)', () => {
    const body = fixture(CAPTURED_OOM);
    body.alerts[0].fingerprint = '../../etc:passwd';
    expect(idOf(body)).toMatch(/^[0-9a-f]{16}-[0-9a-f]{8}$/);
  });
});

describe('planAlerts: routing and restrictions', () => {
  it('routes the group to the channel in the slack_channel label', () => {
    const body = payload([
      alert({ namespace: 'shop', pod: 'api-1', slack_channel: 'C0SHOPTEAM' }),
      alert({ namespace: 'shop', pod: 'api-2' }),
    ]);
    const p = plan(body);
    expect(p.targets.map((t) => t.channel)).toEqual(['C0SHOPTEAM', null]);
    expect(p.channel).toBe('C0SHOPTEAM');
  });

  it('falls back to the channel in the common labels, and to null (the configured channel) without one', () => {
    expect(
      plan(
        payload([alert({ namespace: 'shop', pod: 'api-1' })], {
          commonLabels: { slack_channel: '#shop-oncall' },
        }),
      ).channel,
    ).toBe('#shop-oncall');
    expect(plan(payload([alert({ namespace: 'shop', pod: 'api-1' })])).channel).toBeNull();
  });

  it('reads the channel from the configured label (ALERT_LABEL_CHANNEL)', () => {
    const body = payload([
      alert({ namespace: 'shop', pod: 'api-1', team_channel: 'C0TEAM', slack_channel: 'C0OTHER' }),
    ]);
    expect(plan(body, config({ ALERT_LABEL_CHANNEL: 'team_channel' })).channel).toBe('C0TEAM');
  });

  it('OOM_NAMESPACES: an alert in another namespace is undiagnosable, with why', () => {
    const body = payload([
      alert({ namespace: 'shop', pod: 'api-1' }),
      alert({ namespace: 'kube-system', pod: 'coredns-1' }),
    ]);
    const p = plan(body, config({ OOM_NAMESPACES: 'shop,payments' }));
    expect(p.targets.map((t) => `${t.namespace}/${t.pod}`)).toEqual(['shop/api-1']);
    expect(p.undiagnosable).toEqual([
      {
        label: 'ContainerOOMKilled in kube-system/coredns-1',
        why: 'namespace kube-system is not one this bot may read (OOM_NAMESPACES)',
      },
    ]);
  });

  it('the grouped fixture under OOM_NAMESPACES=oom keeps only the OOM pod', () => {
    const p = plan(fixture(GROUPED), config({ OOM_NAMESPACES: 'oom' }));
    expect(p.targets.map((t) => t.pod)).toEqual(['oom-example-56d77685f5-dqv7z']);
    expect(p.undiagnosable.map((u) => u.why)).toEqual([
      'namespace cpu-throttle is not one this bot may read (OOM_NAMESPACES)',
      'namespace crash-loopbackoff is not one this bot may read (OOM_NAMESPACES)',
    ]);
  });

  it('marks crash-loop alerts by CRASHLOOP_ALERT_NAMES, and OOM alerts not', () => {
    const body = payload([
      alert({ namespace: 'shop', pod: 'a-1' }),
      alert({ alertname: 'KubePodCrashLooping', namespace: 'shop', pod: 'b-1' }),
    ]);
    expect(plan(body).targets.map((t) => t.crashLoop)).toEqual([false, true]);
    const custom = config({
      OOM_ALERT_NAMES: 'ContainerOOMKilled,KubePodCrashLooping',
      CRASHLOOP_ALERT_NAMES: 'ContainerOOMKilled',
    });
    expect(plan(body, custom).targets.map((t) => t.crashLoop)).toEqual([true, false]);
  });

  it('an alert without an alertname is ignored, not diagnosed', () => {
    const p = plan(
      payload([
        { status: 'firing', labels: { namespace: 'shop', pod: 'api-1' }, startsAt: '2026-01-01T00:00:00Z' },
      ]),
    );
    expect(p.targets).toEqual([]);
    expect(p.ignored).toEqual([{ alertname: '(no alertname)', why: 'not an OOM alert' }]);
  });
});

describe('hostile and malformed payloads', () => {
  it('refuses version "3" and says which version it reads', () => {
    const body = fixture(CAPTURED_OOM);
    body.version = '3';
    expect(parseError(body).message).toBe(
      'webhook payload version "3" is not supported: oomdoctor reads version 4',
    );
  });

  it('refuses a payload without groupKey, naming the field', () => {
    const body = fixture(GROUPED);
    delete body.groupKey;
    expect(parseError(body).message).toMatch(/^not an Alertmanager webhook payload: groupKey: /);
    expect(parseError({ ...fixture(GROUPED), groupKey: '' }).message).toMatch(/groupKey/);
  });

  it('refuses alerts that are not an array', () => {
    expect(parseError({ ...fixture(GROUPED), alerts: { 0: fixture(GROUPED).alerts[0] } }).message).toMatch(
      /: alerts: /,
    );
    expect(parseError({ ...fixture(GROUPED), alerts: null }).message).toMatch(/: alerts: /);
  });

  it.each([null, 'text', 42, [], {}])('refuses a body that is not a payload at all: %j', (body) => {
    expect(parseError(body).message).toMatch(/^not an Alertmanager webhook payload: /);
  });

  it('refuses 1001 alerts and accepts 1000', () => {
    const one = fixture(CAPTURED_OOM).alerts[0];
    expect(parseError(payload(Array.from({ length: 1001 }, () => one))).message).toMatch(/alerts/);
    expect(parseWebhook(payload(Array.from({ length: 1000 }, () => one))).alerts).toHaveLength(1000);
  });

  it('refuses an alert whose label value is not a string, naming where', () => {
    const body = fixture(CAPTURED_OOM);
    body.alerts[0].labels.pod = 7;
    expect(parseError(body).message).toMatch(/alerts\.0\.labels\.pod/);
  });

  it('refuses an unknown alert status', () => {
    const body = fixture(CAPTURED_OOM);
    body.alerts[0].status = 'pending';
    expect(parseError(body).message).toMatch(/alerts\.0\.status/);
  });

  it('keeps a label value with <!channel> as data: parsed as is, never thrown', () => {
    const body = payload([
      alert({ namespace: 'shop', pod: 'api-1', severity: '<!channel> wake up', slack_channel: '<!channel>' }),
      alert({ namespace: 'shop', pod: '<!channel>' }),
      alert({ namespace: '<@U0123ABC>', pod: 'api-2' }),
    ]);
    const parsed = parseWebhook(body);
    expect(parsed.alerts[0]?.labels.severity).toBe('<!channel> wake up');
    let p: AlertPlan | undefined;
    expect(() => {
      p = planAlerts(parsed, config());
    }).not.toThrow();
    // A channel label that is not a channel id or name is not used for routing at all.
    expect(p?.targets.map((t) => t.pod)).toEqual(['api-1']);
    expect(p?.targets[0]?.channel).toBeNull();
    // A pod or namespace that is not a Kubernetes name cannot be diagnosed, and the plan says why.
    expect(p?.undiagnosable).toHaveLength(2);
    expect(p?.undiagnosable[0]?.label).toBe('ContainerOOMKilled in shop/<!channel>');
    expect(p?.undiagnosable[0]?.why).toMatch(/^pod name "<!channel>" is not valid/);
    expect(p?.undiagnosable[1]?.why).toMatch(/^namespace "<@U0123ABC>" is not valid/);
  });

  it('accepts unknown extra fields from newer Alertmanagers (notification_reason, routeLabels)', () => {
    const body = fixture(CAPTURED_OOM);
    body.notification_reason = 'new_alerts';
    body.routeLabels = { receiver: 'oom-bot' };
    body.alerts[0].somethingNew = { nested: true };
    const parsed: WebhookPayload = parseWebhook(body);
    expect(parsed.alerts).toHaveLength(1);
    expect(parsed).not.toHaveProperty('notification_reason');
    expect(plan(body, config({ OOM_ALERT_NAMES: 'KubePodOOMKilled' })).targets).toHaveLength(1);
  });

  it('refuses an oversized groupKey and an oversized startsAt', () => {
    expect(parseError({ ...fixture(GROUPED), groupKey: 'k'.repeat(4097) }).message).toMatch(/groupKey/);
    const body = fixture(CAPTURED_OOM);
    body.alerts[0].startsAt = '2'.repeat(65);
    expect(parseError(body).message).toMatch(/alerts\.0\.startsAt/);
  });

  it('does not treat __proto__ labels as a prototype (a map of strings stays a map of strings)', () => {
    const body = JSON.parse(
      '{"version":"4","groupKey":"g","status":"firing","receiver":"r","alerts":[{"status":"firing","labels":{"alertname":"ContainerOOMKilled","namespace":"shop","pod":"api-1","__proto__":"x"},"startsAt":"2026-01-01T00:00:00Z"}]}',
    ) as unknown;
    const p = plan(body);
    expect(p.targets.map((t) => t.pod)).toEqual(['api-1']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('what the webhook accepts, the worker can read', () => {
  const cfg = readBotConfig({
    SLACK_BOT_TOKEN: 'xoxb-1-2-3',
    SLACK_SIGNING_SECRET: 'secret',
    SLACK_ALERT_CHANNEL: 'C0123ABCD',
    ALERTMANAGER_TOKEN: '0123456789abcdef0123456789abcdef',
  });
  const oom = (labels: Record<string, string>) => ({
    status: 'firing',
    labels: { alertname: 'ContainerOOMKilled', ...labels },
    startsAt: '2026-01-01T00:00:00Z',
  });
  it.each([
    [
      'a foreign alert with a 300-character alertname in the group',
      [oom({ namespace: 'shop', pod: 'api-1' }), oom({ alertname: 'A'.repeat(300) })],
    ],
    [
      'a 101-character slack_channel label',
      [oom({ namespace: 'shop', pod: 'api-1', slack_channel: 'c'.repeat(101) })],
    ],
    ['a 700-character pod label (undiagnosable)', [oom({ namespace: 'shop', pod: 'p'.repeat(700) })]],
  ])('%s does not sink the group', (_name, alerts) => {
    const plan = planAlerts(
      parseWebhook({ version: '4', groupKey: 'g', status: 'firing', receiver: 'r', alerts }),
      cfg,
    );
    const result = botJobSchema.safeParse({
      kind: 'alert-group',
      receivedAt: 1,
      plan,
      alertName: 'ContainerOOMKilled',
    });
    expect(result.success ? 'valid' : result.error.issues[0]?.path.join('.')).toBe('valid');
    // The real OOM alert is still there to diagnose.
    if (alerts.some((a) => (a.labels as Record<string, string>).pod === 'api-1'))
      expect(plan.targets.map((t) => t.pod)).toContain('api-1');
  });
});
