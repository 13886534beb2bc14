// The audit trail of every attempt to change a workload: requested, refused, dry-run failed,
// applied, undone, failed. One JSON object per line, marked "audit": true, among the structured logs
// on stdout and appended to AUDIT_LOG_FILE where set; counted for the metrics the product exports.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { ApplyOp, DiffLine, SuggestionRecord } from './types';

export type AuditEvent = 'requested' | 'refused' | 'dry-run-failed' | 'applied' | 'undone' | 'failed';

export interface AuditRecord {
  audit: true;
  at: string;
  event: AuditEvent;
  op: ApplyOp;
  /** The Slack user who pressed the button. */
  user: string;
  /** The Kubernetes user the request was sent as, when impersonating. */
  identity: string | null;
  cluster: string | null;
  suggestionId: string | null;
  diagnosisId: string | null;
  /** "Deployment shop/checkout". */
  workload: string | null;
  container: string | null;
  /** The changed fields only, before and after ("requests.memory", "env GOMEMLIMIT", "args[2]"). */
  before: Record<string, string> | null;
  after: Record<string, string> | null;
  result: 'ok' | 'refused' | 'error';
  /** Why it was refused or failed, in words; null when it went through. */
  reason: string | null;
  /** The machine-readable reason: "user", "namespace", "race", "gitops", "duplicate", "forbidden", "invalid"… */
  code: string | null;
}

export interface AuditInput {
  event: AuditEvent;
  op: ApplyOp;
  user: string;
  identity?: string | null;
  cluster?: string | null;
  suggestionId?: string | null;
  diagnosisId?: string | null;
  workload?: { kind: string; namespace: string; name: string } | null;
  container?: string | null;
  diff?: DiffLine[] | null;
  reason?: string | null;
  code?: string | null;
  at?: Date;
}

const RESULT: Record<AuditEvent, AuditRecord['result']> = {
  requested: 'ok',
  applied: 'ok',
  undone: 'ok',
  refused: 'refused',
  'dry-run-failed': 'refused',
  failed: 'error',
};

/**
 * What every audit line of one attempt shares: who asked for what, on which suggestion. `record` is
 * null when the button named a suggestion that is unknown or expired.
 */
export function auditBase(
  cluster: string | null,
  record: SuggestionRecord | null,
  op: ApplyOp,
  userId: string,
): Omit<AuditInput, 'event'> {
  return {
    op,
    user: userId,
    cluster,
    suggestionId: record?.id ?? null,
    diagnosisId: record?.diagnosisId ?? null,
    workload: record?.workload ?? null,
    container: record?.container ?? null,
  };
}

/** Builds the record; pure, so tests and the log agree on its shape. */
export function auditRecord(input: AuditInput): AuditRecord {
  const diff = input.diff ?? null;
  return {
    audit: true,
    at: (input.at ?? new Date()).toISOString(),
    event: input.event,
    op: input.op,
    user: input.user,
    identity: input.identity ?? null,
    cluster: input.cluster ?? null,
    suggestionId: input.suggestionId ?? null,
    diagnosisId: input.diagnosisId ?? null,
    workload: input.workload
      ? `${input.workload.kind} ${input.workload.namespace}/${input.workload.name}`
      : null,
    container: input.container ?? null,
    before: diff ? Object.fromEntries(diff.map((d) => [d.field, d.before])) : null,
    after: diff ? Object.fromEntries(diff.map((d) => [d.field, d.after])) : null,
    result: RESULT[input.event],
    reason: input.reason ?? null,
    code: input.code ?? null,
  };
}

export class AuditLog {
  private readonly counts = new Map<string, number>();
  private pending: Promise<void> = Promise.resolve();

  private constructor(
    private readonly logger: Logger,
    private readonly file: string | null,
    private readonly counted: (record: AuditRecord) => void,
  ) {}

  /**
   * Opens the audit log; with a file, checks at start-up that it can be appended to. `counted` is
   * told of each record (the bot counts them in its metrics).
   */
  static async open(
    logger: Logger,
    file: string | null,
    counted: (record: AuditRecord) => void = () => undefined,
  ): Promise<AuditLog> {
    if (file) {
      try {
        await mkdir(dirname(file), { recursive: true });
        await appendFile(file, '');
      } catch (error) {
        throw new Error(`AUDIT_LOG_FILE ${file} cannot be written: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    return new AuditLog(logger, file, counted);
  }

  /** Writes one record: to the structured log at once, to the file in order. Never throws. */
  async write(input: AuditInput): Promise<AuditRecord> {
    const record = auditRecord(input);
    const key = `${record.op}.${record.event}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.counted(record);
    this.logger.info(
      record,
      `audit: ${record.op} ${record.event}${record.workload ? ` ${record.workload}` : ''} by ${record.user}`,
    );
    if (this.file) {
      const line = `${JSON.stringify(record)}\n`;
      const file = this.file;
      this.pending = this.pending.then(() =>
        appendFile(file, line).catch((error: Error) =>
          this.logger.error({ err: error.message, file }, 'could not append to AUDIT_LOG_FILE'),
        ),
      );
      await this.pending;
    }
    return record;
  }

  /** Attempts so far by "<op>.<event>", e.g. { "apply.applied": 3, "apply.refused": 1 }. */
  counters(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}
