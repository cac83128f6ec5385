// A real OpenSSH server on a loopback port for the SSH benchmark: the approach of
// test/support/sshd.ts (fresh host and client keys in a temp dir, key auth only, known_hosts pinning
// the host key), in plain JS so `npm run bench` needs no TypeScript loader. Needs root (privilege
// separation) and Debian's openssh-server. Stopped by PID, sessions first.
import process from 'node:process';
import { setTimeout, clearTimeout } from 'node:timers';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function startSshd() {
  const dir = await mkdtemp(join(tmpdir(), 'runbot-bench-sshd-'));
  try {
    return await startIn(dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startIn(dir) {
  const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
  const clientKeyPath = join(dir, 'client_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'runbot-bench-host', '-f', hostKeyPath]);
  await run('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'runbot-bench-client',
    '-f',
    clientKeyPath,
  ]);
  const hostKeyPublic = (await readFile(`${hostKeyPath}.pub`, 'utf8')).trim();
  const authorizedKeysPath = join(dir, 'authorized_keys');
  await writeFile(authorizedKeysPath, await readFile(`${clientKeyPath}.pub`, 'utf8'), { mode: 0o600 });
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  let lastError;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const configPath = join(dir, 'sshd_config');
    await writeFile(configPath, sshdConfig({ port, dir, hostKeyPath, authorizedKeysPath }));
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk) => output.push(chunk.toString()));
    try {
      await waitForBanner(port, child, output);
    } catch (error) {
      lastError = error;
      await stopProcess(child);
      continue;
    }
    const knownHostsPath = join(dir, 'known_hosts');
    await writeFile(knownHostsPath, `[127.0.0.1]:${port} ${hostKeyPublic}\n`);
    return {
      port,
      host: '127.0.0.1',
      user: userInfo().username,
      pid: child.pid,
      clientKeyPath,
      knownHostsPath,
      dir,
      log: () => output.join(''),
      async stop() {
        for (const childPid of await childPids(child.pid)) process.kill(childPid, 'SIGTERM');
        await stopProcess(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`sshd did not start: ${String(lastError)}`);
}

function sshdConfig({ port, dir, hostKeyPath, authorizedKeysPath }) {
  return [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${hostKeyPath}`,
    `AuthorizedKeysFile ${authorizedKeysPath}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'MaxSessions 20',
    // Many cold logins in a row: the defaults (10:30:100) would start refusing them.
    'MaxStartups 100',
    'LogLevel ERROR',
    '',
  ].join('\n');
}

async function childPids(parent) {
  try {
    const { stdout } = await run('pgrep', ['-P', String(parent)]);
    return stdout.trim().split('\n').map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForBanner(port, child, output) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`sshd exited: ${output.join('')}`);
    if (await readsBanner(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not answer on port ${port} within 10 s: ${output.join('')}`);
}

function readsBanner(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk) => done(chunk.toString('latin1').startsWith('SSH-2.0-')));
  });
}

/** TERM by pid, KILL if it lingers, and wait for the exit either way. */
export async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const killTimer = setTimeout(() => {
    if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(killTimer);
}
