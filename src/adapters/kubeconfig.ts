// Loads a kubeconfig the way kubectl reads it, and says in one line what is wrong when it cannot be
// used. client-node is stricter or looser than kubectl in a few places, bridged here:
// - a plain http:// server (what `kubectl proxy` and many tunnels give) is refused by client-node
//   unless insecure-skip-tls-verify is set; with no TLS there is nothing to verify, so it is set;
// - a token file (users[].user.token-file, and the in-cluster service account's token) is read
//   once by client-node, untrimmed; kubectl trims it and the kubelet rotates it, so it is re-read
//   whenever it changes;
// - files the kubeconfig names (CA, client certificate and key, token file) and exec plugins are
//   checked at load, so a missing one is named at start-up rather than in every job;
// - an exec plugin that fails is one line naming the plugin and its first line of stderr.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { KubeConfig, type Cluster, type User } from './client-node';
import { parse as parseYaml } from 'yaml';
import { OomdoctorError } from '../core/errors';

export interface KubeConfigOptions {
  kubeconfig?: string;
  context?: string;
  /** Where KUBECONFIG, HOME, PATH and KUBERNETES_SERVICE_* are read (tests pass their own). */
  env?: NodeJS.ProcessEnv;
  /** Prefix of /var/run/secrets/kubernetes.io/serviceaccount, for tests of the in-cluster form. */
  inClusterRoot?: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A kubeconfig that cannot be used as it is: permanent, and the message names the file and context. */
export class KubeconfigError extends OomdoctorError {
  constructor(message: string, fix: string, options: { cause?: unknown } = {}) {
    super('kubeconfig', message, { fix, ...options });
    this.name = 'KubeconfigError';
  }
}

/**
 * The KubeConfig client-node reads, plus what kubectl does that client-node does not: token files
 * re-read when they change, and credential failures (exec plugins) turned into one clear line.
 */
export class CheckedKubeConfig extends KubeConfig {
  /** "kubeconfig /path, context "prod"", or "in-cluster service account": for messages. */
  source = 'kubeconfig';
  /** Token files by user name. */
  readonly tokenFiles = new Map<string, string>();
  private readonly tokens = new Map<string, { mtimeMs: number; size: number; token: string }>();

  override async applySecurityAuthentication(
    context: Parameters<KubeConfig['applySecurityAuthentication']>[0],
  ) {
    await this.guard(() => super.applySecurityAuthentication(context));
    const token = this.currentFileToken();
    if (token !== null) context.setHeaderParam('Authorization', `Bearer ${token}`);
  }

  override async applyToHTTPSOptions(opts: RequestOptions) {
    await this.guard(() => super.applyToHTTPSOptions(opts));
    const token = this.currentFileToken();
    if (token !== null) opts.headers = { ...opts.headers, Authorization: `Bearer ${token}` };
  }

  /** The current user's token file, re-read when its size or mtime changes (a rotated token). */
  private currentFileToken(): string | null {
    const user = this.getCurrentUser();
    const file = user ? this.tokenFiles.get(user.name) : undefined;
    if (!user || !file) return null;
    try {
      const { mtimeMs, size } = statSync(file);
      const cached = this.tokens.get(file);
      if (cached && cached.mtimeMs === mtimeMs && cached.size === size) return cached.token;
      const token = readFileSync(file, 'utf8').trim();
      this.tokens.set(file, { mtimeMs, size, token });
      return token;
    } catch (error) {
      throw new KubeconfigError(
        `${this.source}: cannot read the token file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        'check that the file exists and is readable by this process',
        { cause: error },
      );
    }
  }

  private async guard(apply: () => Promise<void>): Promise<void> {
    try {
      await apply();
    } catch (error) {
      throw this.credentialError(error);
    }
  }

  private credentialError(error: unknown): Error {
    if (error instanceof OomdoctorError) return error;
    const user = this.getCurrentUser();
    const detail = firstLine(error instanceof Error ? error.message : String(error));
    const command = execCommand(user);
    if (command) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      return new KubeconfigError(
        missing
          ? `${this.source}: the credential plugin "${command}" was not found`
          : `${this.source}: the credential plugin "${command}" failed: ${detail || 'no message on stderr'}`,
        missing
          ? `install it or put it on PATH (users[].user.exec.command in the kubeconfig)`
          : `run "${command}" yourself to see why (for a cloud plugin: log in again)`,
        { cause: error },
      );
    }
    return new KubeconfigError(
      `${this.source}: cannot use the credentials of user "${user?.name ?? '?'}": ${detail}`,
      'check the user entry of the kubeconfig',
      { cause: error },
    );
  }
}

function firstLine(text: string): string {
  const line = text.trim().split('\n', 1)[0]?.trim() ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

function execCommand(user: User | null | undefined): string | null {
  // client-node types exec and authProvider as any: read them as the unknown they are.
  const provider = user?.authProvider as { config?: { exec?: unknown } } | undefined;
  const exec = (user?.exec ?? provider?.config?.exec) as { command?: unknown } | undefined;
  return typeof exec?.command === 'string' ? exec.command : null;
}

/**
 * The kubeconfig named by `kubeconfig`, else KUBECONFIG (a list, merged as kubectl does), else
 * ~/.kube/config, else the in-cluster service account. Throws a KubeconfigError naming the file,
 * the context and the fix when it cannot be used.
 */
export function loadKubeConfig(options: KubeConfigOptions = {}): CheckedKubeConfig {
  const env = options.env ?? process.env;
  const kc = new CheckedKubeConfig();
  const files = kubeconfigFiles(options, env);
  let where: string;
  if (files.length > 0) {
    where = files.length === 1 ? `kubeconfig ${files[0]}` : `kubeconfig ${files.join(delimiter)}`;
    for (const file of files) loadFile(kc, file);
  } else {
    const root = options.inClusterRoot ?? '';
    const tokenFile = `${root}${SERVICE_ACCOUNT_DIR}/token`;
    if (!env.KUBERNETES_SERVICE_HOST || !existsSync(tokenFile)) {
      throw new KubeconfigError(
        'no kubeconfig found: KUBECONFIG is not set, ~/.kube/config does not exist, and this is not a pod with a service account',
        'set KUBECONFIG or pass --kubeconfig, or run inside the cluster with the service account of deploy/kubernetes/rbac.yaml',
      );
    }
    withEnv(env, () => kc.loadFromCluster(root));
    where = 'in-cluster service account';
    kc.tokenFiles.set(kc.getCurrentUser()?.name ?? '', tokenFile);
  }

  const contextName = options.context ?? kc.getCurrentContext();
  const contexts = kc.getContexts().map((c) => c.name);
  const known = contexts.length > 0 ? contexts.join(', ') : 'none';
  kc.source = files.length > 0 ? `${where}, context "${contextName ?? ''}"` : where;
  if (!contextName) {
    throw new KubeconfigError(
      `${where} has no current-context`,
      `pass --context or set KUBE_CONTEXT to one of: ${known}`,
    );
  }
  if (!contexts.includes(contextName)) {
    throw new KubeconfigError(
      `${where}: no context "${contextName}" (it has: ${known})`,
      options.context
        ? 'pass one of those with --context or KUBE_CONTEXT'
        : `its current-context names a context it does not define: pass --context or KUBE_CONTEXT`,
    );
  }
  kc.setCurrentContext(contextName);
  const context = kc.getContextObject(contextName);
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new KubeconfigError(
      `${kc.source}: the context names cluster "${context?.cluster ?? ''}", which the kubeconfig does not define`,
      'fix the context entry or add the cluster to the kubeconfig',
    );
  }
  checkServer(kc, cluster);
  checkFile(kc, 'certificate-authority', cluster.caFile);
  const user = kc.getCurrentUser();
  if (user) {
    checkFile(kc, 'client-certificate', user.certFile);
    checkFile(kc, 'client-key', user.keyFile);
    if ((user.certFile || user.certData) && !(user.keyFile || user.keyData)) {
      throw new KubeconfigError(
        `${kc.source}: user "${user.name}" has a client certificate but no client key`,
        'add client-key or client-key-data to the user entry',
      );
    }
    const tokenFile = kc.tokenFiles.get(user.name);
    if (tokenFile) checkFile(kc, 'token-file', tokenFile);
    checkExecPlugin(kc, user, env);
  }
  bridgePlainHttp(kc);
  return kc;
}

function kubeconfigFiles(options: KubeConfigOptions, env: NodeJS.ProcessEnv): string[] {
  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig)) {
      throw new KubeconfigError(
        `the kubeconfig ${options.kubeconfig} does not exist`,
        'check the path given with --kubeconfig or KUBECONFIG',
      );
    }
    return [options.kubeconfig];
  }
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p.trim() !== '');
  if (listed.length > 0) {
    const present = listed.filter((p) => existsSync(p));
    if (present.length === 0) {
      throw new KubeconfigError(
        `KUBECONFIG names ${listed.join(delimiter)}, and none of it exists`,
        'check the path in KUBECONFIG',
      );
    }
    return present;
  }
  const home = env.HOME ?? homedir();
  const fallback = join(home, '.kube', 'config');
  return existsSync(fallback) ? [fallback] : [];
}

function loadFile(kc: CheckedKubeConfig, file: string): void {
  let text: string;
  let raw: unknown;
  try {
    text = readFileSync(file, 'utf8');
    raw = parseYaml(text);
  } catch (error) {
    // The parser's first line says where; its excerpt of the file follows on the next lines.
    throw new KubeconfigError(
      `cannot read the kubeconfig ${file}: ${firstLine((error as Error).message)}`,
      'fix the file (kubectl config view shows what kubectl makes of it)',
      { cause: error },
    );
  }
  // Token files are re-read on change; client-node reads them once, so find them here.
  const root = dirname(file);
  const tokenFiles = new Map<string, string>();
  const users = (raw as { users?: Array<{ name?: unknown; user?: Record<string, unknown> }> } | null)?.users;
  for (const entry of Array.isArray(users) ? users : []) {
    const tokenFile = entry?.user?.['token-file'];
    if (typeof entry?.name === 'string' && typeof tokenFile === 'string' && !entry.user?.token) {
      const path = isAbsolute(tokenFile) ? tokenFile : join(root, tokenFile);
      if (!existsSync(path)) {
        throw new KubeconfigError(
          `kubeconfig ${file}: user "${entry.name}" names the token file ${path}, which does not exist`,
          'fix users[].user.token-file in the kubeconfig',
        );
      }
      tokenFiles.set(entry.name, path);
    }
  }
  const part = new KubeConfig();
  try {
    part.loadFromString(text);
    part.makePathsAbsolute(root);
  } catch (error) {
    throw new KubeconfigError(
      `cannot read the kubeconfig ${file}: ${firstLine((error as Error).message)}`,
      'fix the file (kubectl config view shows what kubectl makes of it)',
      { cause: error },
    );
  }
  // The first file that sets a name (or the current context) wins, as with kubectl's merge.
  for (const [name, path] of tokenFiles) if (!kc.tokenFiles.has(name)) kc.tokenFiles.set(name, path);
  const absent = <T extends { name: string }>(mine: T[] | undefined, theirs: T[]): T[] =>
    theirs.filter((entry) => !(mine ?? []).some((m) => m.name === entry.name));
  kc.clusters = [...(kc.clusters ?? []), ...absent(kc.clusters, part.clusters)];
  kc.users = [...(kc.users ?? []), ...absent(kc.users, part.users)];
  kc.contexts = [...(kc.contexts ?? []), ...absent(kc.contexts, part.contexts)];
  if (!kc.currentContext && part.currentContext) kc.currentContext = part.currentContext;
}

function checkServer(kc: CheckedKubeConfig, cluster: Cluster): void {
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new KubeconfigError(
      `${kc.source}: cluster "${cluster.name}" has the server "${String(cluster.server).slice(0, 100)}", which is not a URL`,
      'set clusters[].cluster.server to https://host:port',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KubeconfigError(
      `${kc.source}: cluster "${cluster.name}" has the server ${cluster.server}, neither http nor https`,
      'set clusters[].cluster.server to https://host:port',
    );
  }
  if (cluster.proxyUrl !== undefined && !/^(https?|socks5?):\/\//.test(cluster.proxyUrl)) {
    throw new KubeconfigError(
      `${kc.source}: cluster "${cluster.name}" has the proxy-url ${cluster.proxyUrl}, which is not http, https or socks5`,
      'set clusters[].cluster.proxy-url to http://host:port',
    );
  }
}

function checkFile(kc: CheckedKubeConfig, field: string, file: string | undefined): void {
  if (!file) return;
  try {
    readFileSync(file);
  } catch (error) {
    throw new KubeconfigError(
      `${kc.source}: the ${field} file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      `fix ${field} in the kubeconfig, or make the file readable by this process`,
      { cause: error },
    );
  }
}

/** An exec plugin that is not installed is said at load, not in every job. */
function checkExecPlugin(kc: CheckedKubeConfig, user: User, env: NodeJS.ProcessEnv): void {
  const command = execCommand(user);
  if (!command) return;
  const found = command.includes('/')
    ? existsSync(command)
    : (env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
  if (!found) {
    throw new KubeconfigError(
      `${kc.source}: the credential plugin "${command}" (users[].user.exec.command) is not installed or not on PATH`,
      'install it in this image or environment (for example aws, gke-gcloud-auth-plugin or kubelogin), or use a token or certificate user',
    );
  }
}

/**
 * kubectl talks plain HTTP to an http:// server; client-node refuses unless TLS verification is
 * nominally off. With no TLS there is nothing to verify, so turning it off changes nothing else.
 */
function bridgePlainHttp(kc: CheckedKubeConfig): void {
  kc.clusters = kc.clusters.map((cluster) =>
    cluster.server.startsWith('http://') && !cluster.skipTLSVerify
      ? { ...cluster, skipTLSVerify: true }
      : cluster,
  );
}

/** loadFromCluster reads process.env; the env passed in wins for the duration of the call. */
function withEnv(env: NodeJS.ProcessEnv, run: () => void): void {
  if (env === process.env) return run();
  const keys = ['KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT'] as const;
  const saved = keys.map((k) => process.env[k]);
  try {
    for (const k of keys) {
      if (env[k] === undefined) delete process.env[k];
      else process.env[k] = env[k];
    }
    run();
  } finally {
    keys.forEach((k, i) => {
      const value = saved[i];
      if (value === undefined) delete process.env[k];
      else process.env[k] = value;
    });
  }
}
