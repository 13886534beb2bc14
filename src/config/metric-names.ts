// Metric and label names, configurable for setups that relabel cAdvisor or kube-state-metrics.
import { ParseError } from '../core/errors';
import { DEFAULT_METRIC_NAMES, type MetricNames } from '../core/prometheus-names';

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;

/** The environment variable that overrides each name. */
export const METRIC_NAME_VARIABLES: Record<keyof MetricNames, string> = {
  workingSet: 'OOMDOCTOR_METRIC_WORKING_SET',
  limits: 'OOMDOCTOR_METRIC_LIMITS',
  requests: 'OOMDOCTOR_METRIC_REQUESTS',
  restarts: 'OOMDOCTOR_METRIC_RESTARTS',
  oomEvents: 'OOMDOCTOR_METRIC_OOM_EVENTS',
  startTime: 'OOMDOCTOR_METRIC_START_TIME',
  namespaceLabel: 'OOMDOCTOR_LABEL_NAMESPACE',
  podLabel: 'OOMDOCTOR_LABEL_POD',
  containerLabel: 'OOMDOCTOR_LABEL_CONTAINER',
};

/** The names from the environment; every bad variable is reported at once, in one ParseError. */
export function readMetricNames(env: NodeJS.ProcessEnv): MetricNames {
  const names: MetricNames = { ...DEFAULT_METRIC_NAMES };
  const bad: Array<{ variable: string; problem: string }> = [];
  for (const [key, variable] of Object.entries(METRIC_NAME_VARIABLES) as Array<[keyof MetricNames, string]>) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    const pattern = key.endsWith('Label') ? LABEL : METRIC;
    if (!pattern.test(value)) {
      bad.push({
        variable,
        problem: `${variable}="${value.slice(0, 80)}" is not a valid Prometheus ${key.endsWith('Label') ? 'label' : 'metric'} name (letters, digits and underscores${key.endsWith('Label') ? '' : ', colons'}; not starting with a digit)`,
      });
      continue;
    }
    names[key] = value;
  }
  if (bad.length > 0)
    throw new ParseError(bad.map((b) => b.variable).join(', '), bad.map((b) => b.problem).join('; '));
  return names;
}
