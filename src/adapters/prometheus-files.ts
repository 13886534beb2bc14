// The files behind Prometheus' credentials and TLS, re-read when they change: service-account
// tokens are rotated, cert-manager renews client certificates, a CA bundle is replaced. Every
// failure to read one names the setting that points at it.
import * as fs from 'node:fs';
import * as https from 'node:https';
import { MINUTE_MS } from '../core/time';
import type { PrometheusSettingKey, PrometheusSettings } from '../config/prometheus';
import { SourceError } from './errors';

/** Re-read after this long even when the file looks unchanged, in case a write kept size and time. */
const SECRET_FILE_MAX_AGE_MS = MINUTE_MS;

/** A token or password kept in a file, re-read when the file changes (rotated service-account tokens). */
export class SecretFile {
  private cached: { stamp: string; value: string; readAt: number } | null = null;

  constructor(
    readonly file: string,
    readonly from: string,
  ) {}

  read(): string {
    let stamp: string;
    try {
      const stat = fs.statSync(this.file);
      stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      if (
        this.cached &&
        this.cached.stamp === stamp &&
        Date.now() - this.cached.readAt < SECRET_FILE_MAX_AGE_MS
      )
        return this.cached.value;
      const value = fs.readFileSync(this.file, 'utf8').trim();
      if (value === '') throw Object.assign(new Error('empty'), { code: 'EMPTY' });
      this.cached = { stamp, value, readAt: Date.now() };
      return value;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      const why = code === 'ENOENT' ? 'it no longer exists' : code === 'EMPTY' ? 'it is empty' : code;
      throw new SourceError(
        'prometheus',
        `cannot read the credentials in ${this.from}=${JSON.stringify(this.file)}: ${why}`,
        { code: 'config', fix: 'check the mounted secret or service-account token behind that path' },
      );
    }
  }

  /** The last value read, for redaction (never read from disk just for that). */
  last(): string | null {
    return this.cached?.value ?? null;
  }
}

/** The TLS agent of the settings, kept while its files stay the same. */
export class RotatingTlsAgent {
  private current: https.Agent | undefined;
  private stamp = '';

  constructor(
    private readonly tls: PrometheusSettings['tls'],
    /** Where a setting came from, for messages. */
    private readonly from: (key: PrometheusSettingKey) => string,
  ) {}

  /**
   * The TLS agent for the CA, client certificate and verification of the settings, made again when
   * one of those files changes (cert-manager renews client certificates; a CA bundle is rotated).
   */
  agent(): https.Agent {
    const tls = this.tls;
    const files: Array<[string | null, PrometheusSettingKey]> = [
      [tls.caFile, 'caFile'],
      [tls.clientCertFile, 'clientCertFile'],
      [tls.clientKeyFile, 'clientKeyFile'],
    ];
    const contents: Array<Buffer | undefined> = [];
    let stamp = '';
    try {
      for (const [file] of files) {
        if (file === null) stamp += '-|';
        else {
          const stat = fs.statSync(file);
          stamp += `${stat.ino}:${stat.size}:${stat.mtimeMs}|`;
        }
      }
      if (this.current && stamp === this.stamp) return this.current;
      for (const [file] of files) contents.push(file === null ? undefined : fs.readFileSync(file));
    } catch (error) {
      const failed = files.find(([file]) => file !== null && !fs.existsSync(file));
      const what = failed ? `${this.from(failed[1])}=${JSON.stringify(failed[0])}` : 'the TLS files';
      throw new SourceError(
        'prometheus',
        `cannot read ${what}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
        { code: 'config', fix: 'check the mounted secret or config map behind that path' },
      );
    }
    const [ca, cert, key] = contents;
    this.current?.destroy();
    this.current = new https.Agent({
      keepAlive: true,
      rejectUnauthorized: !tls.insecureSkipVerify,
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
    });
    this.stamp = stamp;
    return this.current;
  }
}
