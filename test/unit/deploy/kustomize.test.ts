// The kustomize base and each component, rendered by kubectl's own kustomize as `kubectl apply -k`
// would, every object validated against the Kubernetes schemas, and the names that must agree
// checked against each other: the receiver's URL, the Service, the probes, the RBAC subjects, the
// security context, and the command and settings that start the bot as the README says.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { readBotConfig, type Role } from '../../../src/config/bot';

const repo = join(__dirname, '..', '..', '..');
const base = join(repo, 'deploy', 'kubernetes');
const COMPONENTS = [
  'split-roles',
  'external-redis',
  'monitoring',
  'network-policy',
  'apply-fix',
  'impersonation',
  'per-namespace-rbac',
];

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: unknown[];
  envFrom?: Array<{ secretRef?: { name: string }; configMapRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
}
interface PodSpec {
  serviceAccountName?: string;
  securityContext?: Record<string, unknown> & { seccompProfile?: { type: string } };
  terminationGracePeriodSeconds?: number;
  containers: Container[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    ports?: Array<{ name: string; port: number; targetPort: string | number }>;
    endpoints?: Array<{ port: string; path: string }>;
    groups?: unknown[];
  };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
  data?: Record<string, string>;
}

/** kubectl with kustomize v5 (Debian's kubernetes-client 1.20 has a kustomize without components). */
function findKubectl(): string {
  const candidates = [
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'kubectl')),
    '/usr/local/bin/kubectl',
    '/usr/bin/kubectl',
  ];
  const found = candidates.find((path) => existsSync(path));
  if (!found)
    throw new Error(
      'kubectl not found on PATH: install kubectl 1.27 or later (it carries kustomize v5) to check the manifests',
    );
  const version = JSON.parse(
    execFileSync(found, ['version', '--client', '-o', 'json'], { encoding: 'utf8' }),
  ) as {
    kustomizeVersion?: string;
  };
  if (!/^v5\./.test(version.kustomizeVersion ?? ''))
    throw new Error(
      `${found} carries kustomize ${version.kustomizeVersion ?? 'none'}; these manifests need kustomize v5 (kubectl 1.27 or later)`,
    );
  return found;
}

const kubectl = findKubectl();
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'oomdoctor-kustomize-'));
  // kustomize refuses absolute roots: overlays refer to the base through a link beside them.
  symlinkSync(join(repo, 'deploy'), join(tmp, 'deploy'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function render(dir: string): K8sObject[] {
  const text = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(text).map((doc) => doc.toJSON() as K8sObject);
}

const rendered = new Map<string, K8sObject[]>();

/** The base with these components, through an overlay as a user would write it (rendered once). */
function renderWith(components: string[]): K8sObject[] {
  const key = components.join(',');
  const cached = rendered.get(key);
  if (cached) return cached;
  let objects: K8sObject[];
  if (components.length === 0) objects = render(base);
  else {
    const dir = join(tmp, 'overlays', `o${rendered.size}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources: [../../deploy/kubernetes]',
        `components: [${components.map((c) => `../../deploy/kubernetes/components/${c}`).join(', ')}]`,
        '',
      ].join('\n'),
    );
    objects = render(dir);
  }
  rendered.set(key, objects);
  return objects;
}

function validate(objects: K8sObject[]): Array<{ kind: string; name: string; error: string | null }> {
  const out = execFileSync(process.execPath, [join(repo, 'test', 'support', 'validate-k8s.mjs')], {
    input: JSON.stringify(objects),
    encoding: 'utf8',
    cwd: repo,
  });
  return JSON.parse(out) as Array<{ kind: string; name: string; error: string | null }>;
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return found;
}

const workloads = (objects: K8sObject[]) =>
  objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The README's "Install in a cluster" section. */
function installSection(): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const start = readme.indexOf('## Install in a cluster');
  expect(start).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** The settings the README's `kubectl create secret` line puts in the Secret, and its name and namespace. */
function readmeSecret(): { namespace: string; name: string; env: Record<string, string> } {
  const line = installSection()
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.includes('create secret generic'));
  const match = /^kubectl -n (\S+) create secret generic (\S+) (.*)$/.exec(line ?? '');
  if (!match?.[1] || !match[2] || !match[3])
    throw new Error(`no kubectl create secret line in the README: ${line}`);
  const env: Record<string, string> = {};
  for (const [, key, value] of match[3].matchAll(/--from-literal=([A-Z_]+)=(\S+)/g))
    env[key ?? ''] = value ?? '';
  return { namespace: match[1], name: match[2], env };
}

describe('kubectl kustomize deploy/kubernetes, alone and with each component', () => {
  const variants: Array<[string, string[]]> = [
    ['the base', []],
    ...COMPONENTS.map((c): [string, string[]] => [c, [c]]),
    [
      'split-roles with external-redis, monitoring and network-policy',
      ['split-roles', 'external-redis', 'monitoring', 'network-policy'],
    ],
  ];

  it.each(variants)('%s: every object is valid against its schema', (_label, components) => {
    const objects = renderWith(components);
    expect(objects.length).toBeGreaterThan(5);
    expect(validate(objects).filter((r) => r.error !== null)).toEqual([]);
  });

  it.each(variants)(
    '%s: every pod runs as a numeric non-root UID, read-only, unprivileged, sized',
    (_label, components) => {
      const objects = renderWith(components);
      for (const workload of workloads(objects)) {
        const pod = workload.spec?.template?.spec;
        if (!pod) throw new Error(`${workload.metadata.name} has no pod template`);
        expect(pod.securityContext?.runAsNonRoot).toBe(true);
        expect(pod.securityContext?.runAsUser).toEqual(expect.any(Number));
        expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
        expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
        for (const container of pod.containers) {
          expect(container.securityContext).toMatchObject({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          for (const kind of ['requests', 'limits'] as const) {
            expect(container.resources?.[kind]?.memory).toMatch(/^\d+Mi$/);
            expect(container.resources?.[kind]?.cpu).toBeTruthy();
          }
        }
      }
    },
  );

  it.each(variants)('%s: ServiceAccounts, RBAC subjects, selectors and PDBs agree', (_label, components) => {
    const objects = renderWith(components);
    const accounts = new Set(
      objects
        .filter((o) => o.kind === 'ServiceAccount')
        .map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
    );
    for (const workload of workloads(objects)) {
      const pod = workload.spec?.template?.spec;
      if (pod?.serviceAccountName)
        expect(accounts).toContain(`${workload.metadata.namespace}/${pod.serviceAccountName}`);
      expect(
        matches(workload.spec?.selector?.matchLabels ?? {}, workload.spec?.template?.metadata.labels ?? {}),
      ).toBe(true);
    }
    for (const binding of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding'))
      for (const subject of binding.subjects ?? [])
        if (subject.kind === 'ServiceAccount')
          expect(accounts).toContain(`${subject.namespace}/${subject.name}`);
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
      const selected = workloads(objects).filter((w) =>
        matches(pdb.spec?.selector?.matchLabels ?? {}, w.spec?.template?.metadata.labels ?? {}),
      );
      expect(selected).toHaveLength(1);
    }
    // Every Service selects pods that have the port it targets.
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      const selector = (service.spec?.selector ?? {}) as Record<string, string>;
      const pods = workloads(objects).filter((w) =>
        matches(selector, w.spec?.template?.metadata.labels ?? {}),
      );
      expect(pods.length).toBeGreaterThan(0);
      for (const port of service.spec?.ports ?? [])
        for (const w of pods)
          expect(
            w.spec?.template?.spec.containers.flatMap((c) => c.ports ?? []).map((p) => p.name),
          ).toContain(port.targetPort);
    }
  });

  it.each(variants)(
    '%s: the bot starts as the README says, with settings it accepts',
    (_label, components) => {
      const objects = renderWith(components);
      const secret = readmeSecret();
      const start = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
        scripts: { start: string };
      };
      const bots = workloads(objects).filter(
        (w) => w.metadata.labels?.['app.kubernetes.io/name'] === 'oomdoctor',
      );
      expect(bots.length).toBeGreaterThan(0);
      const routes = readFileSync(join(repo, 'src', 'bot', 'app.ts'), 'utf8');
      for (const bot of bots) {
        expect(bot.metadata.namespace).toBe(secret.namespace);
        const container = bot.spec?.template?.spec.containers[0];
        if (!container) throw new Error(`${bot.metadata.name} has no container`);
        // npm start's node flags and entry point; serve with a role.
        expect(`${container.command?.join(' ')} ${container.args?.[0]}`).toBe(
          start.scripts.start.replace(/^node /, 'node '),
        );
        const role = container.args?.[2] as Role;
        expect(container.args?.slice(0, 2)).toEqual(['serve', '--role']);
        expect(['all', 'web', 'worker']).toContain(role);
        // The probes ask paths the bot serves.
        for (const probe of [container.livenessProbe, container.readinessProbe]) {
          expect(routes).toContain(`path: '${probe?.httpGet?.path}'`);
          expect(container.ports?.map((p) => p.name)).toContain(probe?.httpGet?.port);
        }
        expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
        expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
        // Its settings: the install's ConfigMap, then the README's Secret (the later source wins),
        // and nothing else; the bot accepts them.
        const settings = find(objects, 'ConfigMap', 'oomdoctor-settings');
        expect(container.envFrom).toEqual([
          { configMapRef: { name: settings.metadata.name } },
          { secretRef: { name: secret.name } },
        ]);
        expect(container.env).toBeUndefined();
        const redis = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'oomdoctor-redis');
        const env: Record<string, string> = {
          ...settings.data,
          // Without the shipped Redis, the README has you add your own REDIS_URL to the Secret.
          ...(redis ? {} : { REDIS_URL: 'redis://your-redis:6379' }),
          ...secret.env,
        };
        expect(() => readBotConfig(env, role)).not.toThrow();
        expect(Number(env.PORT)).toBe(container.ports?.find((p) => p.name === 'http')?.containerPort);
        // REDIS_URL names the shipped Redis Service where there is one, and is left to the Secret otherwise.
        if (redis) expect(env.REDIS_URL).toBe(`redis://oomdoctor-redis:${redis.spec?.ports?.[0]?.port}`);
        else expect(settings.data?.REDIS_URL).toBeUndefined();
      }
    },
  );
});

it("points the Alertmanager receiver at the shipped Service's port and the webhook's path", () => {
  const objects = render(base);
  const receiver = parse(readFileSync(join(repo, 'deploy', 'alertmanager-receiver.yaml'), 'utf8')) as {
    receivers: Array<{ name: string; webhook_configs?: Array<{ url: string }> }>;
  };
  const url = new URL(
    receiver.receivers.find((r) => r.name === 'oomdoctor')?.webhook_configs?.[0]?.url ?? '',
  );
  const [service, namespace, svc] = url.hostname.split('.');
  expect(svc).toBe('svc');
  const shipped = find(objects, 'Service', service ?? '');
  expect(shipped.metadata.namespace).toBe(namespace);
  expect(shipped.spec?.ports?.map((p) => p.port)).toContain(Number(url.port));
  expect(url.pathname).toBe('/alertmanager');
  expect(readFileSync(join(repo, 'src', 'bot', 'app.ts'), 'utf8')).toContain(`path: '${url.pathname}'`);
  expect(installSection()).toContain(url.href);
});

it('the README names the namespace and Secret the manifests use, and every command it gives renders', () => {
  const section = installSection();
  const secret = readmeSecret();
  expect(section).toContain(`kubectl create namespace ${secret.namespace}`);
  expect(find(render(base), 'Namespace', secret.namespace)).toBeTruthy();
  for (const [, dir] of section.matchAll(/kubectl apply -k (deploy\/\S+)/g))
    expect(render(join(repo, dir ?? '')).length).toBeGreaterThan(0);
  // The overlay example, written where the README says (next to deploy/), renders too.
  const example = /```yaml\n(apiVersion: kustomize[\s\S]*?)```/.exec(section)?.[1];
  if (!example) throw new Error('no overlay example in the README');
  const overlay = join(tmp, 'overlays', 'prod');
  mkdirSync(overlay, { recursive: true });
  writeFileSync(join(overlay, 'kustomization.yaml'), example);
  const objects = render(overlay);
  expect(objects.some((o) => o.metadata.name === 'oomdoctor-worker')).toBe(true);
  expect(objects.some((o) => o.kind === 'ServiceMonitor')).toBe(true);
  // Every component the README lists exists, and every shipped one is listed.
  const listed = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
  expect(listed.sort()).toEqual([...COMPONENTS].sort());
});

it('ships the monitoring component with the same rules as the rule files, selected by release', () => {
  const objects = renderWith(['monitoring']);
  const rules = objects.filter((o) => o.kind === 'PrometheusRule');
  const groupsOf = (file: string) =>
    (parse(readFileSync(join(repo, 'deploy', file), 'utf8')) as { groups: unknown[] }).groups;
  expect(rules.map((r) => r.spec?.groups)).toEqual([
    groupsOf('prometheus-rules.yaml'),
    groupsOf('prometheus-rules-oomdoctor.yaml'),
  ]);
  const monitor = find(objects, 'ServiceMonitor', 'oomdoctor');
  for (const o of [...rules, monitor]) expect(o.metadata.labels?.release).toBe('kube-prometheus-stack');
  const service = find(objects, 'Service', 'oomdoctor');
  expect(matches(monitor.spec?.selector?.matchLabels ?? {}, service.metadata.labels ?? {})).toBe(true);
  expect(service.spec?.ports?.map((p) => p.name)).toContain(monitor.spec?.endpoints?.[0]?.port);
  expect(monitor.spec?.endpoints?.[0]?.path).toBe('/metrics');
});

it("runs as the Dockerfile's numeric USER", () => {
  const user = /^USER (\d+):(\d+)$/m.exec(readFileSync(join(repo, 'Dockerfile'), 'utf8'));
  if (!user) throw new Error('the Dockerfile has no numeric USER uid:gid');
  const bot = find(renderWith([]), 'Deployment', 'oomdoctor');
  expect(bot.spec?.template?.spec.securityContext).toMatchObject({
    runAsUser: Number(user[1]),
    runAsGroup: Number(user[2]),
  });
});
