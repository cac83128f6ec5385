// The openssh transport against a real sshd that serves a host certificate (HostCertificate) and
// trusts a user CA (TrustedUserCAKeys): known_hosts holds only the host CA's @cert-authority line,
// authorized_keys is empty, and every key and certificate is made by ssh-keygen here. Covers trust
// (valid, expired, wrong principal, unknown CA, @revoked), the bot's own certificate login,
// pooling over one ControlMaster, the same timeout/cap/exit-code guarantees as node-ssh, and
// that close() ends the masters.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  HostCertificateError,
  HostKeyChangedError,
  HostKeyRevokedError,
  OpensshRunner,
  SshConnectError,
  type OpensshRunnerOptions,
} from '../../src/executors/ssh/index.js';
import type { SshTarget } from '../../src/executors/types.js';
import { hostTrustComment } from '../../src/runner/steps/host-trust.js';
import { until } from '../support/poll.js';
import { marker, pidsMatching } from '../support/pgrep.js';
import { fingerprintOf, startSshd, type Sshd } from '../support/sshd.js';

const exec = promisify(execFile);
const HOST = 'web-1.dc1.internal';

let sshd: Sshd;
let target: SshTarget;
const runners: OpensshRunner[] = [];

function runner(options: Partial<OpensshRunnerOptions> = {}): OpensshRunner {
  const created = new OpensshRunner({
    privateKey: sshd.clientKeyPath,
    certificate: sshd.clientCertPath,
    knownHostsFile: sshd.knownHostsPath,
    ...options,
  });
  runners.push(created);
  return created;
}

/** Running, not a zombie waiting for init to reap it (the master is daemonized, not our child). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** A known_hosts in the sshd's dir with these lines; returns its path. */
async function knownHosts(name: string, lines: string[]): Promise<string> {
  const file = join(sshd.dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

beforeAll(async () => {
  sshd = await startSshd({
    knownHostsNames: [HOST],
    hostCertificate: { principals: [HOST], identity: 'web-1 host key' },
    userCertificate: { identity: 'runbot-bot' },
  });
  target = { host: HOST, address: '127.0.0.1', port: sshd.port, user: sshd.user, transport: 'openssh' };
});

afterEach(async () => {
  await Promise.all(runners.splice(0).map((created) => created.close()));
  // Back to a valid certificate for the next test.
  await sshd.signHostKey({ principals: [HOST], identity: 'web-1 host key' });
});

afterAll(async () => {
  await sshd?.stop();
});

describe('openssh transport: certificates', () => {
  it('trusts a host by its certificate alone and logs in with the bot’s user certificate', async () => {
    const knownHostsText = await readFile(sshd.knownHostsPath, 'utf8');
    expect(knownHostsText.trim().split('\n')).toHaveLength(1);
    expect(knownHostsText).toMatch(/^@cert-authority /);
    expect(await readFile(join(sshd.dir, 'authorized_keys'), 'utf8')).toBe('');

    const result = await runner().run(target, 'echo hello; echo oops >&2; exit 3', { timeoutSeconds: 10 });
    expect(result).toMatchObject({ exitCode: 3, stdout: 'hello\n', stderr: 'oops\n', timedOut: false });
    // sshd took the certificate, not a plain key: it logs the certificate's ID and CA.
    expect(sshd.log()).toMatch(/Accepted publickey for \S+ from 127\.0\.0\.1 .*ED25519-CERT .*ID runbot-bot/);
  });

  it('refuses an expired host certificate, saying so', async () => {
    await sshd.signHostKey({ principals: [HOST], validity: '20200101:20200102' });
    const error = await runner()
      .run(target, 'touch /nonexistent-should-not-run', { timeoutSeconds: 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostCertificateError);
    const refused = error as HostCertificateError;
    expect(refused.problem).toBe('expired');
    expect(refused.message).toContain('host certificate expired');
    expect(refused.validity).toBe('from 2020-01-01T00:00:00 to 2020-01-02T00:00:00');
    expect(refused.fingerprint).toBe(await fingerprintOf(sshd.hostKeyPublicPath));
    expect(refused.caFingerprint).toBe(await fingerprintOf(`${sshd.hostCa!.keyPath}.pub`));
    const comment = hostTrustComment(refused, target, 'Memcheck');
    expect(comment.title).toBe(`Host certificate of ${HOST} refused: host certificate expired`);
    expect(comment.reason).toContain('valid from 2020-01-01T00:00:00 to 2020-01-02T00:00:00');
    expect(comment.reason).toContain('Nothing was run.');
  });

  it('refuses a certificate that does not name the host (principal mismatch)', async () => {
    await sshd.signHostKey({ principals: ['web-2.dc1.internal', 'db-1.dc1.internal'] });
    const error = await runner()
      .run(target, 'true', { timeoutSeconds: 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostCertificateError);
    const refused = error as HostCertificateError;
    expect(refused.problem).toBe('principal');
    expect(refused.principals).toEqual(['web-2.dc1.internal', 'db-1.dc1.internal']);
    expect(refused.message).toContain('principal mismatch');
    expect(hostTrustComment(refused, target, 'Sync').reason).toContain(
      `It names web-2.dc1.internal, db-1.dc1.internal, not ${HOST}.`,
    );
  });

  it('refuses a certificate from a CA that known_hosts does not trust', async () => {
    const otherCa = (await readFile(`${sshd.clientKeyPath}.pub`, 'utf8')).trim();
    const file = await knownHosts('known_hosts.other-ca', [`@cert-authority ${HOST} ${otherCa}`]);
    const error = await runner({ knownHostsFile: file })
      .run(target, 'true', { timeoutSeconds: 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostCertificateError);
    expect((error as HostCertificateError).problem).toBe('untrusted-ca');
  });

  it('refuses a host key marked @revoked, even with a valid certificate', async () => {
    const hostKey = (await readFile(sshd.hostKeyPublicPath, 'utf8')).trim();
    const caLine = (await readFile(sshd.knownHostsPath, 'utf8')).trim();
    const file = await knownHosts('known_hosts.revoked', [caLine, `@revoked * ${hostKey}`]);
    const error = await runner({ knownHostsFile: file })
      .run(target, 'true', { timeoutSeconds: 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyRevokedError);
    const comment = hostTrustComment(error as HostKeyRevokedError, target, 'Sync');
    expect(comment.title).toBe(`Host key of ${HOST} is revoked`);
  });

  it('still checks pinned plain keys: unknown and changed keys are refused as with node-ssh', async () => {
    const empty = await knownHosts('known_hosts.empty', []);
    const unknown = await runner({ knownHostsFile: empty })
      .run(target, 'true', { timeoutSeconds: 10 })
      .catch((e: unknown) => e);
    // The server offers its certificate first; with no CA line it is a certificate nobody vouches for.
    expect(unknown).toBeInstanceOf(HostCertificateError);

    const other = (await readFile(`${sshd.clientKeyPath}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    const changedFile = await knownHosts('known_hosts.changed', [`${HOST} ${other}`]);
    const changed = await runner({ knownHostsFile: changedFile })
      .run(target, 'true', { timeoutSeconds: 10 })
      .catch((e: unknown) => e);
    expect(changed).toBeInstanceOf(HostKeyChangedError);
    expect((changed as HostKeyChangedError).knownFingerprints).toEqual([
      await fingerprintOf(`${sshd.clientKeyPath}.pub`),
    ]);
    expect((changed as HostKeyChangedError).fingerprint).toBe(await fingerprintOf(sshd.hostKeyPublicPath));

    const hostKey = (await readFile(sshd.hostKeyPublicPath, 'utf8')).split(' ').slice(0, 2).join(' ');
    const pinnedFile = await knownHosts('known_hosts.pinned', [`${HOST} ${hostKey}`]);
    const pinned = await runner({ knownHostsFile: pinnedFile }).run(target, 'echo pinned', {
      timeoutSeconds: 10,
    });
    expect(pinned).toMatchObject({ exitCode: 0, stdout: 'pinned\n' });
  });

  it('fails as auth (not retried) when the bot has no certificate and no authorized key', async () => {
    // A key of its own: ssh would pick up `<key>-cert.pub` next to the sshd's client key by itself.
    const bare = join(sshd.dir, 'uncertified_ed25519');
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', bare]);
    const error = await runner({ privateKey: bare, certificate: undefined })
      .run(target, 'true', { timeoutSeconds: 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshConnectError);
    expect((error as SshConnectError).reason).toBe('auth');
    // Key paths never reach the message (it goes into ticket comments).
    expect((error as Error).message).not.toContain(bare);
  });

  it('fails as unreachable (retried) on a closed port', async () => {
    const closed = await startSshd();
    const port = closed.port;
    await closed.stop();
    const error = await runner()
      .run({ ...target, port }, 'true', { timeoutSeconds: 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshConnectError);
    expect((error as SshConnectError).reason).toBe('unreachable');
  });
});

describe('openssh transport: pooling', () => {
  it('runs commands over one ControlMaster and stops it on close', async () => {
    const ssh = runner();
    const before = sshd.acceptedLogins();
    await ssh.run(target, 'true', { timeoutSeconds: 10 });
    const pid = ssh.masterPid(target);
    expect(pid).not.toBeNull();
    const results = await Promise.all(
      [1, 2, 3].map((n) => ssh.run(target, `echo ${n}`, { timeoutSeconds: 10 })),
    );
    expect(results.map((result) => result.stdout)).toEqual(['1\n', '2\n', '3\n']);
    expect(ssh.masterPid(target)).toBe(pid);
    expect(sshd.acceptedLogins() - before).toBe(1);
    expect(alive(pid!)).toBe(true);
    await ssh.close();
    expect(alive(pid!)).toBe(false);
  });

  it('connects again when the master has ended', async () => {
    const ssh = runner();
    await ssh.run(target, 'true', { timeoutSeconds: 10 });
    const first = ssh.masterPid(target)!;
    process.kill(first, 'SIGTERM');
    await until('the master to end', () => !alive(first));
    const again = await ssh.run(target, 'echo again', { timeoutSeconds: 10 });
    expect(again).toMatchObject({ exitCode: 0, stdout: 'again\n' });
    expect(ssh.masterPid(target)).not.toBe(first);
  });
});

describe('openssh transport: the node-ssh guarantees', () => {
  it('ends a command that overruns, and leaves no remote process behind', async () => {
    const tag = marker();
    const result = await runner().run(target, `trap '' TERM; sleep 300 ${tag}`, { timeoutSeconds: 1 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null });
    await until('remote processes to exit', async () => (await pidsMatching(tag)).length === 0, {
      timeoutMs: 10_000,
    });
  });

  it('does not call a quick exit 255 or 124 a timeout', async () => {
    const ssh = runner();
    expect(await ssh.run(target, 'exit 255', { timeoutSeconds: 10 })).toMatchObject({
      timedOut: false,
      exitCode: 255,
    });
    expect(await ssh.run(target, 'exit 124', { timeoutSeconds: 10 })).toMatchObject({
      timedOut: false,
      exitCode: 124,
    });
  });

  it('kills ssh at the client-side deadline when the remote timeout cannot act', async () => {
    const tag = marker();
    const ssh = runner({ deadlineGraceMs: 1_500 });
    const result = await ssh.run(target, `kill -STOP $PPID; sleep 300 ${tag}`, { timeoutSeconds: 1 });
    try {
      expect(result).toMatchObject({ timedOut: true, exitCode: null });
      const after = await ssh.run(target, 'echo again', { timeoutSeconds: 10 });
      expect(after).toMatchObject({ exitCode: 0, stdout: 'again\n' });
    } finally {
      for (const pid of await pidsMatching(tag)) process.kill(pid, 'SIGKILL');
    }
  });

  it('keeps the tail of output over the cap and says it was truncated', async () => {
    const result = await runner({ maxOutputBytes: 1000 }).run(target, 'seq 1 2000', { timeoutSeconds: 10 });
    expect(result.truncated).toBe(true);
    expect(result.stdout.length).toBeLessThanOrEqual(1000);
    expect(result.stdout.endsWith('1999\n2000\n')).toBe(true);
  });

  it('passes shell metacharacters to the remote shell intact', async () => {
    const result = await runner().run(target, `printf '%s\\n' "a b" '$HOME' "it's"`, { timeoutSeconds: 10 });
    expect(result.stdout).toBe("a b\n$HOME\nit's\n");
  });
});

describe('openssh transport: jump host', () => {
  const JUMP = 'bastion.dc1.internal';
  const via = (): SshTarget => ({
    ...target,
    jump: { host: JUMP, address: '127.0.0.1', port: sshd.port, user: sshd.user },
  });

  it('reaches the target through the jump host, each verified by certificate under its own name', async () => {
    await sshd.signHostKey({ principals: [HOST, JUMP] });
    const file = await knownHosts('known_hosts.jump', [
      `@cert-authority ${HOST},${JUMP} ${sshd.hostCa!.publicKey}`,
    ]);
    const ssh = runner({ knownHostsFile: file });
    const before = sshd.acceptedLogins();
    expect(await ssh.run(via(), 'echo through', { timeoutSeconds: 10 })).toMatchObject({
      exitCode: 0,
      stdout: 'through\n',
    });
    // One login per hop, and the second command reuses both.
    await ssh.run(via(), 'true', { timeoutSeconds: 10 });
    expect(sshd.acceptedLogins() - before).toBe(2);
  });

  it('refuses a jump host whose certificate does not name it, naming the jump host', async () => {
    const file = await knownHosts('known_hosts.jump-only-ca', [
      `@cert-authority ${HOST},${JUMP} ${sshd.hostCa!.publicKey}`,
    ]);
    const error = await runner({ knownHostsFile: file })
      .run(via(), 'true', { timeoutSeconds: 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostCertificateError);
    expect(error).toMatchObject({ host: JUMP, problem: 'principal' });
    expect(hostTrustComment(error as HostCertificateError, via(), 'Sync').reason).toContain(
      `offered by ${JUMP} (the jump host to ${HOST})`,
    );
  });
});
