import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AuditLog, auditRecord } from '../../../src/apply/audit';

describe('audit records', () => {
  it('carry user, workload, before, after and result', () => {
    const record = auditRecord({
      event: 'applied',
      op: 'apply',
      user: 'U0ALICE',
      identity: 'alice@example.com',
      cluster: 'prod-eu',
      suggestionId: 'abc',
      diagnosisId: 'C0:1.1',
      workload: { kind: 'Deployment', namespace: 'shop', name: 'api' },
      container: 'api',
      diff: [{ field: 'limits.memory', before: '512Mi', after: '768Mi' }],
      at: new Date('2026-01-10T10:00:00Z'),
    });
    expect(record).toEqual({
      audit: true,
      at: '2026-01-10T10:00:00.000Z',
      event: 'applied',
      op: 'apply',
      user: 'U0ALICE',
      identity: 'alice@example.com',
      cluster: 'prod-eu',
      suggestionId: 'abc',
      diagnosisId: 'C0:1.1',
      workload: 'Deployment shop/api',
      container: 'api',
      before: { 'limits.memory': '512Mi' },
      after: { 'limits.memory': '768Mi' },
      result: 'ok',
      reason: null,
      code: null,
    });
    expect(
      auditRecord({ event: 'refused', op: 'apply', user: 'U0BOB', reason: 'not allowed', code: 'user' })
        .result,
    ).toBe('refused');
    expect(auditRecord({ event: 'failed', op: 'undo', user: 'U0BOB' }).result).toBe('error');
  });
});

describe('AuditLog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oomdoctor-audit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes JSON lines marked audit:true to the log and to the file, and counts them', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const file = join(dir, 'sub', 'audit.jsonl');
    const counted: string[] = [];
    const audit = await AuditLog.open(logger, file, (record) => counted.push(`${record.op}.${record.event}`));
    await audit.write({ event: 'requested', op: 'apply', user: 'U0ALICE' });
    await audit.write({ event: 'refused', op: 'apply', user: 'U0BOB', reason: 'not allowed', code: 'user' });
    await audit.write({ event: 'refused', op: 'apply', user: 'U0EVE', code: 'user' });
    const fromFile = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(fromFile.map((r) => [r.audit, r.event, r.user])).toEqual([
      [true, 'requested', 'U0ALICE'],
      [true, 'refused', 'U0BOB'],
      [true, 'refused', 'U0EVE'],
    ]);
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged.every((r) => r.audit === true)).toBe(true);
    expect(logged[1]).toMatchObject({ event: 'refused', user: 'U0BOB', reason: 'not allowed', code: 'user' });
    expect(audit.counters()).toEqual({ 'apply.refused': 2, 'apply.requested': 1 });
    expect(counted).toEqual(['apply.requested', 'apply.refused', 'apply.refused']); // the bot's metric
  });

  it('refuses to start with a file it cannot write', async () => {
    const notADirectory = join(dir, 'plain-file');
    writeFileSync(notADirectory, 'x');
    await expect(
      AuditLog.open(pino({ level: 'silent' }), join(notADirectory, 'audit.jsonl')),
    ).rejects.toThrow(/^AUDIT_LOG_FILE .*plain-file\/audit.jsonl cannot be written/);
  });
});
