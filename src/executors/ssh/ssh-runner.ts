// Runs shell commands on production machines over SSH: pooled, host-key-verified connections per
// host, port and user (a second one opens beside a busy one rather than queueing behind it; an idle
// one closes); every command bounded by `timeout` on the remote side and by a client-side deadline
// that drops the connection if the remote side stops answering.
import type { Logger } from 'pino';
import { quote } from 'shell-quote';
import type { ParsedKey } from 'ssh2';
import type { CommandResult, CommandRunner, SshTarget } from '../types.js';
import { readClientKey } from './client-key.js';
import { openConnection, type ConnectOptions } from './connect.js';
import type { SshConnection } from './connection.js';
import { classifyConnectFailure, SshConnectError, type SshConnectFailure } from './errors.js';
import { HostsFile } from './hosts-file.js';
import { OutputTail } from './output-tail.js';
import { SessionPool, type PooledConnection } from './session-pool.js';

export interface SshRunnerOptions {
  /** Path to a private key file, or the PEM/OpenSSH text itself. */
  privateKey: string;
  /** The only source of trust for host keys; see known-hosts.ts for what is understood. */
  knownHostsFile: string;
  /** Bytes kept per stream (the tail); default 64 KiB. */
  maxOutputBytes?: number;
  /** Whole handshake (TCP, key exchange, auth); default 20 s. */
  connectTimeoutMs?: number;
  logger?: Logger;
  /** How long past the remote `timeout` the client waits before dropping the connection; default 10 s. */
  deadlineGraceMs?: number;
  /** SSH keepalive; three unanswered ones drop the connection. Default 15 s. */
  keepaliveIntervalMs?: number;
  /** Concurrent commands per connection, under sshd's MaxSessions (default 10); default 8. */
  maxSessionsPerConnection?: number;
  /** Connections per user@host:port when every open one is busy (a site manager); default 16. */
  maxConnectionsPerHost?: number;
  /** A connection with nothing running closes after this long; default 60 s. */
  idleMs?: number;
  /** RUNBOT_HOSTS_FILE: addresses of names the inventory gives no `address` (hosts-file.ts). */
  hostsFile?: string | undefined;
}

/**
 * `timeout` exits 124 after TERM. When `-k` has to follow up it KILLs its whole process group,
 * itself included: sshd then reports signal KILL (or a wrapping shell reports 137).
 */
const TIMEOUT_EXIT_CODES = new Set([124, 137]);
const KILL_AFTER_SECONDS = 5;

/** `timeout -k 5 N sh -c '<command>'`: the remote side ends the command even if we vanish. */
export function wrapWithTimeout(command: string, timeoutSeconds: number): string {
  return `timeout -k ${KILL_AFTER_SECONDS} ${timeoutSeconds} ${quote(['sh', '-c', command])}`;
}

/**
 * A connection is shared by commands for one user@host:port (up to `maxSessionsPerConnection` at
 * once); when all are full another opens, up to `maxConnectionsPerHost`, then runs wait. When a command passes its client-side deadline the whole connection is dropped, so
 * commands sharing it end with `exitCode: null`; a hung connection would have stalled them anyway.
 * Output is kept as a tail of `maxOutputBytes` per stream as it arrives (output-tail.ts).
 */
export class SshRunner implements CommandRunner {
  private readonly pool: SessionPool<SshConnection>;
  private privateKey: Promise<ParsedKey | Error> | undefined;
  private closed = false;
  private readonly maxOutputBytes: number;
  private readonly deadlineGraceMs: number;
  private readonly hosts: HostsFile | undefined;
  private readonly logger: Logger | undefined;

  constructor(private readonly options: SshRunnerOptions) {
    this.maxOutputBytes = options.maxOutputBytes ?? 64 * 1024;
    this.deadlineGraceMs = options.deadlineGraceMs ?? 10_000;
    this.pool = new SessionPool({
      maxSessions: options.maxSessionsPerConnection ?? 8,
      maxConnections: options.maxConnectionsPerHost ?? 16,
      idleMs: options.idleMs ?? 60_000,
      dispose: (ssh) => ssh.end(),
    });
    this.hosts = options.hostsFile === undefined ? undefined : new HostsFile(options.hostsFile);
    this.logger = options.logger?.child({ component: 'ssh' });
  }

  async run(named: SshTarget, command: string, options: { timeoutSeconds: number }): Promise<CommandResult> {
    const { timeoutSeconds } = options;
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
      throw new RangeError(`timeoutSeconds must be a positive number, got ${timeoutSeconds}`);
    }
    if (this.closed) throw new Error('SshRunner is closed');
    const target = this.hosts ? await this.hosts.resolve(named) : named;
    const key = poolKey(target);
    const pooled = await this.pool.slot(key);
    try {
      return await this.runOnPool(pooled, target, command, timeoutSeconds);
    } finally {
      this.pool.release(key, pooled);
    }
  }

  /** Connections open or opening now (the benchmark reports it). */
  openConnections(): number {
    return this.pool.openConnections();
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.pool.clear();
    await Promise.all(pending.map((ssh) => ssh.then((connected) => connected.end()).catch(() => undefined)));
  }

  private async runOnPool(
    pooled: PooledConnection<SshConnection>,
    target: SshTarget,
    command: string,
    timeoutSeconds: number,
  ): Promise<CommandResult> {
    const ssh = await this.connection(pooled, target);
    try {
      return await this.execute(ssh, target, command, timeoutSeconds);
    } catch (error) {
      // No channel, so nothing ran. A refusal on a live connection is final; a dead connection
      // (the host rebooted, a firewall dropped it while idle) gets one fresh try. The command
      // could only have started if the server got the exec request, which a broken pipe prevents.
      if (isChannelRefusal(error)) throw startFailure(target, 'protocol', error);
      this.drop(ssh);
      this.logger?.info(
        { host: target.host, port: target.port, err: error },
        'ssh reconnecting after a dropped connection',
      );
    }
    const fresh = await this.connection(pooled, target);
    try {
      return await this.execute(fresh, target, command, timeoutSeconds);
    } catch (error) {
      this.drop(fresh);
      throw startFailure(target, classifyConnectFailure(error), error);
    }
  }

  private async execute(
    ssh: SshConnection,
    target: SshTarget,
    command: string,
    timeoutSeconds: number,
  ): Promise<CommandResult> {
    const stdout = new OutputTail(this.maxOutputBytes);
    const stderr = new OutputTail(this.maxOutputBytes);
    const started = performance.now();
    const execution = ssh.exec(
      wrapWithTimeout(command, timeoutSeconds),
      (chunk) => stdout.push(chunk),
      (chunk) => stderr.push(chunk),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), timeoutSeconds * 1000 + this.deadlineGraceMs);
    });
    const outcome = await Promise.race([execution, deadline]).finally(() => clearTimeout(timer));
    const durationMs = Math.round(performance.now() - started);
    const captured = {
      stdout: stdout.text(),
      stderr: stderr.text(),
      durationMs,
      truncated: stdout.truncated || stderr.truncated,
    };
    if (outcome === 'deadline') {
      this.logger?.warn(
        { host: target.host, port: target.port, timeoutSeconds },
        'ssh deadline passed, dropping connection',
      );
      execution.catch(() => undefined);
      this.drop(ssh);
      return { ...captured, exitCode: null, timedOut: true };
    }
    // `timeout` ran out only if at least N seconds passed here (its clock starts after ours).
    const endedByTimeout =
      (outcome.code !== null && TIMEOUT_EXIT_CODES.has(outcome.code)) || outcome.signal === 'SIGKILL';
    const timedOut = endedByTimeout && durationMs >= timeoutSeconds * 1000;
    if (outcome.code === null) {
      this.logger?.warn(
        { host: target.host, port: target.port, signal: outcome.signal },
        'ssh command ended without exit code',
      );
    }
    return { ...captured, exitCode: timedOut ? null : outcome.code, timedOut };
  }

  /**
   * The live connection of this pool entry, opening one when there is none or it dropped.
   * Concurrent callers share one attempt, and all of them see its error if it fails.
   */
  private async connection(
    pooled: PooledConnection<SshConnection>,
    target: SshTarget,
  ): Promise<SshConnection> {
    const pending = pooled.ssh;
    if (pending !== null) {
      const ssh = await pending;
      if (ssh.isConnected()) return ssh;
      if (pooled.ssh === pending) pooled.ssh = null;
    }
    if (pooled.ssh === null) {
      const attempt = this.connect(target);
      pooled.ssh = attempt;
      // Registered before any waiter's handler, so a caller arriving after a failure tries afresh.
      attempt.catch(() => {
        if (pooled.ssh === attempt) pooled.ssh = null;
      });
    }
    return pooled.ssh;
  }

  private async connect(target: SshTarget): Promise<SshConnection> {
    const fields = {
      host: target.host,
      address: target.address ?? target.host,
      port: target.port,
      user: target.user,
    };
    const privateKey = await this.loadPrivateKey();
    try {
      // A key that does not parse fails each connection as ssh2's connect did (protocol).
      if (privateKey instanceof Error) throw startFailure(target, 'protocol', privateKey);
      const connectOptions: ConnectOptions = {
        privateKey,
        knownHostsFile: this.options.knownHostsFile,
        connectTimeoutMs: this.options.connectTimeoutMs ?? 20_000,
        keepaliveIntervalMs: this.options.keepaliveIntervalMs ?? 15_000,
      };
      const ssh = await openConnection(target, connectOptions);
      // Without a listener, a late socket error on an idle pooled connection would crash the process.
      ssh.client.on('error', (error) => this.logger?.warn({ ...fields, err: error }, 'ssh connection error'));
      ssh.client.on('close', () => this.logger?.debug(fields, 'ssh connection closed'));
      this.logger?.debug(fields, 'ssh connected');
      return ssh;
    } catch (error) {
      this.logger?.warn({ ...fields, err: error }, 'ssh connect failed');
      throw error;
    }
  }

  /** Ends the connection hard (the peer may not be answering) and forgets it. */
  private drop(ssh: SshConnection): void {
    ssh.destroy();
  }

  /**
   * Read and parsed once per runner, as the file was read once before: a key replaced on disk is
   * used from the next start. A failed read or parse is not kept, so fixing the file is enough.
   */
  private loadPrivateKey(): Promise<ParsedKey | Error> {
    if (this.privateKey !== undefined) return this.privateKey;
    const loading = readClientKey(this.options.privateKey);
    this.privateKey = loading;
    const forget = (): void => {
      if (this.privateKey === loading) this.privateKey = undefined;
    };
    loading.then((key) => {
      if (key instanceof Error) forget();
    }, forget);
    return loading;
  }
}

/** sshd said no to the channel (e.g. MaxSessions); the connection itself is fine. */
function isChannelRefusal(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('(SSH) Channel open failure');
}

function startFailure(target: SshTarget, reason: SshConnectFailure, cause: unknown): SshConnectError {
  const address = target.address ?? target.host;
  return new SshConnectError({
    host: target.host,
    port: target.port,
    address,
    user: target.user,
    reason,
    cause,
  });
}

function poolKey(target: SshTarget): string {
  // The host name is part of the key: two names on one address are verified separately.
  const via = target.jump
    ? ` via ${target.jump.user}@${target.jump.host}/${target.jump.address ?? target.jump.host}:${target.jump.port}`
    : '';
  return `${target.user}@${target.host}/${target.address ?? target.host}:${target.port}${via}`;
}
