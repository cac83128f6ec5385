// Starts a real OpenSSH server on a loopback port for integration tests: fresh host and client
// keys in a temp dir, key auth only, and a known_hosts that pins the host key. Needs root
// (privilege separation) and Debian's openssh-server.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SshdOptions {
  /** Also pin the host key under these names (as `[name]:port`), for targets whose `host` is a logical name. */
  knownHostsNames?: string[];
}

export interface Sshd {
  port: number;
  host: '127.0.0.1';
  /** The user tests log in as: the current one (root, for sshd's privilege separation). */
  user: string;
  pid: number;
  clientKeyPath: string;
  knownHostsPath: string;
  /** The host key's public line, `ssh-ed25519 AAAA… comment`. */
  hostKeyPublic: string;
  hostKeyPublicPath: string;
  dir: string;
  /** sshd's log so far (it logs to stderr with -e). */
  log(): string;
  /** How many logins sshd has accepted so far. */
  acceptedLogins(): number;
  stop(): Promise<void>;
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'runbot-sshd-'));
  try {
    return await startIn(dir, options);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startIn(dir: string, options: SshdOptions): Promise<Sshd> {
  const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
  const clientKeyPath = join(dir, 'client_ed25519');
  await generateKey(hostKeyPath, 'runbot-test-host');
  await generateKey(clientKeyPath, 'runbot-test-client');
  const hostKeyPublic = (await readFile(`${hostKeyPath}.pub`, 'utf8')).trim();
  const authorizedKeysPath = join(dir, 'authorized_keys');
  await writeFile(authorizedKeysPath, await readFile(`${clientKeyPath}.pub`, 'utf8'), { mode: 0o600 });
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  // A free port can be taken between our probe and sshd's bind; try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const configPath = join(dir, 'sshd_config');
    await writeFile(configPath, sshdConfig({ port, dir, hostKeyPath, authorizedKeysPath }));
    const daemon = spawnSshd(configPath);
    try {
      await waitForBanner(port, daemon);
    } catch (error) {
      lastError = error;
      await stopProcess(daemon.child);
      continue;
    }
    const knownHostsPath = join(dir, 'known_hosts');
    const names = ['127.0.0.1', ...(options.knownHostsNames ?? [])].map((name) => `[${name}]:${port}`);
    await writeFile(knownHostsPath, `${names.join(',')} ${hostKeyPublic}\n`);
    const pid = daemon.child.pid;
    if (pid === undefined) throw new Error('sshd has no pid');
    return {
      port,
      host: '127.0.0.1',
      user: userInfo().username,
      pid,
      clientKeyPath,
      knownHostsPath,
      hostKeyPublic,
      hostKeyPublicPath: `${hostKeyPath}.pub`,
      dir,
      log: () => daemon.output.join(''),
      acceptedLogins: () => daemon.output.join('').match(/^Accepted publickey for /gm)?.length ?? 0,
      stop: async () => {
        // Sessions are children of the listener and outlive it; end them first, by pid.
        for (const childPid of await childPids(pid)) signalIfAlive(childPid, 'SIGTERM');
        await stopProcess(daemon.child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`sshd did not start: ${String(lastError)}`);
}

async function childPids(parent: number): Promise<number[]> {
  try {
    const { stdout } = await run('pgrep', ['-P', String(parent)]);
    return stdout.trim().split('\n').map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

async function generateKey(path: string, comment: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

function sshdConfig(paths: {
  port: number;
  dir: string;
  hostKeyPath: string;
  authorizedKeysPath: string;
}): string {
  return [
    `ListenAddress 127.0.0.1`,
    `Port ${paths.port}`,
    `HostKey ${paths.hostKeyPath}`,
    `AuthorizedKeysFile ${paths.authorizedKeysPath}`,
    `PidFile ${join(paths.dir, 'sshd.pid')}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'MaxSessions 20',
    'LogLevel INFO',
    '',
  ].join('\n');
}

function spawnSshd(configPath: string): { child: ChildProcess; output: string[] } {
  // sshd re-executes itself and insists on an absolute path.
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return { child, output };
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls until sshd accepts TCP and greets with `SSH-2.0-`, or fails fast if it exited. */
async function waitForBanner(port: number, daemon: { child: ChildProcess; output: string[] }): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) {
      throw new Error(`sshd exited: ${daemon.output.join('').trim()}`);
    }
    if (await readsBanner(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not answer on port ${port} within 10 s: ${daemon.output.join('').trim()}`);
}

async function readsBanner(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk: Buffer) => done(chunk.toString('latin1').startsWith('SSH-2.0-')));
  });
}

/** A session can end between listing it and signalling it; that is not an error. */
function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** TERM by pid, KILL if it lingers, and wait for the exit either way. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalIfAlive(child.pid, 'SIGTERM');
  const killTimer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) signalIfAlive(child.pid, 'SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(killTimer);
}
