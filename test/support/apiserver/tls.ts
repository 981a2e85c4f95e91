/**
 * TLS material for the stand-in's https mode, made at test time with `openssl` (one CA per test process):
 * a CA, a server certificate for 127.0.0.1, 0.0.0.0, localhost and stand-in.example, and client certificates
 * whose CN is the user name and whose O entries are the groups, as the kube-apiserver's x509 authenticator
 * reads them (k8s.io/apiserver pkg/authentication/request/x509/x509.go, CommonNameUserConversion).
 *
 * EC P-256 keys: generated in milliseconds. Without openssl every TLS test fails with a message saying so.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** PEM texts of one certificate and its key. */
export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

/** The CA and the server's certificate. */
export interface TlsMaterial {
  readonly ca: CertPair;
  readonly server: CertPair;
}

/** Host names and addresses the server certificate is valid for. */
export const SERVER_NAMES = ['IP:127.0.0.1', 'IP:0.0.0.0', 'DNS:localhost', 'DNS:stand-in.example'];

let material: TlsMaterial | undefined;
let dir: string | undefined;

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('the stand-in TLS mode needs openssl on PATH (apt-get install openssl)');
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

function workDir(): string {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'stand-in-tls-'));
  return dir;
}

function newKey(cwd: string, name: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], cwd);
}

let serial = 0;

/** Signs a certificate for `subject` with the CA, with the given extensions (openssl config lines). */
function issue(cwd: string, name: string, subject: string, ext: string[], days: number): CertPair {
  newKey(cwd, name);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], cwd);
  fs.writeFileSync(path.join(cwd, `${name}.ext`), `${ext.join('\n')}\n`);
  serial++;
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(1000 + serial), '-days', String(days), '-extfile', `${name}.ext`, '-out', `${name}.crt`],
    cwd,
  );
  return { cert: fs.readFileSync(path.join(cwd, `${name}.crt`), 'utf8'), key: fs.readFileSync(path.join(cwd, `${name}.key`), 'utf8') };
}

/** The process's CA and server certificate (made on first use). */
export function tlsMaterial(): TlsMaterial {
  if (material) return material;
  const cwd = workDir();
  newKey(cwd, 'ca');
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=stand-in-ca', '-days', '3650', '-out', 'ca.crt'], cwd);
  const ca = { cert: fs.readFileSync(path.join(cwd, 'ca.crt'), 'utf8'), key: fs.readFileSync(path.join(cwd, 'ca.key'), 'utf8') };
  const server = issue(cwd, 'server', '/CN=stand-in', ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature', 'extendedKeyUsage=serverAuth', `subjectAltName=${SERVER_NAMES.join(',')}`], 3650);
  material = { ca, server };
  return material;
}

/** A client certificate from the process's CA: CN `user`, one O per group. */
export function clientCertificate(user: string, groups: readonly string[] = [], days = 365): CertPair {
  tlsMaterial();
  const subject = [...groups.map((g) => `/O=${g}`), `/CN=${user}`].join('');
  return issue(workDir(), `client-${serial + 1}`, subject, ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature', 'extendedKeyUsage=clientAuth'], days);
}
