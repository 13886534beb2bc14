// What oomdoctor reads in Prometheus, by name: the metrics and labels (renamable, for a relabelled
// scrape) and, in a Prometheus holding several clusters, the label that tells them apart. Shared by
// the Prometheus adapter and the settings readers in src/config, so it lives at the bottom.

/** The metric and label names the queries use. */
export interface MetricNames {
  workingSet: string;
  limits: string;
  requests: string;
  restarts: string;
  oomEvents: string;
  startTime: string;
  namespaceLabel: string;
  podLabel: string;
  containerLabel: string;
}

/** cAdvisor (through the kubelet) and kube-state-metrics names, as kube-prometheus scrapes them. */
export const DEFAULT_METRIC_NAMES: MetricNames = {
  workingSet: 'container_memory_working_set_bytes',
  limits: 'kube_pod_container_resource_limits',
  requests: 'kube_pod_container_resource_requests',
  restarts: 'kube_pod_container_status_restarts_total',
  oomEvents: 'container_oom_events_total',
  startTime: 'container_start_time_seconds',
  namespaceLabel: 'namespace',
  podLabel: 'pod',
  containerLabel: 'container',
};

/** In a Prometheus holding several clusters: the label that names them, and this cluster's value. */
export interface ClusterSelector {
  label: string;
  name: string;
}
