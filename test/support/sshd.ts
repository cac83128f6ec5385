// Starts a real OpenSSH server on a loopback port for integration tests: fresh host and client
// keys in a temp dir, key auth only, and a known_hosts that pins the host key — or, with
// `hostCertificate`, a host certificate from a fresh host CA and a known_hosts holding only that
// CA's `@cert-authority` line; with `userCertificate`, a user CA sshd trusts (TrustedUserCAKeys)
// and a client certificate, and no authorized_keys entry. Needs root (privilege separation) and
// Debian's openssh-server.
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
  /** Serve a certificate for the host key (sshd HostCertificate), signed by a fresh host CA. */
  hostCertificate?: CertificateSpec;
  /** Trust a fresh user CA (TrustedUserCAKeys) and certify the client key with it, instead of authorized_keys. */
  userCertificate?: Partial<CertificateSpec>;
  /** sshd's LogLevel; DEBUG1 also logs each request a client makes (default INFO). */
  logLevel?: 'INFO' | 'DEBUG1';
}

/** What `ssh-keygen -s` puts in a certificate. */
export interface CertificateSpec {
  /** `-n`: host names (host certificates) or user names (user certificates). */
  principals: string[];
  /** `-V`, e.g. `-5m:+1h` (the default) or `20200101:20200102` for one long expired. */
  validity?: string;
  /** `-I`; defaults to the first principal. */
  identity?: string;
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
  /** With `hostCertificate`: the host CA's private key (sign again with `signHostKey`) and its `@cert-authority` line's key. */
  hostCa?: { keyPath: string; publicKey: string };
  /** With `userCertificate`: the client key's certificate (`<clientKeyPath>-cert.pub`). */
  clientCertPath?: string;
  /** Replaces the host certificate; sshd reads it on every new connection. */
  signHostKey(spec: CertificateSpec): Promise<void>;
  dir: string;
  /** sshd's log so far (it logs to stderr with -e). */
  log(): string;
  /** How many logins sshd has accepted so far. */
  acceptedLogins(): number;
  stop(): Promise<void>;
}

/** The SHA256 fingerprint of a public key file, as `ssh-keygen -lf` prints it. */
export async function fingerprintOf(publicKeyPath: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-lf', publicKeyPath]);
  const fingerprint = stdout.split(' ')[1];
  if (fingerprint === undefined) throw new Error(`no fingerprint in ${stdout}`);
  return fingerprint;
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
  const clientPublic = await readFile(`${clientKeyPath}.pub`, 'utf8');
  // With a user CA, the certificate is the only way in: authorized_keys stays empty.
  await writeFile(authorizedKeysPath, options.userCertificate ? '' : clientPublic, { mode: 0o600 });
  const certs = await makeCertificates(dir, hostKeyPath, clientKeyPath, options);
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  // A free port can be taken between our probe and sshd's bind; try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const configPath = join(dir, 'sshd_config');
    await writeFile(
      configPath,
      sshdConfig({
        port,
        dir,
        hostKeyPath,
        authorizedKeysPath,
        logLevel: options.logLevel ?? 'INFO',
        ...certs.sshdPaths,
      }),
    );
    const daemon = spawnSshd(configPath);
    try {
      await waitForBanner(port, daemon);
    } catch (error) {
      lastError = error;
      await stopProcess(daemon.child);
      continue;
    }
    const knownHostsPath = join(dir, 'known_hosts');
    const logical = ['127.0.0.1', ...(options.knownHostsNames ?? [])];
    const names = logical.map((name) => `[${name}]:${port}`);
    // The openssh transport checks keys and principals under the bare name (HostKeyAlias).
    await writeFile(
      knownHostsPath,
      certs.hostCa
        ? `@cert-authority ${logical.join(',')} ${certs.hostCa.publicKey}\n`
        : `${names.join(',')} ${hostKeyPublic}\n`,
    );
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
      ...(certs.hostCa ? { hostCa: certs.hostCa } : {}),
      ...(certs.clientCertPath ? { clientCertPath: certs.clientCertPath } : {}),
      signHostKey: async (spec) => {
        if (!certs.hostCa) throw new Error('sshd: started without hostCertificate, so it has no host CA');
        await signKey(certs.hostCa.keyPath, `${hostKeyPath}.pub`, spec, 'host');
      },
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

interface Certificates {
  hostCa?: { keyPath: string; publicKey: string };
  clientCertPath?: string;
  sshdPaths: { hostCertificatePath?: string; trustedUserCaPath?: string };
}

async function makeCertificates(
  dir: string,
  hostKeyPath: string,
  clientKeyPath: string,
  options: SshdOptions,
): Promise<Certificates> {
  const made: Certificates = { sshdPaths: {} };
  if (options.hostCertificate) {
    const keyPath = join(dir, 'host_ca');
    await generateKey(keyPath, 'runbot-test-host-ca');
    await signKey(keyPath, `${hostKeyPath}.pub`, options.hostCertificate, 'host');
    made.hostCa = { keyPath, publicKey: (await readFile(`${keyPath}.pub`, 'utf8')).trim() };
    made.sshdPaths.hostCertificatePath = `${hostKeyPath}-cert.pub`;
  }
  if (options.userCertificate) {
    const keyPath = join(dir, 'user_ca');
    await generateKey(keyPath, 'runbot-test-user-ca');
    const principals = options.userCertificate.principals ?? [userInfo().username];
    await signKey(keyPath, `${clientKeyPath}.pub`, { ...options.userCertificate, principals }, 'user');
    made.clientCertPath = `${clientKeyPath}-cert.pub`;
    made.sshdPaths.trustedUserCaPath = `${keyPath}.pub`;
  }
  return made;
}

/** `ssh-keygen -s`: writes `<key>-cert.pub` next to `publicKeyPath`. */
export async function signKey(
  caKeyPath: string,
  publicKeyPath: string,
  spec: CertificateSpec,
  kind: 'host' | 'user',
): Promise<void> {
  await run('ssh-keygen', [
    '-q',
    '-s',
    caKeyPath,
    ...(kind === 'host' ? ['-h'] : []),
    '-I',
    spec.identity ?? spec.principals[0] ?? 'runbot-test',
    '-n',
    spec.principals.join(','),
    '-V',
    spec.validity ?? '-5m:+1h',
    publicKeyPath,
  ]);
}

async function generateKey(path: string, comment: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

function sshdConfig(paths: {
  port: number;
  dir: string;
  hostKeyPath: string;
  authorizedKeysPath: string;
  hostCertificatePath?: string;
  trustedUserCaPath?: string;
  logLevel: string;
}): string {
  return [
    `ListenAddress 127.0.0.1`,
    `Port ${paths.port}`,
    `HostKey ${paths.hostKeyPath}`,
    ...(paths.hostCertificatePath ? [`HostCertificate ${paths.hostCertificatePath}`] : []),
    ...(paths.trustedUserCaPath ? [`TrustedUserCAKeys ${paths.trustedUserCaPath}`] : []),
    `AuthorizedKeysFile ${paths.authorizedKeysPath}`,
    `PidFile ${join(paths.dir, 'sshd.pid')}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'MaxSessions 20',
    `LogLevel ${paths.logLevel}`,
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
