// The CLI's exit codes and JSON error codes are read from the error's code: a contract scripts rely on.
import {
  ClusterUnreachableError,
  ForbiddenError,
  NotFoundError,
  SourceError,
} from '../../../src/adapters/errors';
import { EXIT, runCli } from '../../../src/cli';
import { OomdoctorError, ParseError } from '../../../src/core/errors';

async function failWith(
  error: unknown,
): Promise<{ code: number; stderr: string; json: { code: string; message: string } }> {
  let stderr = '';
  let stdout = '';
  const code = await runCli(
    ['diagnose', 'shop/checkout-7d9f8b6c4-x2x9z', '--json'],
    {},
    { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
    {
      makeDeps: () => {
        throw error;
      },
    },
  );
  return { code, stderr, json: (JSON.parse(stdout) as { error: { code: string; message: string } }).error };
}

describe('exit codes', () => {
  it.each([
    [new ParseError('window', 'window "x" is not a duration'), EXIT.usage, 'usage'],
    [new OomdoctorError('config', 'PROMETHEUS_URL is not a URL'), EXIT.usage, 'usage'],
    [new NotFoundError('pod shop/checkout not found'), EXIT.notFound, 'not-found'],
    [
      new ClusterUnreachableError('cannot reach the Kubernetes API at https://10.0.0.1'),
      EXIT.unreachable,
      'unreachable',
    ],
    [
      new OomdoctorError('kubeconfig', 'the kubeconfig has no context "prod"'),
      EXIT.unreachable,
      'unreachable',
    ],
    [
      new OomdoctorError('kube-unauthorized', 'the API refused the credentials'),
      EXIT.unreachable,
      'unreachable',
    ],
    [new ForbiddenError('User "x" cannot get resource "pods"'), EXIT.unreachable, 'forbidden'],
    [new SourceError('prometheus', 'connection refused'), EXIT.internal, 'internal'],
    [new TypeError('x is undefined'), EXIT.internal, 'internal'],
  ])('%s → exit %i, "%s"', async (error, exit, kind) => {
    const result = await failWith(error);
    expect(result.code).toBe(exit);
    expect(result.json.code).toBe(kind);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(error.message);
  });

  it('says a forbidden request was refused, and an unmapped error is a bug to report', async () => {
    expect((await failWith(new ForbiddenError('no'))).json.message).toMatch(
      /^the Kubernetes API refused: no/,
    );
    expect((await failWith(new Error('boom'))).json.message).toMatch(
      /^unexpected error: boom .*this is a bug/,
    );
  });
});
