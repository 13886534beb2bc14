// Certificates for TLS tests, made with openssl at test time: a CA, a server certificate for
// 127.0.0.1 signed by it, a client certificate signed by it (mutual TLS), and an unrelated CA that
// trusts nothing here (the wrong CA file).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCaCert: string;
  read(file: string): Buffer;
}

/** Writes the certificates into `dir` (EC P-256 keys: fast to make, and every TLS stack takes them). */
export function makeTestPki(dir: string): TestPki {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) =>
    ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
  const selfSignedCa = (name: string, subject: string) => {
    key(`${name}.key`);
    ssl('req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', subject);
  };
  const signed = (name: string, subject: string, extensions: string) => {
    key(`${name}.key`);
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  };
  selfSignedCa('ca', '/CN=oomdoctor-test-ca');
  selfSignedCa('other-ca', '/CN=some-other-ca');
  signed('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  signed('client', '/CN=oomdoctor', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    otherCaCert: join(dir, 'other-ca.crt'),
    read: (file) => readFileSync(file),
  };
}
