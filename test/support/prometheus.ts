// A real Prometheus (Debian's 2.42) loaded with generated history via `promtool tsdb create-blocks-from openmetrics`.
//
// IMPORTANT for callers: Prometheus answers instant queries (/api/v1/query, and each step of a range
// query) with the newest sample at most `lookbackDelta` (default 5m) older than the evaluation time.
// Generated data that should be "current" must therefore end within the last few minutes of Date.now(),
// or queries must pass an explicit `time=` inside the generated range.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ensureDebianPackages,
  makeTempDir,
  requireBinary,
  run,
  startHttpServer,
  withFreePortRetry,
} from './services';

export interface GeneratedSeries {
  /** Sample name as queried, e.g. `container_memory_working_set_bytes` or `container_oom_events_total`. */
  name: string;
  help?: string;
  type: 'gauge' | 'counter';
  labels: Record<string, string>;
  /** [unix ms, value]; any order, duplicate timestamps keep the first occurrence. */
  samples: Array<[number, number]>;
}

export const PROMETHEUS_PACKAGES = [
  { pkg: 'prometheus', binary: 'prometheus' },
  { pkg: 'prometheus', binary: 'promtool' },
];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a label value per OpenMetrics: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escapes HELP text per OpenMetrics (same escapes as label values). */
function escapeHelp(text: string): string {
  return escapeLabelValue(text);
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Unix ms -> exact decimal seconds with millisecond precision ("1749825329.674"), no float rounding. */
function formatTimestamp(ms: number): string {
  if (!Number.isFinite(ms)) throw new Error(`invalid sample timestamp ${ms}`);
  const whole = Math.round(ms);
  const sign = whole < 0 ? '-' : '';
  const abs = Math.abs(whole);
  const seconds = Math.floor(abs / 1000);
  const millis = abs % 1000;
  return millis === 0 ? `${sign}${seconds}` : `${sign}${seconds}.${String(millis).padStart(3, '0')}`;
}

/**
 * The OpenMetrics family name of a series: for counters the `_total` suffix is dropped
 * (`# TYPE foo counter` + samples `foo_total`). Counters without the suffix (cAdvisor's
 * `container_memory_failcnt`) keep their name; Prometheus' parser accepts that.
 */
function familyName(s: GeneratedSeries): string {
  return s.type === 'counter' && s.name.endsWith('_total') && s.name.length > '_total'.length
    ? s.name.slice(0, -'_total'.length)
    : s.name;
}

function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
}

/**
 * Renders series as OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`: one block of
 * lines per metric family (TYPE/HELP first), samples of each series sorted by time with duplicate
 * timestamps dropped, timestamps in seconds, terminated by `# EOF`. Series with the same name and
 * labels are merged.
 */
export function toOpenMetrics(series: GeneratedSeries[]): string {
  interface Family {
    type: GeneratedSeries['type'];
    help: string | undefined;
    series: Map<string, { name: string; labels: Record<string, string>; samples: Array<[number, number]> }>;
  }
  const families = new Map<string, Family>();
  for (const s of series) {
    if (!METRIC_NAME.test(s.name)) throw new Error(`invalid metric name ${JSON.stringify(s.name)}`);
    for (const k of Object.keys(s.labels)) {
      if (!LABEL_NAME.test(k) || k.startsWith('__'))
        throw new Error(`invalid label name ${JSON.stringify(k)} on ${s.name}`);
    }
    const fname = familyName(s);
    let family = families.get(fname);
    if (!family) {
      family = { type: s.type, help: s.help, series: new Map() };
      families.set(fname, family);
    } else if (family.type !== s.type) {
      throw new Error(`metric family ${fname} used as both ${family.type} and ${s.type}`);
    }
    family.help ??= s.help;
    const key = `${s.name}\u0000${labelKey(s.labels)}`;
    const existing = family.series.get(key);
    if (existing) existing.samples.push(...s.samples);
    else family.series.set(key, { name: s.name, labels: s.labels, samples: [...s.samples] });
  }

  const lines: string[] = [];
  for (const [fname, family] of families) {
    lines.push(`# TYPE ${fname} ${family.type}`);
    if (family.help !== undefined && family.help !== '')
      lines.push(`# HELP ${fname} ${escapeHelp(family.help)}`);
    for (const s of family.series.values()) {
      const labelNames = Object.keys(s.labels).sort();
      const labelText =
        labelNames.length === 0
          ? ''
          : `{${labelNames.map((k) => `${k}="${escapeLabelValue(s.labels[k] ?? '')}"`).join(',')}}`;
      // Stable sort keeps the first of duplicate timestamps first.
      const sorted = s.samples
        .map(([t, v], i) => ({ t: Math.round(t), v, i }))
        .sort((a, b) => a.t - b.t || a.i - b.i);
      let lastTs: number | undefined;
      for (const { t, v } of sorted) {
        if (t === lastTs) continue;
        lastTs = t;
        lines.push(`${s.name}${labelText} ${formatValue(v)} ${formatTimestamp(t)}`);
      }
    }
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

export interface RunningPrometheus {
  /** Base URL, e.g. http://127.0.0.1:40123 (no trailing slash). */
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  series: GeneratedSeries[];
  /** Time-based retention. Prometheus counts it back from the newest block, so old generated data stays. Default 400d. */
  retention?: string;
  /** --query.lookback-delta (default Prometheus' 5m). */
  lookbackDelta?: string;
  /** Readiness timeout; default 20 s. */
  startTimeoutMs?: number;
  /** `host:port` targets scraped every second on /metrics, as job `scrape` (default: none). */
  scrapeTargets?: string[];
}

// Upper bound for a backfilled block (hidden promtool flag in 2.42). promtool picks the largest of
// 2h·3^n (2h, 6h, 18h, 54h, 162h, 486h, ...) not above it, so a week of data lands in 1–2 blocks
// instead of ~84 two-hour blocks (which load fine but make startup and compaction slower).
const MAX_BLOCK_DURATION = '486h';

/**
 * Backfills `series` into a fresh TSDB and starts Prometheus on a free 127.0.0.1 port with no scrape
 * targets. See the note at the top of this file about the 5-minute lookback of instant queries.
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<RunningPrometheus> {
  await ensureDebianPackages(PROMETHEUS_PACKAGES);
  const prometheusBin = requireBinary('prometheus');
  const promtoolBin = requireBinary('promtool');

  const tmp = makeTempDir('oomdoctor-prometheus');
  try {
    const dataDir = path.join(tmp.path, 'data');
    fs.mkdirSync(dataDir);
    const configFile = path.join(tmp.path, 'prometheus.yml');
    const scrapeConfigs = options.scrapeTargets?.length
      ? `\n  - job_name: scrape\n    scrape_interval: 1s\n    static_configs:\n      - targets: ${JSON.stringify(options.scrapeTargets)}\n`
      : ' []\n';
    fs.writeFileSync(
      configFile,
      `global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\nscrape_configs:${scrapeConfigs}`,
    );

    if (options.series.some((s) => s.samples.length > 0)) {
      const omFile = path.join(tmp.path, 'backfill.om');
      fs.writeFileSync(omFile, toOpenMetrics(options.series));
      await run(
        promtoolBin,
        [
          'tsdb',
          'create-blocks-from',
          'openmetrics',
          '--quiet',
          `--max-block-duration=${MAX_BLOCK_DURATION}`,
          omFile,
          dataDir,
        ],
        process.env,
        120_000,
      );
    }

    return await withFreePortRetry(async (port) => {
      const args = [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dataDir}`,
        `--storage.tsdb.retention.time=${options.retention ?? '400d'}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ];
      if (options.lookbackDelta) args.push(`--query.lookback-delta=${options.lookbackDelta}`);
      const url = `http://127.0.0.1:${port}`;
      const proc = await startHttpServer(prometheusBin, args, {
        cwd: tmp.path,
        logFile: path.join(tmp.path, `prometheus-${port}.log`),
        readyUrl: `${url}/-/ready`,
        timeoutMs: options.startTimeoutMs ?? 20_000,
      });
      let stopped: Promise<void> | undefined;
      return {
        url,
        dataDir,
        stop: () => (stopped ??= proc.stop().then(() => tmp.remove())),
      };
    });
  } catch (err) {
    await tmp.remove();
    throw err;
  }
}
