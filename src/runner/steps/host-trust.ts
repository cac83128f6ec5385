// The Action Required comment for a host the bot refused to trust: a key it does not know or that
// changed, a refused host certificate (expired, principal mismatch, unknown CA) or a key marked
// @revoked. Nothing ran; a person verifies the key or fixes the host's certificate, then moves the
// ticket back.
import {
  HostCertificateError,
  HostKeyChangedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
} from '../../executors/ssh/index.js';
import type { SshTarget } from '../../executors/types.js';
import { codeBlock, paragraph, type AdfBlock } from '../../jira/adf.js';

export type HostTrustRefusal = HostCertificateError | HostKeyRevokedError;
export type HostKeyRefusal = HostKeyChangedError | HostKeyUnknownError;

export function isHostTrustRefusal(error: unknown): error is HostTrustRefusal {
  return error instanceof HostCertificateError || error instanceof HostKeyRevokedError;
}

export function isHostKeyRefusal(error: unknown): error is HostKeyRefusal {
  return error instanceof HostKeyChangedError || error instanceof HostKeyUnknownError;
}

export interface HostTrustComment {
  title: string;
  reason: string;
  details: AdfBlock[];
  nextStep: string;
}

/** `status`: where the ticket goes back once the host is fixed. */
export function hostTrustComment(
  error: HostTrustRefusal,
  target: SshTarget,
  status: string,
): HostTrustComment {
  // The refused host may be the jump host: name the one whose key it is.
  const keyed = keyedHost(error, target);
  const via = keyed === target ? '' : ` (the jump host to ${target.host})`;
  const nextStep = `Once the host is fixed, move the ticket back to ${status}.`;
  if (error instanceof HostKeyRevokedError) {
    return {
      title: `Host key of ${keyed.host} is revoked`,
      reason: `The host key offered by ${keyed.host}${via} (${error.keyType} ${error.fingerprint}) is marked @revoked in the bot’s known_hosts. A revoked key is what a stolen key looks like, so the bot refuses it. Nothing was run.`,
      details: [
        paragraph(
          'Give the host a new key (and, where the fleet uses host certificates, have the host CA sign it), then check the new fingerprint on the console or over IPMI SOL:',
        ),
        codeBlock('$ ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub'),
        paragraph('Remove the @revoked line only if the revocation itself was a mistake.'),
      ],
      nextStep,
    };
  }
  const name = error.knownHostsName;
  const offered = `${error.keyType} ${error.fingerprint}${error.caFingerprint ? `, signed by CA ${error.caFingerprint}` : ''}`;
  const facts: Record<typeof error.problem, string> = {
    expired: `It expired: valid ${error.validity ?? '(validity unknown)'} (UTC).`,
    'not-yet-valid': `It is not valid yet: valid ${error.validity ?? '(validity unknown)'} (UTC); check the host's and the CA's clocks.`,
    principal: `It names ${error.principals.join(', ') || 'no principal'}, not ${name}.`,
    'untrusted-ca': `No @cert-authority line for ${name} in the bot’s known_hosts holds the CA that signed it.`,
    invalid: `OpenSSH said: ${error.detail}.`,
  };
  const details: AdfBlock[] =
    error.problem === 'untrusted-ca'
      ? [
          paragraph(
            'If that CA is the fleet’s host CA, add its public key to the bot’s known_hosts with a pattern that matches the host name; otherwise the host was signed by the wrong CA:',
          ),
          codeBlock(`@cert-authority *.example.internal ssh-ed25519 AAAA… host-ca`),
        ]
      : [
          paragraph(
            `On the host CA, sign the host’s public key (read on the console) for ${name}, install the certificate on the host (sshd_config: HostCertificate) and reload sshd:`,
          ),
          codeBlock(
            `$ ssh-keygen -s host_ca -h -I ${name} -n ${name} -V +52w ssh_host_ed25519_key.pub\n$ ssh-keygen -Lf /etc/ssh/ssh_host_ed25519_key-cert.pub   # on the host: check principals and validity`,
          ),
        ];
  return {
    title: `Host certificate of ${keyed.host} refused: ${error.summary}`,
    reason: `The bot refused the host certificate offered by ${keyed.host}${via} (${offered}). ${facts[error.problem]} The bot trusts a host only through a pinned key or a valid certificate from a CA in its known_hosts. Nothing was run.`,
    details,
    nextStep,
  };
}

/** A key not pinned, or not the pinned one: how to verify it out of band and pin it. */
export function hostKeyComment(error: HostKeyRefusal, target: SshTarget, status: string): HostTrustComment {
  // The refused key may be the jump host's: name the host whose key it is, as known_hosts does.
  const keyed = keyedHost(error, target);
  const via = keyed === target ? '' : ` (the jump host to ${target.host})`;
  const changed = error instanceof HostKeyChangedError;
  const name = error.knownHostsName;
  return {
    title: changed ? `Host key of ${keyed.host} changed` : `Host key of ${keyed.host} is not known`,
    reason: `${changed ? 'The host key offered by' : 'No host key is pinned for'} ${keyed.host}${via} (${error.keyType} ${error.fingerprint}). After an RMA the key often changes (board or disk swapped, reimaged), but the bot never accepts a key it cannot verify. Nothing was run.`,
    details: [
      paragraph('Verify the key out of band, on the console or over IPMI SOL, and compare its fingerprint:'),
      codeBlock('$ ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub'),
      paragraph('If it matches, pin the new key in the bot’s known_hosts file (replace the old line):'),
      codeBlock(
        `$ ssh-keygen -R '${name}' -f ${error.knownHostsFile}\n$ ssh-keyscan -p ${keyed.port} -t ed25519 ${keyed.address ?? keyed.host} | sed 's/^[^ ]*/${name}/' >> ${error.knownHostsFile}`,
      ),
    ],
    nextStep: `Once the key is pinned, move the ticket back to ${status}.`,
  };
}

/** The host whose key was refused: the target, or the jump host in front of it. */
export function keyedHost(error: { host: string }, target: SshTarget): Omit<SshTarget, 'jump'> {
  return target.jump && error.host === target.jump.host ? target.jump : target;
}
