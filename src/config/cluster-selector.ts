// The cluster selector for a Prometheus that holds several clusters (Thanos, Mimir, a central
// VictoriaMetrics): the label that names the cluster, and this cluster's value of it. The bot reads
// PROMETHEUS_CLUSTER_LABEL with CLUSTER_NAME; the CLI --cluster-label with --cluster, the same
// variables behind them.
import type { ClusterSelector } from '../core/prometheus-names';
import { ParseError } from '../core/errors';

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;

/** A setting and where it came from (`PROMETHEUS_CLUSTER_LABEL`, `--cluster`), for the messages. */
export interface Setting {
  value: string | undefined;
  from: string;
}

/**
 * Null when no label is set: the queries then read every cluster, and a container found in several
 * is reported instead of mixed. A name alone does not select (CLUSTER_NAME also filters alerts, and a
 * Prometheus of one cluster often has no cluster label at all).
 */
export function readClusterSelector(label: Setting, name: Setting): ClusterSelector | null {
  const labelText = label.value?.trim() ?? '';
  const nameText = name.value?.trim() ?? '';
  if (labelText === '') return null;
  if (!LABEL.test(labelText) || labelText.startsWith('__'))
    throw new ParseError(
      label.from,
      `${label.from}="${labelText.slice(0, 60)}" is not a Prometheus label name (letters, digits and underscores, not starting with a digit); it is the label that names the cluster on every series, e.g. cluster`,
    );
  if (nameText === '')
    throw new ParseError(
      name.from,
      `${label.from}=${labelText} needs ${name.from}: the value of the ${labelText} label on this cluster's series`,
    );
  return { label: labelText, name: nameText };
}
