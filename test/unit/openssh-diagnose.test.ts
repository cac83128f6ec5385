// How the openssh transport reads ssh's own account of a failed connection. The logs are lines
// OpenSSH 9.2 printed against the test sshd (test/integration/openssh-runner.test.ts runs the real
// thing); here each documented line maps to its error, including the ones a test sshd cannot
// produce (timeouts, DNS).
import { describe, expect, it } from 'vitest';
import {
  diagnoseOpensshFailure,
  HostCertificateError,
  HostKeyChangedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
  SshConnectError,
} from '../../src/executors/ssh/index.js';

const context = {
  target: {
    host: 'web-1.dc1.internal',
    address: '10.0.0.5',
    port: 22,
    user: 'runbot',
    knownHostsName: 'web-1.dc1.internal',
  },
  knownHostsFile: '/etc/runbot/known_hosts',
  knownHosts: () => ({ entries: [], invalidLines: [] }),
  redact: ['/etc/runbot/id_ed25519'],
};

const CERT =
  'debug1: Server host certificate: ssh-ed25519-cert-v01@openssh.com SHA256:upvq57yFBOD3t0hsfGUiYAhy2kq9J1D5WlsKBrvZuaA, serial 0 ID "web-1" CA ssh-ed25519 SHA256:13nikoKByRrBeRxpH7COsK2ofNdIByXWh95xwuS5Cz8 valid from 2020-01-01T00:00:00 to 2020-01-02T00:00:00\r\n' +
  'debug2: Server host certificate hostname: web-1.dc1.internal\r\n';
const UNKNOWN =
  'debug1: No matching CA found. Retry with plain key\r\n' +
  'No ED25519 host key is known for web-1.dc1.internal and you have requested strict checking.\r\n' +
  'Host key verification failed.\r\n';

describe('openssh transport: reading ssh’s failures', () => {
  it('reports an expired certificate with its validity and CA', () => {
    const error = diagnoseOpensshFailure(`${CERT}Certificate invalid: expired\r\n${UNKNOWN}`, context);
    expect(error).toBeInstanceOf(HostCertificateError);
    expect(error).toMatchObject({
      problem: 'expired',
      detail: 'Certificate invalid: expired',
      fingerprint: 'SHA256:upvq57yFBOD3t0hsfGUiYAhy2kq9J1D5WlsKBrvZuaA',
      caFingerprint: 'SHA256:13nikoKByRrBeRxpH7COsK2ofNdIByXWh95xwuS5Cz8',
      validity: 'from 2020-01-01T00:00:00 to 2020-01-02T00:00:00',
      principals: ['web-1.dc1.internal'],
    });
  });

  it.each([
    ['Certificate invalid: name is not a listed principal', 'principal'],
    ['Certificate lacks principal list', 'principal'],
    ['Certificate invalid: not yet valid', 'not-yet-valid'],
    ['Certificate invalid: not a host certificate', 'invalid'],
  ])('reads "%s" as %s', (line, problem) => {
    const error = diagnoseOpensshFailure(`${CERT}${line}\r\n${UNKNOWN}`, context);
    expect(error).toMatchObject({ name: 'HostCertificateError', problem });
  });

  it('calls a certificate no @cert-authority line vouches for untrusted-ca', () => {
    expect(diagnoseOpensshFailure(`${CERT}${UNKNOWN}`, context)).toMatchObject({ problem: 'untrusted-ca' });
  });

  it('reads a revoked key, certificate or not', () => {
    const revoked =
      '@       WARNING: REVOKED HOST KEY DETECTED!               @\r\n' +
      'ED25519-CERT host key for web-1.dc1.internal was revoked and you have requested strict checking.\r\n' +
      'Host key verification failed.\r\n';
    expect(diagnoseOpensshFailure(`${CERT}${revoked}`, context)).toBeInstanceOf(HostKeyRevokedError);
  });

  it('reads a plain unknown key, with the fingerprint from the debug line', () => {
    const error = diagnoseOpensshFailure(
      `debug1: Server host key: ssh-ed25519 SHA256:abcDEF0123+/xyz\r\n${UNKNOWN}`,
      context,
    );
    expect(error).toBeInstanceOf(HostKeyUnknownError);
    expect(error).toMatchObject({ fingerprint: 'SHA256:abcDEF0123+/xyz', keyType: 'ssh-ed25519' });
  });

  it('reads a changed key, even from a log without debug lines', () => {
    const log =
      'The fingerprint for the ED25519 key sent by the remote host is\r\nSHA256:abcDEF0123+/xyz.\r\n' +
      'Host key for web-1.dc1.internal has changed and you have requested strict checking.\r\n' +
      'Host key verification failed.\r\n';
    const error = diagnoseOpensshFailure(log, context);
    expect(error).toBeInstanceOf(HostKeyChangedError);
    expect(error).toMatchObject({ fingerprint: 'SHA256:abcDEF0123+/xyz' });
  });

  it.each([
    ['root@10.0.0.5: Permission denied (publickey).', 'auth'],
    ['ssh: connect to host 10.0.0.5 port 22: Connection refused', 'unreachable'],
    ['ssh: connect to host 10.0.0.5 port 22: No route to host', 'unreachable'],
    ['ssh: Could not resolve hostname web-1: Name or service not known', 'unreachable'],
    ['kex_exchange_identification: Connection closed by remote host', 'unreachable'],
    ['ssh: connect to host 10.0.0.5 port 22: Connection timed out', 'timeout'],
    ['Connection timed out during banner exchange', 'timeout'],
    ['Bad configuration option: frobnicate', 'protocol'],
  ])('reads "%s" as %s', (line, reason) => {
    const error = diagnoseOpensshFailure(`${line}\r\n`, context);
    expect(error).toBeInstanceOf(SshConnectError);
    expect(error).toMatchObject({ reason });
  });

  it('keeps key paths out of the message', () => {
    const error = diagnoseOpensshFailure(
      'Load key "/etc/runbot/id_ed25519": invalid format\r\nroot@10.0.0.5: Permission denied (publickey).\r\n',
      context,
    );
    expect(error.message).not.toContain('/etc/runbot/id_ed25519');
    expect(error.message).toContain('Load key "<path>": invalid format');
  });
});
