import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors';
import { onlyParseErrors, parseErrorOf } from './parse-assertions';
import {
  parseCommandTarget,
  parseContainerName,
  parseNamespace,
  parsePodName,
  parseTargetRequest,
  parseWorkloadName,
} from '../../../src/core/target';
import type { TargetRequest } from '../../../src/core/types';

const FORMS = 'expected <namespace>/<pod> or <namespace>/deploy/<name>';
const label63 = `a${'b'.repeat(61)}c`;
const name253 = `${label63}.${label63}.${label63}.${'d'.repeat(61)}`;

describe('parseTargetRequest', () => {
  it.each<[string, TargetRequest]>([
    ['shop/api-7d9f8b6c5-x2x4q', { kind: 'pod', namespace: 'shop', pod: 'api-7d9f8b6c5-x2x4q' }],
    [
      'kube-system/coredns-5d78c9869d-abcde',
      { kind: 'pod', namespace: 'kube-system', pod: 'coredns-5d78c9869d-abcde' },
    ],
    ['a/b', { kind: 'pod', namespace: 'a', pod: 'b' }],
    ['0/9', { kind: 'pod', namespace: '0', pod: '9' }],
    ['shop/web.v2', { kind: 'pod', namespace: 'shop', pod: 'web.v2' }],
    ['shop/constructor', { kind: 'pod', namespace: 'shop', pod: 'constructor' }],
    ['  shop/api-0\n', { kind: 'pod', namespace: 'shop', pod: 'api-0' }],
    [`${label63}/${name253}`, { kind: 'pod', namespace: label63, pod: name253 }],
    [`shop/${'x'.repeat(70)}`, { kind: 'pod', namespace: 'shop', pod: 'x'.repeat(70) }],
    ['shop/deploy/api', { kind: 'workload', namespace: 'shop', workloadKind: 'Deployment', name: 'api' }],
    ['shop/deployment/api', { kind: 'workload', namespace: 'shop', workloadKind: 'Deployment', name: 'api' }],
    [
      'shop/deployments/api',
      { kind: 'workload', namespace: 'shop', workloadKind: 'Deployment', name: 'api' },
    ],
    ['shop/Deploy/api', { kind: 'workload', namespace: 'shop', workloadKind: 'Deployment', name: 'api' }],
    ['db/sts/postgres', { kind: 'workload', namespace: 'db', workloadKind: 'StatefulSet', name: 'postgres' }],
    [
      'db/statefulset/postgres',
      { kind: 'workload', namespace: 'db', workloadKind: 'StatefulSet', name: 'postgres' },
    ],
    [
      'db/statefulsets/postgres',
      { kind: 'workload', namespace: 'db', workloadKind: 'StatefulSet', name: 'postgres' },
    ],
    [
      'logging/ds/fluent-bit',
      { kind: 'workload', namespace: 'logging', workloadKind: 'DaemonSet', name: 'fluent-bit' },
    ],
    [
      'logging/daemonset/fluent-bit',
      { kind: 'workload', namespace: 'logging', workloadKind: 'DaemonSet', name: 'fluent-bit' },
    ],
    [
      'logging/daemonsets/fluent-bit',
      { kind: 'workload', namespace: 'logging', workloadKind: 'DaemonSet', name: 'fluent-bit' },
    ],
    [
      'batch/cronjob/nightly.report',
      { kind: 'workload', namespace: 'batch', workloadKind: 'CronJob', name: 'nightly.report' },
    ],
    [
      'batch/cronjobs/nightly',
      { kind: 'workload', namespace: 'batch', workloadKind: 'CronJob', name: 'nightly' },
    ],
    ['batch/cj/nightly', { kind: 'workload', namespace: 'batch', workloadKind: 'CronJob', name: 'nightly' }],
    ['deploy/api', { kind: 'pod', namespace: 'deploy', pod: 'api' }],
  ])('reads %j', (text, expected) => {
    expect(parseTargetRequest(text)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['shop', `target "shop" is not valid: ${FORMS} (also sts/, ds/ or cronjob/)`],
    ['', `target is empty: ${FORMS}`],
    ['   ', `target is empty: ${FORMS}`],
    ['shop/', FORMS],
    ['/api', FORMS],
    ['shop//api', FORMS],
    ['shop/deploy/', FORMS],
    ['a/b/c/d', FORMS],
    ['shop/svc/api', `target "shop/svc/api" is not valid: "svc" is not a workload kind, ${FORMS}`],
    ['shop/__proto__/api', '"__proto__" is not a workload kind'],
    ['shop/constructor/api', '"constructor" is not a workload kind'],
    ['shop/toString/api', '"toString" is not a workload kind'],
    ['shop/hasOwnProperty/api', '"hasOwnProperty" is not a workload kind'],
    ['shop/job/api', '"job" is not a workload kind'],
    ['Shop/api', 'target "Shop/api" is not valid: Kubernetes names are lower case, e.g. shop/api'],
    [
      'shop/deploy/API',
      'target "shop/deploy/API" is not valid: Kubernetes names are lower case, e.g. shop/deploy/api',
    ],
    [
      'SHOP/API_1',
      'target "SHOP/API_1" has an invalid namespace "SHOP": Kubernetes names are lower case, e.g. "shop"',
    ],
    [
      'shop/deploy/API_1',
      'target "shop/deploy/API_1" has an invalid Deployment name "API_1": "_" is not allowed',
    ],
    [
      'sh_op/api',
      'target "sh_op/api" has an invalid namespace "sh_op": "_" is not allowed, use lower-case letters, digits and "-"',
    ],
    ['shop.eu/api', 'has an invalid namespace "shop.eu": "." is not allowed'],
    [
      '-shop/api',
      'has an invalid namespace "-shop": it must start and end with a lower-case letter or digit',
    ],
    ['shop-/api', 'it must start and end with a lower-case letter or digit'],
    [`${label63}x/api`, 'it has 64 characters, at most 63 are allowed'],
    [`shop/${name253}x`, 'it has 254 characters, at most 253 are allowed'],
    ['shop/api..v1', 'has an invalid pod name "api..v1": it has an empty part between dots'],
    ['shop/.api', 'it has an empty part between dots'],
    ['shop/deploy/api.', 'has an invalid Deployment name "api.": it has an empty part between dots'],
    [
      'shop/-api',
      'has an invalid pod name "-api": it must start and end with a lower-case letter or digit (also around each ".")',
    ],
    ['shop/api-.v1', 'it must start and end'],
    ['shop/ api', '" " is not allowed, use lower-case letters, digits, "-" and "."'],
    ['shop/api:8080', '":" is not allowed'],
    ['shop/ap\u0000i', 'target "shop/ap\\u{0}i" contains U+0000, which is not a plain ASCII character'],
    ['\u0455hop/api', 'contains U+0455'],
    ['shop\uff0fapi', 'contains U+FF0F'],
    ['x'.repeat(1001), 'target is too long (1001 characters, at most 329)'],
  ])('rejects %j with a clear message', (text, message) => {
    const err = parseErrorOf(() => parseTargetRequest(text));
    expect(err.field).toBe('target');
    expect(err.message).toContain(message);
  });

  it.each([
    'NaN',
    'Infinity',
    '-5',
    '1e400',
    'shop/api/',
    'shop/deploy/api/x',
    '../etc/passwd',
    'shop/%2e%2e',
    'shop\\api',
    '__proto__/x/y',
  ])('rejects %j', (text) => {
    expect(() => parseTargetRequest(text)).toThrow(ParseError);
  });

  it('rejects a million characters quickly', () => {
    const started = Date.now();
    for (const text of ['a/'.repeat(500_000), `shop/${'a'.repeat(1_000_000)}`, '/'.repeat(1_000_000)]) {
      expect(() => parseTargetRequest(text)).toThrow(ParseError);
    }
    expect(Date.now() - started).toBeLessThan(1000);
  });

  const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
  const subdomain = fc.array(label, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'));

  it('reads every valid <namespace>/<pod> and <namespace>/<kind>/<name>', () => {
    fc.assert(
      fc.property(
        label,
        subdomain,
        fc.constantFrom('deploy', 'sts', 'ds', 'cronjob', 'cj', 'DaemonSet'),
        (ns, name, kind) => {
          expect(parseTargetRequest(`${ns}/${name}`)).toEqual({ kind: 'pod', namespace: ns, pod: name });
          const workload = parseTargetRequest(`${ns}/${kind}/${name}`);
          expect(workload).toMatchObject({ kind: 'workload', namespace: ns, name });
        },
      ),
    );
  });

  it('throws only ParseError on arbitrary strings, and returns only valid names', () => {
    const anyText = fc.oneof(
      fc.string({ unit: 'binary-ascii', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.string({ unit: fc.constantFrom(...'ab0-./Aeploydst_ '.split('')), maxLength: 24 }),
      fc.string({ unit: 'grapheme-ascii', minLength: 990, maxLength: 1100 }),
    );
    fc.assert(
      fc.property(anyText, (text) => {
        onlyParseErrors(() => {
          const request = parseTargetRequest(text);
          expect(request.namespace).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
          const name = request.kind === 'pod' ? request.pod : request.name;
          expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
        });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('name parsers', () => {
  it('reads valid names, trimmed', () => {
    expect(parseNamespace(' default ')).toBe('default');
    expect(parseNamespace(label63)).toBe(label63);
    expect(parsePodName('api.v1-0')).toBe('api.v1-0');
    expect(parsePodName(name253)).toBe(name253);
    expect(parseWorkloadName('nightly.report')).toBe('nightly.report');
    expect(parseContainerName('app')).toBe('app');
    expect(parseContainerName('istio-proxy')).toBe('istio-proxy');
  });

  it.each<[() => unknown, string, string]>([
    [
      () => parseNamespace('Default'),
      'namespace',
      'namespace "Default" is not valid: Kubernetes names are lower case, e.g. "default"',
    ],
    [
      () => parseNamespace('a.b'),
      'namespace',
      'namespace "a.b" is not valid: "." is not allowed, use lower-case letters, digits and "-"',
    ],
    [() => parseNamespace(`${label63}x`), 'namespace', 'namespace is too long (64 characters, at most 63)'],
    [() => parseNamespace(''), 'namespace', 'namespace is empty: use a lower-case name such as "shop"'],
    [() => parsePodName('Api_1'), 'pod name', 'pod name "Api_1" is not valid: "_" is not allowed'],
    [
      () => parsePodName('API'),
      'pod name',
      'pod name "API" is not valid: Kubernetes names are lower case, e.g. "api"',
    ],
    [() => parsePodName('api.'), 'pod name', 'it has an empty part between dots'],
    [
      () => parseContainerName('my_app'),
      'container name',
      'container name "my_app" is not valid: "_" is not allowed',
    ],
    [() => parseContainerName('app.v1'), 'container name', '"." is not allowed'],
    [
      () => parseContainerName('app-'),
      'container name',
      'it must start and end with a lower-case letter or digit',
    ],
    [() => parseContainerName('__proto__'), 'container name', '"_" is not allowed'],
    [() => parseContainerName('\u0430pp'), 'container name', 'contains U+0430'],
    [() => parseContainerName('my_app', '-c'), '-c', '-c "my_app" is not valid'],
  ])('rejects bad names (%#)', (fn, field, message) => {
    const err = parseErrorOf(fn);
    expect(err.field).toBe(field);
    expect(err.message).toContain(message);
  });

  it('throw only ParseError on arbitrary strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ maxLength: 300 })),
        (text) => {
          for (const parse of [parseNamespace, parsePodName, parseWorkloadName, parseContainerName]) {
            onlyParseErrors(() => expect(parse(text)).toMatch(/^[a-z0-9][-a-z0-9.]*$/));
          }
        },
      ),
    );
  });
});

describe('parseCommandTarget (what follows /oom)', () => {
  it('takes a pod name alone as a name to look up, and the other forms as the CLI does', () => {
    expect(parseCommandTarget(' api-1 ')).toEqual({ kind: 'bare', pod: 'api-1' });
    expect(parseCommandTarget('shop/api-1')).toEqual(parseTargetRequest('shop/api-1'));
    expect(parseCommandTarget('shop/deploy/api')).toEqual(parseTargetRequest('shop/deploy/api'));
  });

  it('refuses what is not a name, with one ParseError', () => {
    expect(parseErrorOf(() => parseCommandTarget('API-1')).message).toContain('lower case');
    onlyParseErrors(() => parseCommandTarget('<!channel>'));
  });
});
