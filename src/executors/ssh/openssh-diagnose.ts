// Reads what the OpenSSH client (9.x) wrote while it failed to connect, and turns it into the same
// typed errors the node-ssh transport throws, plus HostCertificateError. ssh exits 255 for every
// connection failure, so its log is the only account of why. The lines relied on (sshconnect.c,
// sshkey.c, ssh.c of OpenSSH 9.2; the master runs with LogLevel=DEBUG2 so the debug ones appear):
//   debug1: Server host key: <type> SHA256:<fp>
//   debug1: Server host certificate: <type> SHA256:<fp>, serial N ID "<id>" CA <type> SHA256:<fp> valid <from … to …>
//   debug2: Server host certificate hostname: <principal>            (one per principal)
//   Certificate invalid: expired | not yet valid | name is not a listed principal | …
//   Certificate lacks principal list
//   <TYPE> host key for <name> was revoked and you have requested strict checking.
//   Host key for <name> has changed and you have requested strict checking.
//   No <TYPE> host key is known for <name> and you have requested strict checking.
//   Permission denied (publickey).                                   → auth
//   ssh: connect to host … port …: Connection refused | No route to host | Network is unreachable,
//   ssh: Could not resolve hostname …, kex_exchange_identification: …, Connection closed by …,
//   Connection reset by …                                            → unreachable (retried)
//   … Connection timed out …                                         → timeout (retried)
// A refused certificate makes OpenSSH retry with the plain key, so its "No … host key is known"
// follows the "Certificate invalid" line: the certificate line is the reason reported.
import {
  HostCertificateError,
  HostKeyChangedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
  SshConnectError,
  type HostCertificateProblem,
  type SshConnectFailure,
} from './errors.js';
import { pinnedKeys, sha256Fingerprint, type KnownHosts } from './known-hosts.js';

/** One hop ssh was asked to reach: the name its key is checked under, and how it was dialled. */
export interface OpensshHop {
  host: string;
  address: string;
  port: number;
  user: string;
  /** The HostKeyAlias: the name known_hosts lines and certificate principals must match. */
  knownHostsName: string;
}

export interface DiagnoseContext {
  target: OpensshHop;
  knownHostsFile: string;
  /** Read only when a changed key needs the pinned fingerprints for its message. */
  knownHosts: () => KnownHosts;
  /** Strings never to repeat in a message (key and certificate paths). */
  redact: string[];
}

export type OpensshFailure =
  HostKeyUnknownError | HostKeyChangedError | HostKeyRevokedError | HostCertificateError | SshConnectError;

interface OfferedKey {
  keyType: string;
  fingerprint: string;
  certificate?: { id: string; caFingerprint: string; validity: string };
}

const FP = 'SHA256:[A-Za-z0-9+/]+';

/** Sorts a failed ssh run by its log; `log` is ssh's stderr (or its -E file). */
export function diagnoseOpensshFailure(log: string, context: DiagnoseContext): OpensshFailure {
  const { target, knownHostsFile } = context;
  const offered = offeredKey(log);
  const principals = [...log.matchAll(/Server host certificate hostname: (\S+)/g)].map((m) => m[1] ?? '');
  const base = {
    host: target.host,
    port: target.port,
    fingerprint: offered?.fingerprint ?? 'unknown',
    keyType: offered?.keyType ?? 'unknown',
    knownHostsFile,
  };

  const revoked = /host key for (\S+) was revoked and you have requested strict checking/.exec(log);
  if (revoked || log.includes('REVOKED HOST KEY DETECTED')) return new HostKeyRevokedError(base);

  if (/Host key for (\S+) has changed and you have requested strict checking/.test(log)) {
    // At LogLevel INFO (a jump host's own ssh), the fingerprint is only in the warning's body.
    const warned = new RegExp(`key sent by the remote host is\\s+(${FP})`).exec(log)?.[1];
    const pinned = pinnedKeys(context.knownHosts(), target.knownHostsName).map((entry) =>
      sha256Fingerprint(entry.key),
    );
    return new HostKeyChangedError({
      ...base,
      fingerprint: offered?.fingerprint ?? warned ?? 'unknown',
      knownFingerprints: pinned,
      knownHostsName: target.knownHostsName,
    });
  }

  const unknown = /No (\S+) host key is known for (\S+) and you have requested strict checking/.test(log);
  const certificateRefusal = /(Certificate invalid: [^\r\n]+|Certificate lacks principal list)/.exec(
    log,
  )?.[1];
  if (unknown && offered?.certificate) {
    const detail = certificateRefusal ?? 'no @cert-authority line for this name holds the signing CA';
    return new HostCertificateError({
      ...base,
      problem: certificateProblem(certificateRefusal),
      detail,
      caFingerprint: offered.certificate.caFingerprint,
      validity: offered.certificate.validity,
      principals,
      knownHostsName: target.knownHostsName,
    });
  }
  if (unknown) return new HostKeyUnknownError({ ...base, knownHostsName: target.knownHostsName });

  return new SshConnectError({
    host: target.host,
    port: target.port,
    address: target.address,
    user: target.user,
    reason: connectFailure(log),
    cause: new Error(`ssh: ${lastWords(log, context.redact) || 'exited 255 without saying why'}`),
  });
}

function offeredKey(log: string): OfferedKey | undefined {
  const certificate = new RegExp(
    `Server host certificate: (\\S+) (${FP}), serial \\d+ ID "([^"]*)" CA \\S+ (${FP}) valid ([^\\r\\n]+)`,
  ).exec(log);
  if (certificate) {
    const [, keyType = '', fingerprint = '', id = '', caFingerprint = '', validity = ''] = certificate;
    return { keyType, fingerprint, certificate: { id, caFingerprint, validity: validity.trim() } };
  }
  const plain = new RegExp(`Server host key: (\\S+) (${FP})`).exec(log);
  if (plain) return { keyType: plain[1] ?? '', fingerprint: plain[2] ?? '' };
  return undefined;
}

function certificateProblem(line: string | undefined): HostCertificateProblem {
  if (line === undefined) return 'untrusted-ca';
  if (/expired/.test(line)) return 'expired';
  if (/not yet valid/.test(line)) return 'not-yet-valid';
  if (/principal/.test(line)) return 'principal';
  return 'invalid';
}

/** Order matters: "Connection timed out during banner exchange" is a timeout, not a closed connection. */
function connectFailure(log: string): SshConnectFailure {
  if (/Permission denied \(/.test(log)) return 'auth';
  if (/timed out/i.test(log)) return 'timeout';
  if (
    /Connection refused|No route to host|Network is unreachable|Could not resolve hostname|Name or service not known|Temporary failure in name resolution|kex_exchange_identification|Connection closed by|Connection reset by|Broken pipe/.test(
      log,
    )
  ) {
    return 'unreachable';
  }
  return 'protocol';
}

/** ssh's own last few non-debug lines, with key and certificate paths taken out. */
export function lastWords(log: string, redact: string[]): string {
  const lines = log
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^debug\d:/.test(line) && !line.startsWith('@@@'));
  let text = lines.slice(-3).join('; ');
  for (const secret of redact) if (secret !== '') text = text.split(secret).join('<path>');
  return text;
}
