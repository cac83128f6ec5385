// The ssh_config file the openssh transport hands to `ssh -F`: one per pooled connection, in the
// runner's private directory. A file rather than `-o` options because ProxyJump starts a second
// ssh that sees `-F` but none of the `-o` options; with `-F` neither ~/.ssh/config nor
// /etc/ssh/ssh_config is read, so nothing on the machine changes how the bot connects.
// Values are never quoted: anything that would need quoting is refused instead, and `%` (ssh's
// token character) is doubled in paths. Format: ssh_config(5), OpenSSH 9.x.
import type { OpensshHop } from './openssh-diagnose.js';

/** The alias of the target in the file (`ssh -F file target`), and of its jump host. */
export const TARGET_ALIAS = 'target';
const JUMP_ALIAS = 'jump';

export interface OpensshConfigInput {
  target: OpensshHop & { controlPath: string };
  jump?: OpensshHop & { controlPath: string };
  identityFile: string;
  certificateFile?: string | undefined;
  knownHostsFile: string;
  connectTimeoutSeconds: number;
  keepaliveIntervalSeconds: number;
}

/** Host names, addresses and users: letters, digits and `. _ - :` (IPv6), nothing ssh would expand. */
const PLAIN_WORD = /^[A-Za-z0-9._:-]+$/;
/** Paths: no whitespace, quotes, backslashes or `#`, which ssh_config would read differently. */
const PLAIN_PATH = /^[^\s"'\\#]+$/;

export class OpensshConfigError extends Error {
  override readonly name = 'OpensshConfigError';
}

function word(what: string, value: string): string {
  if (!PLAIN_WORD.test(value)) {
    throw new OpensshConfigError(
      `${what} ${JSON.stringify(value)} cannot be handed to the OpenSSH client: use letters, digits and . _ - : only`,
    );
  }
  return value;
}

function pathValue(what: string, value: string): string {
  if (!PLAIN_PATH.test(value)) {
    throw new OpensshConfigError(
      `${what} must be a path without spaces, quotes, backslashes or # for the openssh transport`,
    );
  }
  return value.replaceAll('%', '%%');
}

/** Checks the bot's own paths once, at start-up, so a bad one stops the service with its name. */
export function checkOpensshPaths(paths: Record<string, string | undefined>): void {
  for (const [what, value] of Object.entries(paths)) if (value !== undefined) pathValue(what, value);
}

function hopBlock(alias: string, hop: OpensshHop & { controlPath: string }, extra: string[]): string[] {
  return [
    `Host ${alias}`,
    `  HostName ${word('address', hop.address)}`,
    `  Port ${hop.port}`,
    `  User ${word('user', hop.user)}`,
    // Keys and certificate principals are checked against the name, whatever address was dialled.
    `  HostKeyAlias ${word('host', hop.knownHostsName)}`,
    `  ControlPath ${pathValue('control path', hop.controlPath)}`,
    ...extra,
  ];
}

export function opensshConfig(input: OpensshConfigInput): string {
  const lines = [
    '# Written by runbot (openssh transport) for one pooled connection; rewritten on reconnect.',
    ...hopBlock(TARGET_ALIAS, input.target, input.jump ? [`  ProxyJump ${JUMP_ALIAS}`] : []),
    // The jump host's ssh (started by ProxyJump) goes through the jump host's own pooled master.
    ...(input.jump ? hopBlock(JUMP_ALIAS, input.jump, ['  ControlMaster no']) : []),
    'Host *',
    '  BatchMode yes',
    '  StrictHostKeyChecking yes',
    `  UserKnownHostsFile ${pathValue('RUNBOT_KNOWN_HOSTS', input.knownHostsFile)}`,
    '  GlobalKnownHostsFile /dev/null',
    '  CheckHostIP no',
    '  UpdateHostKeys no',
    '  VerifyHostKeyDNS no',
    '  IdentitiesOnly yes',
    '  IdentityAgent none',
    `  IdentityFile ${pathValue('RUNBOT_SSH_KEY', input.identityFile)}`,
    ...(input.certificateFile
      ? [`  CertificateFile ${pathValue('RUNBOT_SSH_CERT', input.certificateFile)}`]
      : []),
    '  PubkeyAuthentication yes',
    '  PasswordAuthentication no',
    '  KbdInteractiveAuthentication no',
    '  HostbasedAuthentication no',
    '  ForwardAgent no',
    '  ForwardX11 no',
    '  ClearAllForwardings yes',
    '  RequestTTY no',
    '  EscapeChar none',
    `  ConnectTimeout ${input.connectTimeoutSeconds}`,
    `  ServerAliveInterval ${input.keepaliveIntervalSeconds}`,
    '  ServerAliveCountMax 3',
    '',
  ];
  return lines.join('\n');
}
