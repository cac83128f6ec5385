// The Action Required comment for a host the bot refused to trust beyond a plain unknown or changed
// key (those are in act.ts): a refused host certificate (expired, principal mismatch, unknown CA) or
// a key marked @revoked. Nothing ran; a person fixes the host's certificate or key, then moves the
// ticket back.
import { HostCertificateError, HostKeyRevokedError } from '../executors/ssh/index.js';
import type { SshTarget } from '../executors/types.js';
import { codeBlock, paragraph, type AdfBlock } from '../jira/adf.js';

export type HostTrustRefusal = HostCertificateError | HostKeyRevokedError;

export function isHostTrustRefusal(error: unknown): error is HostTrustRefusal {
  return error instanceof HostCertificateError || error instanceof HostKeyRevokedError;
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
  const keyed = target.jump && error.host === target.jump.host ? target.jump : target;
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
