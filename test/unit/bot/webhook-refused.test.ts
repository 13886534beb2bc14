// Nothing lost between Alertmanager and the bot: the shipped receiver's max_alerts keeps a full
// delivery under the webhook's body cap, and a payload the webhook refuses (Alertmanager does not
// resend a 4xx) is still said in the alert channel, once per minute per reason.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { parse } from 'yaml';
import { alertmanagerWebhook, MAX_BODY_BYTES } from '../../../handlers/alertmanager-webhook';
import type { SlackPoster } from '../../../src/adapters/slack';
import { parseWebhook } from '../../../src/bot/alertmanager';
import { readBotConfig } from '../../../src/config/bot';
import { MemoryJobQueue } from '../../../src/bot/queue';

const ROOT = join(__dirname, '..', '..', '..');
const TOKEN = '6f1c2a9e0b7d4e3f8a5c1d2e3f4a5b6c';
const CHANNEL = 'C0ALERTS';

function shippedMaxAlerts(): number {
  const receiver = parse(readFileSync(join(ROOT, 'deploy', 'alertmanager-receiver.yaml'), 'utf8')) as {
    receivers: Array<{ name: string; webhook_configs?: Array<{ max_alerts?: number }> }>;
  };
  const webhook = receiver.receivers.find((r) => r.name === 'oomdoctor')?.webhook_configs?.[0];
  return webhook?.max_alerts ?? 0;
}

/** A delivery of `count` alerts shaped like kube-prometheus-stack's, each as large as it gets. */
function bigDelivery(count: number): unknown {
  const fixture = JSON.parse(
    readFileSync(
      join(
        ROOT,
        'test',
        'fixtures',
        'real',
        'alertmanager-webhook-kubepodcrashlooping-grouped-3-alerts-incl-oom.json',
      ),
      'utf8',
    ),
  ) as { alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }> };
  const template = fixture.alerts[0]!;
  const longest = (n: number, seed: string) => `${seed}-${'x'.repeat(n)}`.slice(0, n);
  const alerts = Array.from({ length: count }, (_, i) => ({
    ...template,
    labels: {
      ...template.labels,
      alertname: 'ContainerOOMKilled',
      namespace: longest(63, `team-namespace-${i}`), // names at the Kubernetes maximum
      pod: longest(63, `checkout-service-7d9f8b6c4-${i}`),
      container: longest(63, `application-container-${i}`),
      uid: '0c59ceef-09d1-46a9-8e00-75513a666026',
    },
    annotations: {
      ...template.annotations,
      summary: longest(120, 'Container was OOM-killed'),
      description: longest(
        700,
        `Container ${i} in pod ${i} was killed by the kernel OOM killer after reaching its memory limit; see the runbook`,
      ),
    },
    fingerprint: i.toString(16).padStart(16, '0'),
  }));
  const common = { alertname: 'ContainerOOMKilled' };
  return {
    receiver: 'oomdoctor',
    status: 'firing',
    alerts,
    groupLabels: common,
    commonLabels: common,
    commonAnnotations: {},
    externalURL: 'http://alertmanager-kube-prometheus-stack-alertmanager.monitoring:9093',
    version: '4',
    groupKey: '{}/{alertname=~"ContainerOOMKilled"}:{alertname="ContainerOOMKilled"}',
    truncatedAlerts: 0,
  };
}

describe("the shipped receiver's max_alerts", () => {
  it('is set, and at most the 1,000 alerts the webhook accepts', () => {
    const max = shippedMaxAlerts();
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(1000);
  });

  it('keeps a full delivery with long labels and annotations under the body cap, and it parses', () => {
    const body = bigDelivery(shippedMaxAlerts());
    const bytes = Buffer.byteLength(JSON.stringify(body));
    process.stdout.write(
      `max_alerts ${shippedMaxAlerts()}: ${bytes} bytes of ${MAX_BODY_BYTES} (${((100 * bytes) / MAX_BODY_BYTES).toFixed(0)}%)\n`,
    );
    expect(bytes).toBeLessThan(MAX_BODY_BYTES);
    expect(parseWebhook(body).alerts).toHaveLength(shippedMaxAlerts());
  });

  it('is needed: the same alerts without it can exceed the cap', () => {
    expect(Buffer.byteLength(JSON.stringify(bigDelivery(1000)))).toBeGreaterThan(MAX_BODY_BYTES);
  });
});

describe('a refused payload', () => {
  let server: Server;
  let url: string;
  let clock = 1_000_000;
  const posted: Array<{ channel: string; text: string }> = [];
  const slack: Pick<SlackPoster, 'post'> = {
    post: async (channel, message) => {
      posted.push({ channel, text: message.text });
      return { channel, ts: '1.000' };
    },
  };

  beforeAll(async () => {
    const config = readBotConfig({
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'secret-secret-secret',
      SLACK_ALERT_CHANNEL: CHANNEL,
      ALERTMANAGER_TOKEN: TOKEN,
    });
    const handler = alertmanagerWebhook({
      config,
      queue: new MemoryJobQueue(),
      logger: pino({ level: 'silent' }),
      slack,
      now: () => clock,
    });
    server = createServer(handler);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  beforeEach(() => {
    posted.length = 0;
    clock += 3_600_000;
  });

  const send = (body: string, token = TOKEN) =>
    fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body,
    });

  const settle = () => new Promise((done) => setTimeout(done, 20));

  it('over the body cap: 413, and one line in the alert channel naming max_alerts', async () => {
    const response = await send(JSON.stringify(bigDelivery(1000)));
    expect(response.status).toBe(413);
    await settle();
    expect(posted).toHaveLength(1);
    expect(posted[0]?.channel).toBe(CHANNEL);
    expect(posted[0]?.text).toMatch(
      /refused a webhook from Alertmanager \(413: the body is larger than 1048576 bytes\)/,
    );
    expect(posted[0]?.text).toMatch(/Set max_alerts .* deploy\/alertmanager-receiver\.yaml/);
  });

  it('more than 1,000 alerts: 400, and the line says why and names max_alerts', async () => {
    const body = bigDelivery(1001) as { alerts: Array<{ annotations: object; labels: object }> };
    for (const alert of body.alerts) {
      alert.annotations = {};
      alert.labels = { alertname: 'ContainerOOMKilled', namespace: 'shop', pod: 'api-1' };
    }
    const response = await send(JSON.stringify(body));
    expect(response.status).toBe(400);
    await settle();
    expect(posted).toHaveLength(1);
    expect(posted[0]?.text).toMatch(/\(400: .*alerts.*1000/);
    expect(posted[0]?.text).toMatch(/max_alerts/);
  });

  it('a wrong bearer token: 401, and the line names ALERTMANAGER_TOKEN', async () => {
    const response = await send('{}', 'wrong-token-wrong-token-wrong-tok');
    expect(response.status).toBe(401);
    await settle();
    expect(posted.map((p) => p.text)).toEqual([
      expect.stringMatching(/401: missing or wrong bearer token.*ALERTMANAGER_TOKEN/),
    ]);
  });

  it('says a storm of refusals once a minute, not once each', async () => {
    for (let i = 0; i < 5; i++) expect((await send('not json')).status).toBe(400);
    await settle();
    expect(posted).toHaveLength(1);
    clock += 61_000;
    await send('not json');
    await settle();
    expect(posted).toHaveLength(2);
  });

  it('a payload it accepts says nothing in the channel', async () => {
    const response = await send(
      JSON.stringify({ ...(bigDelivery(1) as object), alerts: [], status: 'firing' }),
    );
    expect(response.status).toBe(200);
    await settle();
    expect(posted).toHaveLength(0);
  });
});
