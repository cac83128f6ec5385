// Opens one verified SSH connection: key authentication only, and the server's host key checked
// against known_hosts under the target's *name* (`host`), not the address we dial — like
// OpenSSH's HostKeyAlias. Without a hostVerifier ssh2 accepts any key, so this is the only way in.
import { readFile, stat } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import type { ParsedKey, PublicKeyAuthMethod, ServerHostKeyAlgorithm } from 'ssh2';
import type { SshTarget } from '../types.js';
import {
  classifyConnectFailure,
  HostKeyChangedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
  SshConnectError,
  type HostKeyError,
} from './errors.js';
import { connectClient, type SshConnection } from './connection.js';
import {
  checkHostKey,
  keyTypeOfBlob,
  knownHostsName,
  parseKnownHosts,
  pinnedKeys,
  sha256Fingerprint,
  type KnownHosts,
} from './known-hosts.js';

export interface ConnectOptions {
  /** Parsed once per runner (client-key.ts). */
  privateKey: ParsedKey;
  knownHostsFile: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
}

// ssh2's default host key algorithm order (README "serverHostKey"); reordered below.
const DEFAULT_HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * A verified connection to the target, through its jump host when it has one: the jump host's key
 * is checked under its own name first, then the target's key under the target's name, over a
 * `direct-tcpip` channel of the jump connection (what `ssh -J` does). Closing the target's
 * connection closes the jump connection too.
 */
export async function openConnection(target: SshTarget, options: ConnectOptions): Promise<SshConnection> {
  if (!target.jump) return openDirect(target, options);
  const jump = await openDirect(target.jump, options);
  // Its failures surface on the target's connection (whose channel dies with it); never unhandled.
  jump.client.on('error', () => undefined);
  try {
    const channel = await forwardTo(jump, target);
    const ssh = await openDirect(target, options, channel);
    ssh.client.once('close', () => jump.end());
    return ssh;
  } catch (error) {
    jump.end();
    throw error;
  }
}

function forwardTo(jump: SshConnection, target: SshTarget): Promise<Duplex> {
  const address = target.address ?? target.host;
  return new Promise((resolve, reject) => {
    if (!jump.isConnected()) {
      reject(new Error('jump connection is not open'));
      return;
    }
    jump.client.forwardOut('127.0.0.1', 0, address, target.port, (error, channel) => {
      if (error) {
        const jumpHost = target.jump?.host ?? '?';
        reject(
          new SshConnectError({
            host: target.host,
            port: target.port,
            address,
            user: target.user,
            reason: 'unreachable',
            cause: new Error(
              `jump host ${jumpHost} could not open a channel to ${address}:${target.port}: ${error.message}`,
              { cause: error },
            ),
          }),
        );
        return;
      }
      resolve(channel);
    });
  });
}

async function openDirect(
  target: Omit<SshTarget, 'jump'>,
  options: ConnectOptions,
  sock?: Duplex,
): Promise<SshConnection> {
  const address = target.address ?? target.host;
  const name = knownHostsName(target.host, target.port);
  const knownHosts = await loadKnownHosts(options.knownHostsFile);
  const verdict: { refusal?: HostKeyError } = {};
  const login: PublicKeyAuthMethod = { type: 'publickey', username: target.user, key: options.privateKey };
  let ssh: SshConnection;
  try {
    ssh = await connectClient(
      {
        host: address,
        port: target.port,
        username: target.user,
        // Key authentication only, with the key parsed once (no agent, password or keyboard).
        authHandler: [login],
        readyTimeout: options.connectTimeoutMs,
        keepaliveInterval: options.keepaliveIntervalMs,
        keepaliveCountMax: 3,
        algorithms: { serverHostKey: preferPinnedAlgorithms(knownHosts, name) },
        hostVerifier: (key: Buffer): boolean => {
          const refusal = refuseHostKey(knownHosts, name, key, target, options.knownHostsFile);
          if (refusal === null) return true;
          // ssh2 only reports "verification failed"; keep the reason so run() can reject with it.
          verdict.refusal = refusal;
          return false;
        },
      },
      sock,
    );
  } catch (error) {
    if (verdict.refusal !== undefined) throw verdict.refusal;
    throw new SshConnectError({
      host: target.host,
      port: target.port,
      address,
      user: target.user,
      reason: classifyConnectFailure(error),
      cause: error,
    });
  }
  // Without TCP_NODELAY each exec round trip waits on Nagle's algorithm (~90 ms on loopback).
  ssh.client.setNoDelay(true);
  return ssh;
}

/** The last parse of each known_hosts file: the file's identity and times, its text, when it was read. */
const parsedKnownHosts = new Map<
  string,
  { version: string; settled: boolean; text: string; parsed: KnownHosts }
>();

/** A file changed this recently before it was read may change again within its timestamps' grain
 * (the kernel stamps files from a coarse clock): its stat is not trusted, the text is read again. */
const RACY_MS = 1_000;

/**
 * Looked at on every new connection, so a key pinned (or revoked) after an RMA is used without a
 * restart: one stat, and the file is read again only when its inode, size, modification or change
 * time moved, or when it had changed within a second of the last read (then the same stat can
 * hide a second write, as git's "racily clean" index entries). A batch opens a connection per
 * check; reading the file each time cost an open, a read and a close per connection. A text that
 * did not change keeps its parse.
 */
async function loadKnownHosts(file: string): Promise<KnownHosts> {
  try {
    const stats = await stat(file, { bigint: true });
    const version = `${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
    const cached = parsedKnownHosts.get(file);
    if (cached?.settled && cached.version === version) return cached.parsed;
    const readAt = Date.now();
    const text = await readFile(file, 'utf8');
    const parsed = cached?.text === text ? cached.parsed : parseKnownHosts(text);
    const changed = Math.max(Number(stats.mtimeMs), Number(stats.ctimeMs));
    parsedKnownHosts.set(file, { version, settled: changed < readAt - RACY_MS, text, parsed });
    return parsed;
  } catch (error) {
    // A missing file pins nothing: every host is then refused as unknown, with the file named.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], invalidLines: [] };
    throw error;
  }
}

function refuseHostKey(
  knownHosts: KnownHosts,
  name: string,
  key: Buffer,
  target: Omit<SshTarget, 'jump'>,
  knownHostsFile: string,
): HostKeyError | null {
  const check = checkHostKey(knownHosts, name, key);
  const fields = {
    host: target.host,
    port: target.port,
    fingerprint: sha256Fingerprint(key),
    keyType: keyTypeOfBlob(key) ?? 'unknown',
    knownHostsName: name,
    knownHostsFile,
  };
  switch (check.status) {
    case 'trusted':
      return null;
    case 'revoked':
      return new HostKeyRevokedError(fields);
    case 'unknown':
      return new HostKeyUnknownError(fields);
    case 'changed':
      return new HostKeyChangedError({ ...fields, knownFingerprints: check.knownFingerprints });
  }
}

/**
 * Ask first for the key types pinned for this name, as OpenSSH does: a host with both an RSA and
 * an ed25519 key, pinned by its RSA key, should show us the RSA key rather than fail as changed.
 */
export function preferPinnedAlgorithms(knownHosts: KnownHosts, name: string): ServerHostKeyAlgorithm[] {
  const preferred = pinnedKeys(knownHosts, name).flatMap((entry) =>
    entry.keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [entry.keyType],
  );
  const supported = DEFAULT_HOST_KEY_ALGORITHMS.filter((algorithm) => preferred.includes(algorithm));
  return [...new Set([...supported, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}
