// "Apply fix" end to end: the bot against the fake Kubernetes API and the fake Slack, driven by
// correctly signed block_actions and view_submission payloads, as Slack sends them (form-encoded,
// one field `payload` holding JSON). The allowed path with its rollout and Undo, each refusal, the
// race, the double click, a GitOps-managed workload, a dry run the API refuses, and impersonation.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { RunningBot } from '../../../src/bot/app';
import type { FakeMessage } from '../../fakes/slack-api';
import {
  postToSlackEndpoint,
  slashCommand,
  startServices,
  startTestBot,
  type Services,
} from '../../support/bot-harness';
import { addApplyPeople, APPLY_CHANNEL, applyDriver, applySpec } from '../../support/apply-driver';
import { neededGrants, SHIPPED_RBAC, shippedGrants } from '../../support/rbac';
import { demoSpecs, type ScenarioSpec } from '../../support/scenarios';

jest.setTimeout(30_000);

const CHANNEL = APPLY_CHANNEL;
const spec = applySpec;
const APPS = ['api-happy', 'api-race', 'api-double', 'api-dryrun', 'api-gitops', 'api-refuse', 'api-forbid'];

let services: Services;
let bot: RunningBot;
let auditDir: string;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  // Two JVM workloads with a heap larger than the container: the flag in an env variable, and in args.
  const heap = demoSpecs()[3] as ScenarioSpec;
  const jvmEnv: ScenarioSpec = { ...heap, id: 'jvm-env', app: 'jvm-env', namespace: 'shop' };
  const jvmArgs: ScenarioSpec = {
    ...heap,
    id: 'jvm-args',
    app: 'jvm-args',
    namespace: 'shop',
    runtime: { args: ['-jar', '/app/app.jar', '-Xmx3072m', '--spring.profiles.active=prod'] },
  };
  services = await startServices(
    [
      ...APPS.map((a) => spec(a)),
      spec('ledger-x', 'payments'),
      spec('store', 'shop', 'StatefulSet'),
      spec('report', 'shop', 'CronJob'),
      jvmEnv,
      jvmArgs,
    ],
    { redis: false },
  );
  addApplyPeople(services);
  auditDir = mkdtempSync(join(tmpdir(), 'oomdoctor-apply-'));
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  ({ bot } = await startTestBot(services, {
    env: {
      APPLY_ENABLED: 'true',
      APPLY_NAMESPACES: 'shop',
      APPLY_ALLOWED_USERS: 'U0ALICE',
      APPLY_ALLOWED_GROUPS: 'S0ONCALL',
      AUDIT_LOG_FILE: join(auditDir, 'audit.jsonl'),
    },
    overrides: { logger, applyPollMs: 40 },
  }));
});

afterAll(async () => {
  await bot?.stop();
  await services?.stop();
  if (auditDir) rmSync(auditDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Helpers: the diagnosis, Slack's payloads, what the fakes saw

const deployment = (name: string, namespace = 'shop') =>
  services.cluster.kube.get('Deployment', namespace, name) as Record<string, any>;
const container = (name: string) => deployment(name).spec.template.spec.containers[0];
const { scenario, diagnose, buttonOf, press, modalAfterChecks, submit, patches, texts, threadOf } =
  applyDriver({ services: () => services, bot: () => bot });
const audits = () => logLines.filter((l) => l.audit === true);
const auditFile = () =>
  readFileSync(join(auditDir, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

// ---------------------------------------------------------------------------------------------

it('the allowed path: button → modal with the dry-run diff → submit → patched → thread records it → rollout followed → Undo restores', async () => {
  const reply = await diagnose('api-happy');
  const apply = buttonOf(reply, 'oom_apply');
  expect(apply?.value).toMatch(/^[A-Za-z0-9_-]{24}$/);
  // The button carries the id only.
  expect(apply?.value).not.toMatch(/768Mi|api-happy/);
  expect(container('api-happy').resources.limits.memory).toBe('512Mi');
  const generation = deployment('api-happy').metadata.generation;

  const pressed = await press('oom_apply', apply!.value, reply);
  expect(pressed.status).toBe(200);
  const modal = await modalAfterChecks(pressed.triggerId);
  // The modal opened at once (the "checking" view), then was updated after a dry run of the very patch.
  const opened = services.slack.callsTo('views.open').find((c) => c.args.trigger_id === pressed.triggerId);
  expect(JSON.stringify(opened?.args.view)).toContain('Checking');
  expect(patches('api-happy', true)).toHaveLength(1);
  expect(patches('api-happy', false)).toHaveLength(0);
  expect(modal.view.submit.text).toBe('Apply');
  const diff = JSON.stringify(modal.view.blocks);
  expect(diff).toContain('`limits.memory`: `512Mi` → `768Mi`');
  expect(diff).toContain('dryRun=All');
  expect(container('api-happy').resources.limits.memory).toBe('512Mi'); // the dry run changed nothing

  const submitted = await submit(modal);
  expect(submitted.status).toBe(200);
  expect(submitted.body.response_action).toBe('update');
  expect(JSON.stringify(submitted.body.view)).toContain('Applying the fix');

  await services.slack.waitFor(() => patches('api-happy', false).length === 1, 10_000);
  const sent = patches('api-happy', false)[0];
  expect(sent?.headers['content-type']).toBe('application/strategic-merge-patch+json');
  expect(container('api-happy').resources.limits.memory).toBe('768Mi');
  expect(deployment('api-happy').metadata.generation).toBe(generation + 1);

  // The thread records who applied what, with Undo; the diagnosis loses its Apply button.
  const appliedMessage = () => threadOf(reply).find((m) => texts(m).includes('applied the fix to'));
  await services.slack.waitFor(() => appliedMessage() !== undefined, 5000);
  expect(texts(appliedMessage())).toContain('<@U0ALICE> applied the fix to Deployment `shop/api-happy`');
  expect(texts(appliedMessage())).toContain('`512Mi` → `768Mi`');
  expect(buttonOf(appliedMessage(), 'oom_undo')?.value).toBe(apply!.value);
  await services.slack.waitFor(
    () =>
      buttonOf(
        services.slack.messages.find((m) => m.ts === reply.ts),
        'oom_apply',
      ) === undefined,
    5000,
  );
  expect(texts(services.slack.messages.find((m) => m.ts === reply.ts))).toContain('the fix has been applied');

  // The rollout: waiting for the controller, then done once the status says so, in one message.
  await services.slack.waitFor(
    () => texts(appliedMessage()).includes('waiting for the Deployment controller'),
    5000,
  );
  services.cluster.kube.setStatus('Deployment', 'shop', 'api-happy', {
    observedGeneration: generation + 1,
    replicas: 3,
    updatedReplicas: 1,
    availableReplicas: 2,
  });
  await services.slack.waitFor(() => texts(appliedMessage()).includes('1 of 3 pods updated'), 5000);
  services.cluster.kube.setStatus('Deployment', 'shop', 'api-happy', {
    observedGeneration: generation + 1,
    replicas: 3,
    updatedReplicas: 3,
    availableReplicas: 3,
  });
  await services.slack.waitFor(
    () => texts(appliedMessage()).includes('rolled out: 3 of 3 pods updated and available'),
    5000,
  );
  expect(threadOf(reply).filter((m) => texts(m).includes('applied the fix to'))).toHaveLength(1);

  // Audited, on the log and in AUDIT_LOG_FILE.
  const applied = audits().find((a) => a.event === 'applied' && a.workload === 'Deployment shop/api-happy');
  expect(applied).toMatchObject({
    op: 'apply',
    user: 'U0ALICE',
    container: 'api',
    result: 'ok',
    before: { 'limits.memory': '512Mi' },
    after: { 'limits.memory': '768Mi' },
  });
  expect(auditFile().some((a) => a.event === 'applied' && a.workload === 'Deployment shop/api-happy')).toBe(
    true,
  );
  expect(bot.audit.counters()['apply.applied']).toBeGreaterThanOrEqual(1);

  // Undo, under the same rules: its own button, modal, dry run and submit.
  const undo = await press('oom_undo', apply!.value, appliedMessage() as FakeMessage);
  const undoModal = await modalAfterChecks(undo.triggerId);
  expect(undoModal.view.submit.text).toBe('Undo');
  expect(JSON.stringify(undoModal.view.blocks)).toContain('`limits.memory`: `768Mi` → `512Mi`');
  await submit(undoModal);
  await services.slack.waitFor(() => patches('api-happy', false).length === 2, 10_000);
  await services.slack.waitFor(() => container('api-happy').resources.limits.memory === '512Mi', 5000);
  expect(container('api-happy').resources).toEqual(
    scenario('api-happy').objects.find((o) => o.kind === 'Deployment')?.spec.template.spec.containers[0]
      .resources,
  );
  await services.slack.waitFor(
    () => threadOf(reply).some((m) => texts(m).includes('undid the fix on')),
    5000,
  );
  await services.slack.waitFor(
    () =>
      texts(appliedMessage()).includes('Undone by <@U0ALICE>') &&
      buttonOf(appliedMessage(), 'oom_undo') === undefined,
    5000,
  );
  expect(audits().some((a) => a.event === 'undone' && a.workload === 'Deployment shop/api-happy')).toBe(true);

  // Undo twice is refused: nothing more is patched.
  const again = await press('oom_undo', apply!.value, appliedMessage() as FakeMessage);
  expect(again.status).toBe(200);
  await services.slack.waitFor(
    () => services.slack.ephemerals.some((e) => e.user === 'U0ALICE' && e.text.includes('already undone')),
    5000,
  );
  expect(patches('api-happy', false)).toHaveLength(2);
});

it('refuses a user who is not allowed, with an ephemeral that says why, and an audit line', async () => {
  const reply = await diagnose('api-refuse');
  const apply = buttonOf(reply, 'oom_apply');
  const before = services.slack.callsTo('views.open').length;
  const pressed = await press('oom_apply', apply!.value, reply, 'U0MALLORY');
  expect(pressed.status).toBe(200);
  await services.slack.waitFor(() => services.slack.ephemerals.some((e) => e.user === 'U0MALLORY'), 5000);
  const refusal = services.slack.ephemerals.find((e) => e.user === 'U0MALLORY');
  expect(refusal?.channel).toBe(CHANNEL);
  expect(refusal?.text).toContain(
    'only the people in APPLY_ALLOWED_USERS or a member of the user group S0ONCALL may apply fixes',
  );
  expect(services.slack.callsTo('views.open')).toHaveLength(before);
  expect(patches('api-refuse', true)).toHaveLength(0);
  expect(audits().find((a) => a.user === 'U0MALLORY')).toMatchObject({
    event: 'refused',
    result: 'refused',
    code: 'user',
    workload: 'Deployment shop/api-refuse',
  });
  expect(auditFile().some((a) => a.user === 'U0MALLORY' && a.event === 'refused')).toBe(true);

  // A member of an allowed user group may (membership from usergroups.users.list).
  const bob = await press('oom_apply', apply!.value, reply, 'U0BOB');
  const modal = await modalAfterChecks(bob.triggerId);
  expect(modal.view.submit?.text).toBe('Apply');
  expect(services.slack.callsTo('usergroups.users.list').some((c) => c.args.usergroup === 'S0ONCALL')).toBe(
    true,
  );
});

it('offers no button where the namespace is not allowed, and says why', async () => {
  const reply = await diagnose('ledger-x');
  expect(buttonOf(reply, 'oom_apply')).toBeUndefined();
  expect(texts(reply)).toContain('Apply is not available: namespace payments is not in APPLY_NAMESPACES');
  // The patch is still shown, to apply by hand.
  expect(texts(reply)).toContain('kubectl -n payments patch deployment ledger-x');
});

it('the race: the workload changed after the diagnosis, so nothing is applied, the user is told, with a Re-run button', async () => {
  const reply = await diagnose('api-race');
  const apply = buttonOf(reply, 'oom_apply');
  const pressed = await press('oom_apply', apply!.value, reply);
  const modal = await modalAfterChecks(pressed.triggerId);
  expect(modal.view.submit.text).toBe('Apply');

  // Someone changes the Deployment's spec between the modal and the submit.
  const changed = deployment('api-race');
  changed.spec.template.spec.containers[0].resources.limits.memory = '1Gi';
  const { kind: _k, apiVersion: _a, ...rest } = changed;
  services.cluster.kube.put('Deployment', { ...rest, metadata: { ...rest.metadata, generation: undefined } });
  expect(deployment('api-race').metadata.generation).toBe(5);

  await submit(modal);
  const raceMessage = () => threadOf(reply).find((m) => texts(m).includes('asked to apply the fix'));
  await services.slack.waitFor(() => raceMessage() !== undefined, 10_000);
  expect(texts(raceMessage())).toContain('nothing was changed');
  expect(texts(raceMessage())).toContain('metadata.generation 4 → 5');
  expect(texts(raceMessage())).toContain('limits.memory 512Mi → 1Gi');
  expect(buttonOf(raceMessage(), 'oom_rerun')).toBeDefined();
  expect(patches('api-race', false)).toHaveLength(0);
  expect(container('api-race').resources.limits.memory).toBe('1Gi');
  expect(
    audits().find((a) => a.workload === 'Deployment shop/api-race' && a.event === 'refused'),
  ).toMatchObject({ code: 'race' });

  // The stale suggestion is refused from then on, and the diagnosis says why.
  await press('oom_apply', apply!.value, reply);
  await services.slack.waitFor(
    () => services.slack.ephemerals.some((e) => e.text.includes('the workload changed since this diagnosis')),
    5000,
  );
  await services.slack.waitFor(
    () =>
      texts(services.slack.messages.find((m) => m.ts === reply.ts)).includes(
        'the workload changed since this diagnosis (its spec changed (metadata.generation 4 → 5)',
      ),
    5000,
  );

  // Re-run posts a fresh diagnosis in the same thread, with a new suggestion.
  const rerun = buttonOf(raceMessage(), 'oom_rerun');
  await press('oom_rerun', rerun!.value, raceMessage() as FakeMessage);
  await services.slack.waitFor(
    () =>
      threadOf(reply).some(
        (m) =>
          m.ts !== reply.ts &&
          buttonOf(m, 'oom_apply') !== undefined &&
          buttonOf(m, 'oom_apply')?.value !== apply!.value,
      ),
    15_000,
  );
});

it('the double click: the same modal submitted twice, and two people at once, make one change', async () => {
  const reply = await diagnose('api-double');
  const apply = buttonOf(reply, 'oom_apply');
  const alice = await modalAfterChecks((await press('oom_apply', apply!.value, reply, 'U0ALICE')).triggerId);
  const bob = await modalAfterChecks((await press('oom_apply', apply!.value, reply, 'U0BOB')).triggerId);
  const results = await Promise.all([submit(alice), submit(alice), submit(bob, 'U0BOB')]);
  for (const r of results) expect(r.status).toBe(200);
  await services.slack.waitFor(() => patches('api-double', false).length >= 1, 10_000);
  await services.slack.waitFor(
    () => audits().some((a) => a.workload === 'Deployment shop/api-double' && a.code === 'duplicate'),
    10_000,
  );
  // The "applied" message waits its turn in the channel (about 1 post a second, as Slack allows).
  await services.slack.waitFor(
    () => threadOf(reply).some((m) => texts(m).includes('applied the fix to')),
    10_000,
  );
  await new Promise((r) => setTimeout(r, 1500)); // time for a wrong second one to show
  expect(patches('api-double', false)).toHaveLength(1);
  expect(threadOf(reply).filter((m) => texts(m).includes('applied the fix to'))).toHaveLength(1);
  expect(
    audits().filter((a) => a.workload === 'Deployment shop/api-double' && a.event === 'applied'),
  ).toHaveLength(1);
});

it('a GitOps-managed workload is not patched: no button, the thread says so and offers the YAML', async () => {
  const current = deployment('api-gitops');
  const { kind: _k, apiVersion: _a, ...rest } = current;
  services.cluster.kube.put('Deployment', {
    ...rest,
    metadata: {
      ...rest.metadata,
      annotations: { 'argocd.argoproj.io/tracking-id': 'api-gitops:apps/Deployment:shop/api-gitops' },
    },
  });
  const reply = await diagnose('api-gitops');
  expect(buttonOf(reply, 'oom_apply')).toBeUndefined();
  expect(texts(reply)).toContain(
    'is managed by Argo CD (annotation argocd.argoproj.io/tracking-id=api-gitops:apps/Deployment:shop/api-gitops)',
  );
  expect(texts(reply)).toContain('Commit the YAML patch above to its Git repository instead');
  expect(texts(reply)).toContain('Or as YAML');
  expect(
    services.cluster.kube.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/api-gitops')),
  ).toHaveLength(0);
});

it('a dry run the API refuses (422 from an admission webhook, 403 from RBAC): the modal shows why, nothing is applied', async () => {
  const reply = await diagnose('api-dryrun');
  const apply = buttonOf(reply, 'oom_apply');
  services.cluster.kube.admissionDeny({
    kind: 'Deployment',
    namespace: 'shop',
    name: 'api-dryrun',
    code: 422,
    message: 'memory limits need a capacity review',
  });
  try {
    const modal = await modalAfterChecks((await press('oom_apply', apply!.value, reply)).triggerId);
    expect(modal.view.submit).toBeUndefined();
    const shown = JSON.stringify(modal.view.blocks);
    expect(shown).toContain('refused the change in a dry run');
    expect(shown).toContain(
      'admission webhook \\"validate.policy.example.com\\" denied the request: memory limits need a capacity review',
    );
    expect(patches('api-dryrun', true)).toHaveLength(1);
    expect(patches('api-dryrun', false)).toHaveLength(0);
    expect(
      audits().find((a) => a.workload === 'Deployment shop/api-dryrun' && a.event === 'dry-run-failed'),
    ).toMatchObject({ code: 'invalid', result: 'refused' });
  } finally {
    services.cluster.kube.allowAll();
  }

  services.cluster.kube.forbid({ verb: 'patch', resource: 'deployments', namespace: 'shop' });
  try {
    const modal = await modalAfterChecks((await press('oom_apply', apply!.value, reply)).triggerId);
    const shown = JSON.stringify(modal.view.blocks);
    expect(shown).toContain(
      'missing permission: patch deployments.apps in namespace shop (for system:serviceaccount:oomdoctor:oomdoctor)',
    );
    expect(patches('api-dryrun', false)).toHaveLength(0);
  } finally {
    services.cluster.kube.allowAll();
  }
  expect(container('api-dryrun').resources.limits.memory).toBe('512Mi');
});

it('with applying disabled, no button at all', async () => {
  const { bot: off } = await startTestBot(services, { overrides: { logger: pino({ level: 'silent' }) } });
  try {
    const { namespace, pod } = scenario('api-forbid').target;
    await postToSlackEndpoint(off.url, slashCommand(`${namespace}/${pod}`, { channel_id: 'C0TEAM' }));
    const done = () =>
      services.slack.messages.find(
        (m) => m.channel === 'C0TEAM' && texts(m).includes('oom_rerun') && texts(m).includes(pod),
      );
    await services.slack.waitFor(() => done() !== undefined, 15_000);
    expect(buttonOf(done(), 'oom_apply')).toBeUndefined();
    expect(texts(done())).not.toContain('Apply is not available');
  } finally {
    await off.stop();
  }
});

it('impersonation: the patch goes as the mapped identity, after an access review; an identity RBAC refuses is named', async () => {
  const map = {
    U0ALICE: { user: 'alice@example.com', groups: ['sre', 'oncall'] },
    S0ONCALL: { user: 'bob@example.com' },
  };
  const { bot: imp } = await startTestBot(services, {
    env: {
      APPLY_ENABLED: 'true',
      APPLY_NAMESPACES: 'shop',
      APPLY_ALLOWED_USERS: 'U0ALICE',
      APPLY_ALLOWED_GROUPS: 'S0ONCALL',
      APPLY_IMPERSONATE: 'true',
      APPLY_IMPERSONATE_MAP: JSON.stringify(map),
    },
    overrides: { logger: pino({ level: 'silent' }), applyPollMs: 40 },
  });
  const previous = bot;
  bot = imp;
  try {
    services.cluster.kube.forbid({
      verb: 'patch',
      resource: 'deployments',
      namespace: 'shop',
      user: 'bob@example.com',
    });
    const reply = await diagnose('api-forbid');
    const apply = buttonOf(reply, 'oom_apply');

    // Bob is in S0ONCALL, mapped to bob@example.com, whom the cluster's RBAC does not let patch.
    const bobModal = await modalAfterChecks(
      (await press('oom_apply', apply!.value, reply, 'U0BOB')).triggerId,
    );
    expect(bobModal.view.submit).toBeUndefined();
    expect(JSON.stringify(bobModal.view.blocks)).toContain(
      'Kubernetes RBAC does not allow bob@example.com to patch deployments.apps in namespace shop',
    );
    const review = services.cluster.kube.requests.find(
      (r) => r.path.endsWith('/selfsubjectaccessreviews') && r.impersonation?.user === 'bob@example.com',
    );
    expect(review?.method).toBe('POST');

    // Alice is mapped to alice@example.com with two groups: the dry run and the patch carry them.
    const modal = await modalAfterChecks(
      (await press('oom_apply', apply!.value, reply, 'U0ALICE')).triggerId,
    );
    expect(JSON.stringify(modal.view.blocks)).toContain('Sent as `alice@example.com`');
    await submit(modal);
    await services.slack.waitFor(() => patches('api-forbid', false).length === 1, 10_000);
    expect(patches('api-forbid', true).at(-1)?.impersonation).toEqual({
      user: 'alice@example.com',
      groups: ['sre', 'oncall'],
    });
    expect(patches('api-forbid', false)[0]?.impersonation).toEqual({
      user: 'alice@example.com',
      groups: ['sre', 'oncall'],
    });
    await services.slack.waitFor(
      () => threadOf(reply).some((m) => texts(m).includes('(as `alice@example.com`)')),
      5000,
    );
  } finally {
    services.cluster.kube.allowAll();
    bot = previous;
    await imp.stop();
  }
});

it('applies to a StatefulSet and a CronJob too: the job template of a CronJob, whose next run takes the values', async () => {
  // StatefulSet: patched through apps/v1 statefulsets, its rollout read from its own status fields.
  const sts = await diagnose('store');
  await submit(
    await modalAfterChecks((await press('oom_apply', buttonOf(sts, 'oom_apply')!.value, sts)).triggerId),
  );
  await services.slack.waitFor(() => patches('store', false, 'statefulsets').length === 1, 10_000);
  const generation = services.cluster.kube.get('StatefulSet', 'shop', 'store')?.metadata.generation as number;
  const stsMessage = () => threadOf(sts).find((m) => texts(m).includes('applied the fix to StatefulSet'));
  await services.slack.waitFor(
    () => texts(stsMessage()).includes('waiting for the StatefulSet controller'),
    5000,
  );
  services.cluster.kube.setStatus('StatefulSet', 'shop', 'store', {
    observedGeneration: generation,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    currentRevision: 'store-2',
    updateRevision: 'store-2',
  });
  await services.slack.waitFor(
    () => texts(stsMessage()).includes('rolled out: 3 of 3 pods updated and ready'),
    5000,
  );

  // CronJob: the patch lands in spec.jobTemplate, and the thread says the next run takes it.
  const cron = await diagnose('report');
  const modal = await modalAfterChecks(
    (await press('oom_apply', buttonOf(cron, 'oom_apply')!.value, cron)).triggerId,
  );
  expect(JSON.stringify(modal.view.blocks)).toContain('The next run of the CronJob takes the new values');
  await submit(modal);
  await services.slack.waitFor(() => patches('report', false, 'cronjobs').length === 1, 10_000);
  const cronJob = services.cluster.kube.get('CronJob', 'shop', 'report') as Record<string, any>;
  expect(cronJob.spec.jobTemplate.spec.template.spec.containers[0].resources.limits.memory).toBe('768Mi');
  await services.slack.waitFor(
    () =>
      threadOf(cron).some((m) =>
        texts(m).includes('the next run (schedule */30 * * * *) takes the new values'),
      ),
    5000,
  );
});

it('a heap flag is patched where it lives: an env variable (and Undo removes what it added), or the args', async () => {
  const env = await diagnose('jvm-env');
  const modal = await modalAfterChecks(
    (await press('oom_apply', buttonOf(env, 'oom_apply')!.value, env)).triggerId,
  );
  expect(JSON.stringify(modal.view.blocks)).toContain('`env _JAVA_OPTIONS`: `(not set)` → `-Xmx1408m`');
  await submit(modal);
  await services.slack.waitFor(() => patches('jvm-env', false).length === 1, 10_000);
  const applied = container('jvm-env').env as Array<{ name: string; value: string }>;
  expect(applied.find((e) => e.name === '_JAVA_OPTIONS')?.value).toBe('-Xmx1408m');
  // The variable that carried the flag, with its other (secret) options, is untouched, and not shown.
  expect(applied.find((e) => e.name === 'JAVA_OPTS')?.value).toContain('trustStorePassword=changeit-s3cret');
  expect(JSON.stringify(modal.view.blocks)).not.toContain('s3cret');
  const appliedMessage = () => threadOf(env).find((m) => texts(m).includes('applied the fix to'));
  await services.slack.waitFor(() => buttonOf(appliedMessage(), 'oom_undo') !== undefined, 5000);
  await submit(
    await modalAfterChecks(
      (
        await press(
          'oom_undo',
          buttonOf(appliedMessage(), 'oom_undo')!.value,
          appliedMessage() as FakeMessage,
        )
      ).triggerId,
    ),
  );
  await services.slack.waitFor(() => patches('jvm-env', false).length === 2, 10_000);
  await services.slack.waitFor(
    () => !(container('jvm-env').env as Array<{ name: string }>).some((e) => e.name === '_JAVA_OPTIONS'),
    5000,
  );

  const args = await diagnose('jvm-args');
  const argsModal = await modalAfterChecks(
    (await press('oom_apply', buttonOf(args, 'oom_apply')!.value, args)).triggerId,
  );
  expect(JSON.stringify(argsModal.view.blocks)).toContain('`args[2]`: `-Xmx3072m` → `-Xmx1408m`');
  await submit(argsModal);
  await services.slack.waitFor(() => patches('jvm-args', false).length === 1, 10_000);
  expect(container('jvm-args').args).toEqual([
    '-jar',
    '/app/app.jar',
    '-Xmx1408m',
    '--spring.profiles.active=prod',
  ]);
});

it('makes no request to the Kubernetes API that the shipped RBAC does not grant', () => {
  const granted = shippedGrants([SHIPPED_RBAC.read, SHIPPED_RBAC.apply, SHIPPED_RBAC.impersonate]);
  const needed = new Set(services.cluster.kube.requests.flatMap(neededGrants));
  expect([...needed].filter((n) => !granted.has(n))).toEqual([]);
  // And the tests above did exercise the writes.
  for (const write of [
    'patch deployments.apps',
    'patch statefulsets.apps',
    'patch cronjobs.batch',
    'create selfsubjectaccessreviews.authorization.k8s.io',
    'impersonate users',
    'impersonate groups',
  ])
    expect(needed).toContain(write);
});
