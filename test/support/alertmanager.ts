// A real Alertmanager (Debian's 0.25) on a free 127.0.0.1 port with one webhook receiver, clustering off.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import {
  ensureDebianPackages,
  makeTempDir,
  requireBinary,
  startHttpServer,
  withFreePortRetry,
} from './services';

export interface StartAlertmanagerOptions {
  /** Where notifications go (Alertmanager's webhook payload, version 4). */
  webhookUrl: string;
  /** Sent as `Authorization: Bearer <token>` via http_config.authorization.credentials. */
  bearerToken?: string;
  /** Default 1s (Alertmanager's own default is 30s). */
  groupWait?: string;
  /** Default 1s (Alertmanager's own default is 5m). */
  groupInterval?: string;
  /** Default 1h. */
  repeatInterval?: string;
  /** Route group_by; omitted means Alertmanager's default (all alerts in one group). */
  groupBy?: string[];
  /** Readiness timeout; default 20 s. */
  startTimeoutMs?: number;
}

export interface RunningAlertmanager {
  /** Base URL, e.g. http://127.0.0.1:40123 (no trailing slash). */
  url: string;
  /** The generated alertmanager.yml (e.g. for `amtool check-config`). */
  configFile: string;
  /** POSTs alerts to /api/v2/alerts; throws unless Alertmanager answers 2xx. */
  postAlerts(alerts: object[]): Promise<void>;
  stop(): Promise<void>;
}

export const ALERTMANAGER_PACKAGES = [
  { pkg: 'prometheus-alertmanager', binary: 'prometheus-alertmanager' },
  { pkg: 'prometheus-alertmanager', binary: 'amtool' },
];

/** The Alertmanager configuration (as YAML text) used by startAlertmanager. */
export function alertmanagerConfig(options: StartAlertmanagerOptions): string {
  const webhook: Record<string, unknown> = { url: options.webhookUrl, send_resolved: true };
  if (options.bearerToken !== undefined) {
    webhook.http_config = { authorization: { type: 'Bearer', credentials: options.bearerToken } };
  }
  const route: Record<string, unknown> = {
    receiver: 'webhook',
    group_wait: options.groupWait ?? '1s',
    group_interval: options.groupInterval ?? '1s',
    repeat_interval: options.repeatInterval ?? '1h',
  };
  if (options.groupBy !== undefined) route.group_by = options.groupBy;
  return stringify({ route, receivers: [{ name: 'webhook', webhook_configs: [webhook] }] });
}

export async function startAlertmanager(options: StartAlertmanagerOptions): Promise<RunningAlertmanager> {
  await ensureDebianPackages(ALERTMANAGER_PACKAGES);
  const alertmanagerBin = requireBinary('prometheus-alertmanager');
  const tmp = makeTempDir('oomdoctor-alertmanager');
  try {
    const configFile = path.join(tmp.path, 'alertmanager.yml');
    fs.writeFileSync(configFile, alertmanagerConfig(options), { mode: 0o600 });
    const storageDir = path.join(tmp.path, 'storage');
    fs.mkdirSync(storageDir);

    return await withFreePortRetry(async (port) => {
      const url = `http://127.0.0.1:${port}`;
      const proc = await startHttpServer(
        alertmanagerBin,
        [
          `--config.file=${configFile}`,
          `--storage.path=${storageDir}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--cluster.listen-address=',
          '--log.level=warn',
        ],
        {
          cwd: tmp.path,
          logFile: path.join(tmp.path, `alertmanager-${port}.log`),
          readyUrl: `${url}/-/ready`,
          timeoutMs: options.startTimeoutMs ?? 20_000,
        },
      );
      let stopped: Promise<void> | undefined;
      return {
        url,
        configFile,
        async postAlerts(alerts: object[]): Promise<void> {
          const res = await fetch(`${url}/api/v2/alerts`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(alerts),
          });
          const body = await res.text();
          if (!res.ok) throw new Error(`POST ${url}/api/v2/alerts: HTTP ${res.status}: ${body}`);
        },
        stop: () => (stopped ??= proc.stop().then(() => tmp.remove())),
      };
    });
  } catch (err) {
    await tmp.remove();
    throw err;
  }
}
