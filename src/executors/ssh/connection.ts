// One SSH connection of the node-ssh transport, driven through ssh2's Client directly: connect with
// a verified host key and a parsed client key, run commands on session channels, end or drop.
// Three costs of ssh2's defaults are cut here (docs/operations.md, "SSH connections"):
// - ssh2 writes each packet to the socket in three pieces (length, ciphertext, tag), each its own
//   send(2) and, with TCP_NODELAY, its own TCP segment: the socket gathers what one tick writes and
//   sends it with one writev(2) (`coalescingSocket`);
// - after login, OpenSSH's sshd announces its other host keys (`hostkeys-00@openssh.com`, for
//   UpdateHostKeys) and ssh2 asks it to prove them, then checks a signature per key, on every
//   connection: nothing here uses those keys (known_hosts is the only trust and is never written),
//   so the announcement is acknowledged as ssh2 does and the proof never asked for
//   (`ignoreHostKeyAnnouncements`);
// - node-ssh's wrappers (argument asserts, output decoded and joined a second time, an Error made
//   at every close) are not used.
import { Socket } from 'node:net';
import process from 'node:process';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client, ConnectConfig } from 'ssh2';

interface ExecOutcome {
  /** The remote exit status; null when the channel closed without one (a signal, a dropped connection). */
  code: number | null;
  signal: string | null;
}

export class SshConnection {
  private open = true;

  constructor(readonly client: Client) {
    const closed = (): void => {
      this.open = false;
    };
    client.on('end', closed);
    client.on('close', closed);
  }

  /** False once the connection ended, closed, or was ended here. */
  isConnected(): boolean {
    return this.open;
  }

  /**
   * Runs `command` on a new session channel (stdin closed at once), passing output chunks on as
   * they come, and settles when the channel closes. Rejects when no channel could be had: sshd said
   * no (a `(SSH) Channel open failure`), or the connection failed first ("Not connected").
   */
  exec(
    command: string,
    onStdout: (chunk: Buffer) => void,
    onStderr: (chunk: Buffer) => void,
  ): Promise<ExecOutcome> {
    const { client } = this;
    return new Promise<ExecOutcome>((resolve, reject) => {
      // A connection error before the channel is ours fails this command with that error.
      client.on('error', reject);
      client.exec(command, {}, (error, channel) => {
        client.removeListener('error', reject);
        if (error) {
          reject(error);
          return;
        }
        const outcome: ExecOutcome = { code: null, signal: null };
        channel.on('data', onStdout);
        channel.stderr.on('data', onStderr);
        channel.on('exit', (code: number | null, signal?: string) => {
          outcome.code = code ?? null;
          outcome.signal = signal ?? null;
        });
        channel.on('close', () => resolve(outcome));
        channel.end();
      });
    });
  }

  /** Ends the connection politely (a disconnect message, then FIN). */
  end(): void {
    if (!this.open) return;
    this.open = false;
    this.client.end();
  }

  /** Ends it hard, the peer perhaps not answering. */
  destroy(): void {
    this.end();
    this.client.destroy();
  }
}

/**
 * Connects `client` and resolves when it is logged in. Over `sock` (a jump host's channel) when
 * given, else over a socket of our own to `host`:`port`. Rejects with ssh2's error (its `level`
 * tells unreachable, timeout and auth apart), or, when the connection closed before login without
 * one, with "No response from server" (code ETIMEDOUT), as node-ssh did.
 */
export function connectClient(
  config: ConnectConfig & { host: string; port: number },
  sock?: Duplex,
): Promise<SshConnection> {
  const client = new ssh2.Client();
  return new Promise<SshConnection>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    client.on('error', fail);
    client.on('close', () => {
      if (settled) return;
      fail(Object.assign(new Error('No response from server'), { code: 'ETIMEDOUT' }));
    });
    // `fail` stays a listener: an error emitted after login (in the same read as the login's
    // answer, before the caller adds its own) must not go unhandled; after `ready` it does nothing.
    client.on('ready', () => {
      settled = true;
      resolve(new SshConnection(client));
    });
    // ssh2 takes a socket that is still connecting and waits for it; the dial is the same one ssh2
    // would make itself (net.Socket.connect, name resolved by getaddrinfo).
    const socket = sock ?? coalescingSocket().connect({ host: config.host, port: config.port });
    client.connect({ ...config, sock: socket });
    ignoreHostKeyAnnouncements(client);
  }).catch((error: unknown) => {
    client.destroy();
    throw error;
  });
}

/** A socket whose writes within one tick leave in one writev(2); `end()` flushes first (Node uncorks). */
function coalescingSocket(): Socket {
  const socket = new Socket();
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const flush = (): void => {
    corked = false;
    socket.uncork();
  };
  socket.write = (...args: unknown[]): boolean => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(flush);
    }
    return write(...args);
  };
  return socket;
}

const HOSTKEYS_ANNOUNCEMENT = 'hostkeys-00@openssh.com';

type GlobalRequestHandler = (protocol: unknown, name: string, wantReply: boolean, data: unknown) => void;

interface ProtocolInternals {
  _handlers?: { GLOBAL_REQUEST?: GlobalRequestHandler };
  requestSuccess?: () => void;
}

/**
 * Replaces ssh2's handler for the server's global requests (its Client keeps it on the connection's
 * protocol object, `_protocol._handlers`, which ssh2 1.x does not document) with one that answers
 * `hostkeys-00@openssh.com` as ssh2 does but without asking for proofs; every other request goes
 * to ssh2's handler. Called right after `client.connect()`, before any packet is read. Should ssh2's
 * internals change, ssh2's own handler stays (test/integration/ssh-client-key.test.ts reads sshd's
 * log to see that no proof is asked for).
 */
function ignoreHostKeyAnnouncements(client: Client): void {
  const protocol = (client as unknown as { _protocol?: ProtocolInternals })._protocol;
  const handlers = protocol?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (handlers === undefined || typeof original !== 'function') return;
  const replacement: GlobalRequestHandler = (p, name, wantReply, data) => {
    if (name !== HOSTKEYS_ANNOUNCEMENT) {
      original(p, name, wantReply, data);
      return;
    }
    if (wantReply) protocol?.requestSuccess?.();
  };
  handlers.GLOBAL_REQUEST = replacement;
}
