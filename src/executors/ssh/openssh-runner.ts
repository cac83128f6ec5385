// The openssh transport: runs commands through the OpenSSH client, for sites whose hosts prove
// themselves with host certificates (`@cert-authority` in known_hosts) or where the bot logs in
// with a user certificate — ssh2, under node-ssh, negotiates neither. Same guarantees as SshRunner:
// strict host key checking against the same known_hosts, `timeout -k 5 N` on the remote side and a
// client-side kill, capped output tails, classified errors. One ControlMaster per user@host:port
// (ControlPersist, so a master orphaned by a crash still ends once idle), in a private directory;
// every command is a mux client of it. ssh is always spawned with an argv array, never a shell.
// Over 300 lines on purpose: one class holds the lifecycle of its ControlMasters (start, reuse, the
// jump hosts' order, stop on close) and the commands run through them; the pieces that stand alone
// already live apart (openssh-config.ts, openssh-diagnose.ts, output-tail.ts, known-hosts.ts).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { CommandResult, CommandRunner, JumpHost, SshTarget } from '../types.js';
import { SshConnectError } from './errors.js';
import { parseKnownHosts } from './known-hosts.js';
import { checkOpensshPaths, opensshConfig, TARGET_ALIAS } from './openssh-config.js';
import { diagnoseOpensshFailure, lastWords, type OpensshHop } from './openssh-diagnose.js';
import { HostsFile } from './hosts-file.js';
import { OutputTail } from './output-tail.js';
import { wrapWithTimeout } from './ssh-runner.js';

export interface OpensshRunnerOptions {
  /** Path to the private key file, or the PEM/OpenSSH text itself (then written to the private dir). */
  privateKey: string;
  /** The key's OpenSSH certificate (`ssh-keygen -s … id.pub` makes `id-cert.pub`), if any. */
  certificate?: string | undefined;
  knownHostsFile: string;
  /** Bytes kept per stream (the tail); default 64 KiB. */
  maxOutputBytes?: number;
  /** TCP connect and handshake; default 20 s. */
  connectTimeoutMs?: number;
  /** How long past the remote `timeout` the client waits before killing ssh; default 10 s. */
  deadlineGraceMs?: number;
  /** ServerAliveInterval; three unanswered ones end the master. Default 15 s. */
  keepaliveIntervalMs?: number;
  /** ControlPersist: an idle master ends after this long (also when runbot died); default 600 s. */
  idleSeconds?: number;
  /** The ssh binary; default `ssh` from PATH. */
  sshBinary?: string;
  /** RUNBOT_HOSTS_FILE: the HostName of names the inventory gives no `address` (hosts-file.ts). */
  hostsFile?: string | undefined;
  logger?: Logger;
}

/** `timeout` exits 124 after TERM; a mux client reports a command killed by a signal as 255. */
const TIMEOUT_EXIT_CODES = new Set([124, 137, 255]);

interface Master {
  hop: OpensshHop;
  jump: Master | undefined;
  dir: string;
  configPath: string;
  controlPath: string;
  /** The backgrounded master's pid (from `ssh -O check`); null until connected. */
  pid: number | null;
  /** The attempt under way or done; null when the next run must connect. */
  ready: Promise<void> | null;
}

export class OpensshRunner implements CommandRunner {
  private readonly masters = new Map<string, Master>();
  private dir: Promise<string> | undefined;
  private closed = false;
  private readonly maxOutputBytes: number;
  private readonly deadlineGraceMs: number;
  private readonly ssh: string;
  private readonly logger: Logger | undefined;
  private runs = 0;
  private readonly hosts: HostsFile | undefined;

  constructor(private readonly options: OpensshRunnerOptions) {
    this.maxOutputBytes = options.maxOutputBytes ?? 64 * 1024;
    this.deadlineGraceMs = options.deadlineGraceMs ?? 10_000;
    this.ssh = options.sshBinary ?? 'ssh';
    this.hosts = options.hostsFile === undefined ? undefined : new HostsFile(options.hostsFile);
    this.logger = options.logger?.child({ component: 'ssh', transport: 'openssh' });
    checkOpensshPaths({
      RUNBOT_KNOWN_HOSTS: options.knownHostsFile,
      RUNBOT_SSH_KEY: options.privateKey.includes('-----BEGIN') ? undefined : options.privateKey,
      RUNBOT_SSH_CERT: options.certificate,
    });
  }

  async run(named: SshTarget, command: string, options: { timeoutSeconds: number }): Promise<CommandResult> {
    const { timeoutSeconds } = options;
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
      throw new RangeError(`timeoutSeconds must be a positive number, got ${timeoutSeconds}`);
    }
    if (this.closed) throw new Error('OpensshRunner is closed');
    const target = this.hosts ? await this.hosts.resolve(named) : named;
    const master = await this.connected(target);
    return this.execute(master, command, timeoutSeconds);
  }

  /** The pid of the master serving `target`, if one is up (tests check pooling with it). */
  masterPid(target: SshTarget): number | null {
    return this.masters.get(poolKey(target))?.pid ?? null;
  }

  /** Ends every master (`ssh -O exit`, then by pid if it lingers) and removes the private dir. */
  async close(): Promise<void> {
    this.closed = true;
    const masters = [...this.masters.values()];
    this.masters.clear();
    // Targets first: their masters ride on the jump hosts' ones.
    const ordered = [
      ...masters.filter((m) => !isJump(m, masters)),
      ...masters.filter((m) => isJump(m, masters)),
    ];
    for (const master of ordered) await this.stopMaster(master);
    const dir = await this.dir?.catch(() => undefined);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }

  private async execute(master: Master, command: string, timeoutSeconds: number): Promise<CommandResult> {
    this.runs += 1;
    const logPath = path.join(master.dir, `run-${this.runs}.log`);
    const stdout = new OutputTail(this.maxOutputBytes);
    const stderr = new OutputTail(this.maxOutputBytes);
    const started = performance.now();
    // -E keeps ssh's own messages out of the command's stderr; -n: no stdin.
    const child = spawn(
      this.ssh,
      [
        '-F',
        master.configPath,
        '-E',
        logPath,
        '-n',
        '-o',
        'ControlMaster=no',
        '--',
        TARGET_ALIAS,
        wrapWithTimeout(command, timeoutSeconds),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), timeoutSeconds * 1000 + this.deadlineGraceMs);
    });
    const ended = new Promise<{ code: number | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, error }));
      child.once('close', (code) => resolve({ code }));
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const outcome = await Promise.race([ended, deadline]).finally(() => clearTimeout(timer));
    if (outcome === 'deadline') {
      this.logger?.warn(
        { host: master.hop.host, port: master.hop.port, timeoutSeconds },
        'ssh deadline passed, dropping connection',
      );
      // The mux client handed its stdout and stderr to the master, so they close only when the
      // master does: wait for the client's exit, not for its streams, then end the master.
      child.kill('SIGKILL');
      await exited;
      child.stdout.destroy();
      child.stderr.destroy();
      await this.stopMaster(master);
    }
    const durationMs = Math.round(performance.now() - started);
    const log = await readFile(logPath, 'utf8').catch(() => '');
    await unlink(logPath).catch(() => undefined);
    const captured = {
      stdout: stdout.text(),
      stderr: stderr.text(),
      durationMs,
      truncated: stdout.truncated || stderr.truncated,
    };
    if (outcome === 'deadline') return { ...captured, exitCode: null, timedOut: true };
    if (outcome.error) throw this.startFailure(master.hop, outcome.error);
    if (outcome.code === 255 && ownWords(log) !== '') {
      // ssh itself failed. If the master was gone, ssh tried on its own and may have been refused
      // (a host key, a certificate): nothing ran, so that is an error. Otherwise the connection
      // broke under the command: like node-ssh, the command ends without an exit code.
      await this.stopMaster(master);
      const failure = this.diagnose(log, master);
      if (!(failure instanceof SshConnectError) || failure.reason === 'auth') throw failure;
      this.logger?.warn(
        { host: master.hop.host, port: master.hop.port, err: failure },
        'ssh connection lost',
      );
      return { ...captured, exitCode: null, timedOut: false };
    }
    // `timeout` ran out only if at least N seconds passed here (its clock starts after ours).
    const timedOut =
      outcome.code !== null && TIMEOUT_EXIT_CODES.has(outcome.code) && durationMs >= timeoutSeconds * 1000;
    return { ...captured, exitCode: timedOut ? null : outcome.code, timedOut };
  }

  /** The master for `target`, connecting it (and its jump host's) when there is none or it ended. */
  private async connected(target: SshTarget): Promise<Master> {
    const dir = await this.privateDir();
    const jump = target.jump ? await this.connected(jumpAsTarget(target.jump)) : undefined;
    const master = this.masterFor(target, dir);
    master.jump = jump;
    // A master ends by itself when idle (ControlPersist) or when its connection drops: reconnect
    // once; one that ends again at once is not worth a loop.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if (master.ready === null) {
        const starting = this.startMaster(master);
        master.ready = starting;
        // Registered before any waiter's handler, so a caller arriving after a failure tries afresh.
        starting.catch(() => {
          if (master.ready === starting) master.ready = null;
        });
      }
      const ready = master.ready;
      await ready;
      if (master.pid !== null && isAlive(master.pid)) return master;
      if (master.ready === ready) master.ready = null;
      this.logger?.info({ host: master.hop.host, port: master.hop.port }, 'ssh master ended, reconnecting');
    }
    throw this.startFailure(master.hop, new Error('the ssh master ended right after it connected'));
  }

  private masterFor(target: SshTarget, dir: string): Master {
    const key = poolKey(target);
    let master = this.masters.get(key);
    if (master === undefined) {
      const id = createHash('sha256').update(key).digest('hex').slice(0, 16);
      master = {
        hop: hopOf(target),
        jump: undefined,
        dir,
        configPath: path.join(dir, `${id}.conf`),
        controlPath: path.join(dir, `${id}.sock`),
        pid: null,
        ready: null,
      };
      this.masters.set(key, master);
    }
    return master;
  }

  private async startMaster(master: Master): Promise<void> {
    master.pid = null;
    let config: string;
    try {
      config = this.config(master);
    } catch (error) {
      // An inventory value ssh_config cannot hold: the step fails with the reason on the ticket.
      throw this.startFailure(master.hop, error);
    }
    await writeFile(master.configPath, config, { mode: 0o600 });
    // A socket left by a master that died would make the new one give up multiplexing.
    await unlink(master.controlPath).catch(() => undefined);
    const idle = this.options.idleSeconds ?? 600;
    const fields = { host: master.hop.host, address: master.hop.address, port: master.hop.port };
    // With ControlPersist and -N, ssh forks the master into the background once logged in and
    // the process we started exits 0; on failure it exits 255 and its stderr says why.
    const { code, output } = await this.spawnCollect(
      [
        '-F',
        master.configPath,
        '-o',
        'LogLevel=DEBUG2',
        '-o',
        'ControlMaster=yes',
        '-o',
        `ControlPersist=${idle}`,
        '-N',
        '--',
        TARGET_ALIAS,
      ],
      (this.options.connectTimeoutMs ?? 20_000) + 10_000,
    );
    if (code !== 0) {
      const failure = this.diagnose(output, master);
      this.logger?.warn({ ...fields, err: failure }, 'ssh connect failed');
      throw failure;
    }
    const check = await this.spawnCollect(
      ['-F', master.configPath, '-O', 'check', '--', TARGET_ALIAS],
      10_000,
    );
    const pid = /pid=(\d+)/.exec(check.output)?.[1];
    if (pid === undefined) {
      throw this.startFailure(
        master.hop,
        new Error(`ssh master did not answer: ${lastWords(check.output, [])}`),
      );
    }
    master.pid = Number(pid);
    this.logger?.debug({ ...fields, pid: master.pid }, 'ssh connected');
  }

  private async stopMaster(master: Master): Promise<void> {
    const pid = master.pid;
    master.pid = null;
    master.ready = null;
    if (pid === null || !isAlive(pid)) return;
    await this.spawnCollect(['-F', master.configPath, '-O', 'exit', '--', TARGET_ALIAS], 5_000).catch(
      () => undefined,
    );
    // `-O exit` asks; the pid makes sure. Not our child, so its end is polled.
    for (let waited = 0; isAlive(pid) && waited < 3_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    this.logger?.debug({ host: master.hop.host, port: master.hop.port, pid }, 'ssh master stopped');
  }

  private config(master: Master): string {
    const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
    return opensshConfig({
      target: { ...master.hop, controlPath: master.controlPath },
      ...(master.jump ? { jump: { ...master.jump.hop, controlPath: master.jump.controlPath } } : {}),
      identityFile: this.identityFile(master.dir),
      certificateFile: this.options.certificate,
      knownHostsFile: this.options.knownHostsFile,
      connectTimeoutSeconds: seconds(this.options.connectTimeoutMs ?? 20_000),
      keepaliveIntervalSeconds: seconds(this.options.keepaliveIntervalMs ?? 15_000),
    });
  }

  private identityFile(dir: string): string {
    const { privateKey } = this.options;
    return privateKey.includes('-----BEGIN') ? path.join(dir, 'id') : privateKey;
  }

  private diagnose(log: string, master: Master) {
    return diagnoseOpensshFailure(log, {
      target: master.hop,
      knownHostsFile: this.options.knownHostsFile,
      knownHosts: () => {
        try {
          return parseKnownHosts(readFileSync(this.options.knownHostsFile, 'utf8'));
        } catch {
          return { entries: [], invalidLines: [] };
        }
      },
      redact: [master.dir, this.options.privateKey, this.options.certificate ?? ''],
    });
  }

  private startFailure(hop: OpensshHop, cause: unknown): SshConnectError {
    return new SshConnectError({
      host: hop.host,
      port: hop.port,
      address: hop.address,
      user: hop.user,
      reason: 'protocol',
      cause,
    });
  }

  /** Runs ssh to its end (or kills it at `limitMs`); resolves with its exit code and stderr+stdout. */
  private spawnCollect(args: string[], limitMs: number): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.ssh, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, output: Buffer.concat(chunks).toString('utf8') });
      });
    });
  }

  /** A 0700 directory of our own for sockets, configs and logs; a PEM key given as text goes here too. */
  private privateDir(): Promise<string> {
    this.dir ??= (async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'runbot-ssh-'));
      if (this.options.privateKey.includes('-----BEGIN')) {
        const text = this.options.privateKey.endsWith('\n')
          ? this.options.privateKey
          : `${this.options.privateKey}\n`;
        await writeFile(path.join(dir, 'id'), text, { mode: 0o600 });
      }
      return dir;
    })();
    return this.dir;
  }
}

/** ssh's own non-debug words in a client's -E log; empty when ssh had nothing to say. */
function ownWords(log: string): string {
  return lastWords(log, []);
}

function hopOf(target: Omit<SshTarget, 'jump'>): OpensshHop {
  return {
    host: target.host,
    address: target.address ?? target.host,
    port: target.port,
    user: target.user,
    knownHostsName: target.host.toLowerCase(),
  };
}

function jumpAsTarget(jump: JumpHost): SshTarget {
  return { ...jump, transport: 'openssh' };
}

function isJump(master: Master, all: Master[]): boolean {
  return all.some((other) => other.jump === master);
}

/**
 * Whether the master still runs. It is not our child (ssh daemonized it), so once it exits it is
 * reaped by init; a zombie still answers kill(pid, 0), so on Linux its state is read from /proc.
 */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function poolKey(target: SshTarget): string {
  const via = target.jump
    ? ` via ${target.jump.user}@${target.jump.host}/${target.jump.address ?? target.jump.host}:${target.jump.port}`
    : '';
  return `${target.user}@${target.host}/${target.address ?? target.host}:${target.port}${via}`;
}
