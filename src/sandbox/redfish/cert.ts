// A self-signed certificate for the simulated BMC, made by the openssl CLI (installed with Debian's
// openssl package) at start: an EC P-256 key, valid for two days, for 127.0.0.1 and localhost.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BmcCertificate {
  key: string;
  cert: string;
  /** SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` and Node print it: AA:BB:… */
  fingerprint: string;
}

export async function makeBmcCertificate(commonName = 'bmc.sandbox'): Promise<BmcCertificate> {
  const dir = await mkdtemp(path.join(tmpdir(), 'runbot-bmc-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    const pem = await readFile(cert, 'utf8');
    return {
      key: await readFile(key, 'utf8'),
      cert: pem,
      fingerprint: new X509Certificate(pem).fingerprint256,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
