// Typed SSH errors. Each carries the fields a runner needs to classify it (host-key problems and
// authentication failures are not retried; an unreachable host is) and a message an operator can
// act on; the same text goes to the log, the CLI and the ticket comment.

/** Take the key from the console, not from the network: that is the point of verifying it. */
function pinAdvice(fields: { knownHostsName: string; knownHostsFile: string }): string {
  return (
    `add a line "${fields.knownHostsName} " followed by the contents of the host's ` +
    `/etc/ssh/ssh_host_ed25519_key.pub (as read on the console) to ${fields.knownHostsFile}`
  );
}

/** What every host-key error carries: the server, the key it offered, and the file that pins keys. */
export interface OfferedKey {
  host: string;
  port: number;
  fingerprint: string;
  keyType: string;
  knownHostsFile: string;
}

/** The base of the host-key and host-certificate errors: the offered key's fields, then the message. */
abstract class OfferedKeyError extends Error implements OfferedKey {
  readonly host: string;
  readonly port: number;
  readonly fingerprint: string;
  readonly keyType: string;
  readonly knownHostsFile: string;

  constructor(message: string, fields: OfferedKey) {
    super(message);
    this.host = fields.host;
    this.port = fields.port;
    this.fingerprint = fields.fingerprint;
    this.keyType = fields.keyType;
    this.knownHostsFile = fields.knownHostsFile;
  }
}

/** The server's key is not pinned under this name: refuse, never trust on first use. */
export class HostKeyUnknownError extends OfferedKeyError {
  override readonly name = 'HostKeyUnknownError';
  readonly knownHostsName: string;

  constructor(fields: OfferedKey & { knownHostsName: string }) {
    super(
      `No host key is pinned for ${fields.knownHostsName} in ${fields.knownHostsFile}; the server offered ` +
        `${fields.keyType} ${fields.fingerprint}. Verify it out of band (console or IPMI SOL: ` +
        `\`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`), then pin it: ${pinAdvice(fields)}.`,
      fields,
    );
    this.knownHostsName = fields.knownHostsName;
  }
}

/** A key is pinned under this name, but the server offered another one (often: an RMA'd board). */
export class HostKeyChangedError extends OfferedKeyError {
  override readonly name = 'HostKeyChangedError';
  readonly knownFingerprints: string[];
  readonly knownHostsName: string;

  constructor(fields: OfferedKey & { knownFingerprints: string[]; knownHostsName: string }) {
    super(
      `Host key for ${fields.knownHostsName} has changed: the server offered ${fields.keyType} ` +
        `${fields.fingerprint}, ${fields.knownHostsFile} pins ${fields.knownFingerprints.join(', ')}. ` +
        `After an RMA this can be legitimate, but it is also what an impostor looks like: verify the new ` +
        `key out of band (console or IPMI SOL: \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`) ` +
        `and compare fingerprints. If they match, remove the old key with ` +
        `\`ssh-keygen -R '${fields.knownHostsName}' -f ${fields.knownHostsFile}\`, then ${pinAdvice(fields)}.`,
      fields,
    );
    this.knownFingerprints = fields.knownFingerprints;
    this.knownHostsName = fields.knownHostsName;
  }
}

/** The server offered a key marked `@revoked` in known_hosts. */
export class HostKeyRevokedError extends OfferedKeyError {
  override readonly name = 'HostKeyRevokedError';

  constructor(fields: OfferedKey) {
    super(
      `Host key ${fields.keyType} ${fields.fingerprint} offered by ${fields.host} port ${fields.port} is marked ` +
        `@revoked in ${fields.knownHostsFile}; refusing to connect. Give the host a new key and pin it.`,
      fields,
    );
  }
}

/** Why OpenSSH refused a host certificate (its `Certificate invalid: …` line, or no CA line matched). */
export type HostCertificateProblem = 'expired' | 'not-yet-valid' | 'principal' | 'untrusted-ca' | 'invalid';

const CERTIFICATE_PROBLEM: Record<HostCertificateProblem, string> = {
  expired: 'host certificate expired',
  'not-yet-valid': 'host certificate not yet valid',
  principal: 'principal mismatch: the certificate does not name this host',
  'untrusted-ca': 'host certificate signed by a CA that known_hosts does not trust for this name',
  invalid: 'host certificate invalid',
};

/**
 * The server offered a host certificate and OpenSSH refused it (openssh transport only: ssh2
 * negotiates no certificate algorithms). No key is pinned as a fallback, so nothing ran.
 */
export class HostCertificateError extends OfferedKeyError {
  override readonly name = 'HostCertificateError';
  readonly problem: HostCertificateProblem;
  /** What OpenSSH said, e.g. `Certificate invalid: expired`. */
  readonly detail: string;
  readonly caFingerprint: string | undefined;
  /** As OpenSSH prints it: `from 2026-01-01T00:00:00 to 2026-02-01T00:00:00` (UTC here). */
  readonly validity: string | undefined;
  readonly principals: string[];
  readonly knownHostsName: string;

  constructor(
    fields: OfferedKey & {
      problem: HostCertificateProblem;
      detail: string;
      caFingerprint?: string | undefined;
      validity?: string | undefined;
      principals: string[];
      knownHostsName: string;
    },
  ) {
    const signed = fields.caFingerprint ? `, signed by CA ${fields.caFingerprint}` : '';
    const valid = fields.validity ? `, valid ${fields.validity}` : '';
    const names = fields.principals.length > 0 ? fields.principals.join(', ') : 'none';
    super(
      `Refused the host certificate of ${fields.knownHostsName} port ${fields.port}: ` +
        `${CERTIFICATE_PROBLEM[fields.problem]} (${fields.detail}). The server offered ${fields.keyType} ` +
        `${fields.fingerprint}${signed}${valid}, principals: ${names}; ${fields.knownHostsFile} ` +
        `pins no plain key for it. Re-sign the host key for this name with the fleet's host CA and ` +
        `install the certificate (sshd HostCertificate), or fix the @cert-authority line.`,
      fields,
    );
    this.problem = fields.problem;
    this.detail = fields.detail;
    this.caFingerprint = fields.caFingerprint;
    this.validity = fields.validity;
    this.principals = fields.principals;
    this.knownHostsName = fields.knownHostsName;
  }

  /** A short phrase for the comment's title and the log: "host certificate expired", … */
  get summary(): string {
    return CERTIFICATE_PROBLEM[this.problem];
  }
}

export type HostKeyError = HostKeyUnknownError | HostKeyChangedError | HostKeyRevokedError;

/**
 * Why a connection could not be made or used. `unreachable` and `timeout` are worth a retry;
 * `auth` (key refused) and `protocol` need a person.
 */
export type SshConnectFailure = 'unreachable' | 'timeout' | 'auth' | 'protocol';

const ADVICE: Record<SshConnectFailure, string> = {
  unreachable: 'check that the host is up, the address and port are right, and sshd is running',
  timeout: 'the host did not finish the SSH handshake in time; check the network path and sshd',
  auth: "the server refused our key; check the user and that runbot's public key is in its authorized_keys",
  protocol: 'the SSH session failed; see the cause',
};

export class SshConnectError extends Error {
  override readonly name = 'SshConnectError';
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly user: string;
  readonly reason: SshConnectFailure;

  constructor(fields: {
    host: string;
    port: number;
    address: string;
    user: string;
    reason: SshConnectFailure;
    cause: unknown;
  }) {
    const causeText = fields.cause instanceof Error ? fields.cause.message : String(fields.cause);
    const via = fields.address === fields.host ? '' : ` (address ${fields.address})`;
    super(
      `Cannot connect to ${fields.user}@${fields.host}${via} port ${fields.port}: ${causeText}; ` +
        `${ADVICE[fields.reason]}.`,
      { cause: fields.cause },
    );
    this.host = fields.host;
    this.port = fields.port;
    this.address = fields.address;
    this.user = fields.user;
    this.reason = fields.reason;
  }
}

/** Sorts an ssh2/node-ssh/socket error into a failure kind. */
export function classifyConnectFailure(error: unknown): SshConnectFailure {
  const err = error as { level?: unknown; code?: unknown; message?: unknown };
  const message = typeof err.message === 'string' ? err.message : '';
  if (err.level === 'client-authentication') return 'auth';
  if (err.level === 'client-timeout' || /timed out/i.test(message)) return 'timeout';
  if (err.level === 'client-socket') return 'unreachable';
  const code = typeof err.code === 'string' ? err.code : '';
  if (
    ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(code)
  ) {
    return 'unreachable';
  }
  if (code === 'ETIMEDOUT') return 'timeout';
  return 'protocol';
}
