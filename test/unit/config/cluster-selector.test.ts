// The cluster selector for a Prometheus holding several clusters: PROMETHEUS_CLUSTER_LABEL with
// CLUSTER_NAME for the bot, --cluster-label with --cluster for the CLI (issue 11, section 4).
import type { ClusterSelector } from '../../../src/adapters/prometheus';
import { ConfigError, readBotConfig } from '../../../src/config/bot';
import { EXIT, HELP, runCli } from '../../../src/cli';
import { readClusterSelector } from '../../../src/config/cluster-selector';
import { ParseError } from '../../../src/core/errors';
import { DEPLOYED_BOT_ENV } from './bot-env';

const BOT: NodeJS.ProcessEnv = DEPLOYED_BOT_ENV;

const label = (value: string | undefined) => ({ value, from: 'PROMETHEUS_CLUSTER_LABEL' });
const name = (value: string | undefined) => ({ value, from: 'CLUSTER_NAME' });

describe('readClusterSelector', () => {
  it('a label and a name select', () => {
    expect(readClusterSelector(label('k8s_cluster'), name(' prod-eu '))).toEqual({
      label: 'k8s_cluster',
      name: 'prod-eu',
    });
  });

  it('no label: no selector, even with a name (CLUSTER_NAME alone only filters alerts)', () => {
    expect(readClusterSelector(label(undefined), name('prod-eu'))).toBeNull();
    expect(readClusterSelector(label(''), name(undefined))).toBeNull();
  });

  it('a label without a name is refused, saying which setting to add', () => {
    expect(() => readClusterSelector(label('cluster'), name(undefined))).toThrow(
      'PROMETHEUS_CLUSTER_LABEL=cluster needs CLUSTER_NAME: the value of the cluster label on this cluster',
    );
  });

  it.each(['cluster-name', '9cluster', '__name__', 'cluster"} or vector(1)'])(
    'refuses %j, which is not a label name, with a ParseError',
    (bad) => {
      expect(() => readClusterSelector(label(bad), name('a'))).toThrow(ParseError);
      expect(() => readClusterSelector(label(bad), name('a'))).toThrow(/not a Prometheus label name/);
    },
  );
});

describe('the bot reads PROMETHEUS_CLUSTER_LABEL with CLUSTER_NAME', () => {
  it('both set: the selector is in the configuration', () => {
    const config = readBotConfig(
      { ...BOT, PROMETHEUS_CLUSTER_LABEL: 'cluster', CLUSTER_NAME: 'prod-eu' },
      'all',
    );
    expect(config.prometheusCluster).toEqual({ label: 'cluster', name: 'prod-eu' });
    expect(config.clusterName).toBe('prod-eu');
  });

  it('the label alone stops start-up with one line saying what to add', () => {
    let problems: string[] = [];
    try {
      readBotConfig({ ...BOT, PROMETHEUS_CLUSTER_LABEL: 'cluster' }, 'all');
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(problems).toEqual([
      "PROMETHEUS_CLUSTER_LABEL=cluster needs CLUSTER_NAME: the value of the cluster label on this cluster's series",
    ]);
  });

  it('neither: no selector', () => {
    expect(readBotConfig(BOT, 'all').prometheusCluster ?? null).toBeNull();
  });
});

describe('oomdoctor diagnose --cluster-label --cluster', () => {
  async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
    const seen: Array<ClusterSelector | undefined> = [];
    let stderr = '';
    const code = await runCli(
      args,
      env,
      { stdout: () => undefined, stderr: (t) => (stderr += t) },
      {
        makeDeps: (options) => {
          seen.push(options.cluster);
          // Stop right after the options are read: the adapters are not what is tested here.
          throw new ParseError('test', 'stop here');
        },
      },
    );
    return { code, seen, stderr };
  }

  it('passes the selector to the adapters', async () => {
    const r = await run(['diagnose', 'shop/api-0', '--cluster-label', 'cluster', '--cluster', 'prod-eu']);
    expect(r.seen).toEqual([{ label: 'cluster', name: 'prod-eu' }]);
  });

  it('falls back to PROMETHEUS_CLUSTER_LABEL and CLUSTER_NAME', async () => {
    const r = await run(['diagnose', 'shop/api-0'], {
      PROMETHEUS_CLUSTER_LABEL: 'k8s_cluster',
      CLUSTER_NAME: 'b',
    });
    expect(r.seen).toEqual([{ label: 'k8s_cluster', name: 'b' }]);
    const flags = await run(['diagnose', 'shop/api-0', '--cluster', 'c'], {
      PROMETHEUS_CLUSTER_LABEL: 'k8s_cluster',
    });
    expect(flags.seen).toEqual([{ label: 'k8s_cluster', name: 'c' }]);
  });

  it('no selector by default', async () => {
    const r = await run(['diagnose', 'shop/api-0'], { CLUSTER_NAME: 'prod-eu' });
    expect(r.seen).toEqual([undefined]);
  });

  it('--cluster without a label, or a label without a cluster: exit 2 with one line saying what to add', async () => {
    const noLabel = await run(['diagnose', 'shop/api-0', '--cluster', 'prod-eu']);
    expect(noLabel.code).toBe(EXIT.usage);
    expect(noLabel.seen).toEqual([]);
    expect(noLabel.stderr).toBe(
      'oomdoctor: --cluster needs --cluster-label (or PROMETHEUS_CLUSTER_LABEL): the label that names the cluster on every series, e.g. --cluster-label cluster\n',
    );
    const noName = await run(['diagnose', 'shop/api-0', '--cluster-label', 'cluster']);
    expect(noName.code).toBe(EXIT.usage);
    expect(noName.stderr).toBe(
      "oomdoctor: --cluster-label=cluster needs --cluster (or CLUSTER_NAME): the value of the cluster label on this cluster's series\n",
    );
  });

  it('--help lists both options', () => {
    expect(HELP).toMatch(/--cluster-label LABEL .*PROMETHEUS_CLUSTER_LABEL/);
    expect(HELP).toMatch(/--cluster NAME .*CLUSTER_NAME/);
  });
});
