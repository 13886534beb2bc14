import {
  asOomdoctorError,
  errorCodeOf,
  isPermanent,
  OomdoctorError,
  ParseError,
  quoteInput,
} from '../../../src/core/errors';
import {
  ClusterUnreachableError,
  ForbiddenError,
  NotFoundError,
  SourceError,
} from '../../../src/adapters/errors';
import { ConflictError, PatchRejectedError } from '../../../src/adapters/cluster-writer';
import { ConfigError } from '../../../src/config/bot';
import { PermanentJobError, QueueUnavailableError } from '../../../src/bot/queue';
import { SlackDeliveryError } from '../../../src/adapters/slack';

describe('the error vocabulary', () => {
  test('every named error carries its code and whether a retry can help', () => {
    const cases: Array<[OomdoctorError, string, boolean]> = [
      [new ParseError('target', 'target is empty'), 'parse', true],
      [new NotFoundError('pod shop/x not found'), 'not-found', true],
      [new ClusterUnreachableError('cannot reach the Kubernetes API'), 'kube-unreachable', false],
      [new ForbiddenError('cannot get pods'), 'kube-forbidden', true],
      [new SourceError('prometheus', 'timed out'), 'source-unavailable', false],
      [new ConflictError('changed'), 'kube-conflict', false],
      [new PatchRejectedError(422, 'invalid'), 'kube-rejected', true],
      [new ConfigError(['SLACK_BOT_TOKEN is missing']), 'config', true],
      [new PermanentJobError('no such channel'), 'job-permanent', true],
      [new QueueUnavailableError('Redis is down'), 'queue-unavailable', false],
      [new SlackDeliveryError('channel_not_found', true, 'Slack refused'), 'slack-refused', true],
      [new SlackDeliveryError('ratelimited', false, 'Slack rate-limited'), 'slack-rate-limited', false],
      [new SlackDeliveryError('network', false, 'could not reach Slack'), 'slack-unreachable', false],
    ];
    for (const [error, code, permanent] of cases) {
      expect(error).toBeInstanceOf(OomdoctorError);
      expect([error.name, error.code, error.permanent]).toEqual([error.name, code, permanent]);
      expect(errorCodeOf(error)).toBe(code);
      expect(isPermanent(error)).toBe(permanent);
    }
  });

  test('a default can be overridden: a 404 that may be a race is worth one more try', () => {
    expect(new NotFoundError('pod not found yet', { permanent: false }).permanent).toBe(false);
    expect(new OomdoctorError('kube-server-error', 'API answered 500').permanent).toBe(false);
    expect(new OomdoctorError('kube-server-error', 'API answered 500', { permanent: true }).permanent).toBe(
      true,
    );
  });

  test('the sentence joins the message and the fix', () => {
    const error = new OomdoctorError(
      'kube-unreachable',
      'cannot reach the Kubernetes API at http://127.0.0.1:1',
      {
        fix: 'check KUBECONFIG',
      },
    );
    expect(error.sentence).toBe('cannot reach the Kubernetes API at http://127.0.0.1:1; check KUBECONFIG');
    expect(new OomdoctorError('usage', 'unknown option --foo').sentence).toBe('unknown option --foo');
  });

  test('anything else becomes internal, with its first line only, and keeps the cause', () => {
    const original = new TypeError('cannot read properties of undefined\n    at stack frame');
    const wrapped = asOomdoctorError(original);
    expect([wrapped.code, wrapped.message, wrapped.permanent]).toEqual([
      'internal',
      'cannot read properties of undefined',
      true,
    ]);
    expect(wrapped.cause).toBe(original);
    expect(asOomdoctorError('x'.repeat(1000)).message).toHaveLength(300);
    const known = new NotFoundError('gone');
    expect(asOomdoctorError(known)).toBe(known);
    expect(isPermanent(new Error('plain'))).toBe(false);
    expect(errorCodeOf('thrown string')).toBe('internal');
  });
});

describe('quoteInput', () => {
  it('shows printable ASCII as it is, escapes the rest, and cuts after 40 characters', () => {
    expect(quoteInput('24h')).toBe('"24h"');
    expect(quoteInput('2\u041c"\\')).toBe('"2\\u{41c}\\"\\\\"');
    expect(quoteInput('a'.repeat(40))).toBe(`"${'a'.repeat(40)}"`);
    expect(quoteInput('a'.repeat(41))).toBe(`"${'a'.repeat(40)}..."`);
  });

  it('keeps a line of escapes short: at most 80 characters of quoted text', () => {
    // Musical symbols are 9 characters each once escaped: 40 of them made a 360-character quote.
    const quoted = quoteInput('\u{1d158}'.repeat(40));
    expect(quoted.length).toBeLessThanOrEqual(80 + '"..."'.length);
    expect(quoted).toMatch(/^"(\\u\{1d158\})+\.\.\."$/);
  });
});
