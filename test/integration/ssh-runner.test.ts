// SshRunner against a real sshd on loopback: commands, output caps, timeouts that leave nothing
// running, host key pinning (plain, hashed, unknown, changed), pooling and reconnection.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  HostKeyChangedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
  SshConnectError,
} from '../../src/executors/ssh/index.js';
import type { SshTarget } from '../../src/executors/types.js';
import { until } from '../support/poll.js';
import { marker, pidsMatching } from '../support/pgrep.js';
import { sshRunners } from '../support/ssh-runners.js';
import { fingerprintOf, startSshd, type Sshd } from '../support/sshd.js';

const exec = promisify(execFile);

let sshd: Sshd;
let target: SshTarget;
const { runner, closeAll } = sshRunners(() => sshd);

beforeAll(async () => {
  sshd = await startSshd({ knownHostsNames: ['node-a17.dc1'] });
  target = { host: sshd.host, port: sshd.port, user: sshd.user };
});

afterEach(async () => {
  await closeAll();
});

afterAll(async () => {
  await sshd?.stop();
});

describe('ssh runner: running commands', () => {
  it('runs the command on the server, whose effect is visible there', async () => {
    const file = join(sshd.dir, 'ran.txt');
    const result = await runner().run(target, `echo "ran as $(id -un)" > ${file}`, { timeoutSeconds: 10 });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, truncated: false });
    expect(await readFile(file, 'utf8')).toBe(`ran as ${sshd.user}\n`);
  });

  it('returns a non-zero exit code as a result, not an error', async () => {
    const result = await runner().run(target, 'exit 3', { timeoutSeconds: 10 });
    expect(result).toMatchObject({ exitCode: 3, timedOut: false });
  });

  it('captures stdout and stderr separately and untrimmed', async () => {
    const result = await runner().run(target, 'echo out; echo err >&2; echo "  spaced  "', {
      timeoutSeconds: 10,
    });
    expect(result.stdout).toBe('out\n  spaced  \n');
    expect(result.stderr).toBe('err\n');
    expect(result.exitCode).toBe(0);
  });

  it('passes shell metacharacters to the remote shell intact', async () => {
    const command = [
      `printf '%s|' "it's" 'a "quoted" word' '$HOME' "$((6 * 7))" a\\ b`,
      'echo `echo backtick` $(echo dollar) ; echo "semi;colon" && false || echo or',
      "echo 'line one\nline two' | tr 'a-z' 'A-Z'",
      'x=1; [ "$x" = 1 ] && echo "!bang #hash ~tilde *star* ?q <lt> &amp"',
    ].join('\n');
    const expected = await exec('sh', ['-c', command]);
    const result = await runner().run(target, command, { timeoutSeconds: 10 });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(expected.stdout);
    expect(result.stdout).toContain(`it's|a "quoted" word|$HOME|42|a b|`);
  });

  it('keeps the tail of output over the cap and says it was truncated', async () => {
    const result = await runner({ maxOutputBytes: 1000 }).run(
      target,
      'seq 1 10000; seq 1 3000 >&2; echo last-line',
      { timeoutSeconds: 10 },
    );
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(result.stdout)).toBe(1000);
    expect(result.stdout.endsWith('9999\n10000\nlast-line\n')).toBe(true);
    expect(Buffer.byteLength(result.stderr)).toBe(1000);
    expect(result.stderr.endsWith('2999\n3000\n')).toBe(true);
    expect(result.exitCode).toBe(0);
  });

  it('does not cut a multi-byte character in half at the cap', async () => {
    // 'é' is 2 bytes; an odd cap lands mid-character.
    const result = await runner({ maxOutputBytes: 101 }).run(target, `printf 'é%.0s' $(seq 1 500)`, {
      timeoutSeconds: 10,
    });
    expect(result.truncated).toBe(true);
    expect(result.stdout).toBe('é'.repeat(50));
  });
});

describe('ssh runner: timeouts', () => {
  it('ends a command that overruns, and leaves no remote process behind', async () => {
    const tag = marker();
    const pending = runner().run(target, `sleep 300 ${tag}`, { timeoutSeconds: 2 });
    // The command really started: its process exists while we wait.
    await until('sleep to start', async () => (await pidsMatching(`sleep 300 ${tag}`)).length > 0, {
      timeoutMs: 5_000,
    });
    const result = await pending;
    expect(result).toMatchObject({ timedOut: true, exitCode: null });
    expect(result.durationMs).toBeGreaterThanOrEqual(2_000);
    expect(result.durationMs).toBeLessThan(10_000);
    await until('remote processes to exit', async () => (await pidsMatching(tag)).length === 0, {
      timeoutMs: 10_000,
    });
  });

  it('escalates to KILL when the command ignores TERM', async () => {
    const tag = marker();
    const result = await runner().run(target, `trap '' TERM; sleep 300 ${tag}`, { timeoutSeconds: 1 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null });
    expect(result.durationMs).toBeGreaterThanOrEqual(5_000);
    await until('remote processes to exit', async () => (await pidsMatching(tag)).length === 0, {
      timeoutMs: 10_000,
    });
  });

  it('does not call a quick exit 124 a timeout', async () => {
    const result = await runner().run(target, 'exit 124', { timeoutSeconds: 10 });
    expect(result).toMatchObject({ timedOut: false, exitCode: 124 });
  });

  it('gives up at the client-side deadline when the remote timeout cannot act, then reconnects', async () => {
    const tag = marker();
    const ssh = runner({ deadlineGraceMs: 1_500 });
    // Stopping `timeout` itself (the parent of sh) keeps it from ever firing: only our deadline is left.
    const started = Date.now();
    const result = await ssh.run(target, `kill -STOP $PPID; sleep 300 ${tag}`, { timeoutSeconds: 1 });
    try {
      expect(result).toMatchObject({ timedOut: true, exitCode: null });
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
      const after = await ssh.run(target, 'echo again', { timeoutSeconds: 10 });
      expect(after).toMatchObject({ exitCode: 0, stdout: 'again\n' });
    } finally {
      // Left behind on purpose by this test: the stopped `timeout` and its sleep. Ours, by pid.
      for (const pid of await pidsMatching(tag)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('ssh runner: host keys', () => {
  it('refuses an unknown host key, naming its SHA256 fingerprint', async () => {
    const empty = join(sshd.dir, 'known_hosts.empty');
    await writeFile(empty, '');
    const error = await runner({ knownHostsFile: empty })
      .run(target, 'true', { timeoutSeconds: 5 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HostKeyUnknownError);
    expect(error).toMatchObject({
      host: '127.0.0.1',
      port: sshd.port,
      keyType: 'ssh-ed25519',
      fingerprint: await fingerprintOf(sshd.hostKeyPublicPath),
    });
  });

  it('treats a missing known_hosts file as pinning nothing', async () => {
    const missing = join(sshd.dir, 'no-such-known-hosts');
    const error = await runner({ knownHostsFile: missing })
      .run(target, 'true', { timeoutSeconds: 5 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HostKeyUnknownError);
    expect((error as Error).message).toContain(missing);
  });

  it('refuses a changed host key, naming both fingerprints and how to re-pin', async () => {
    const otherKey = join(sshd.dir, 'other_host_key');
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const pinned = join(sshd.dir, 'known_hosts.changed');
    await writeFile(pinned, `[127.0.0.1]:${sshd.port} ${await readFile(`${otherKey}.pub`, 'utf8')}`);
    const error = await runner({ knownHostsFile: pinned })
      .run(target, 'true', { timeoutSeconds: 5 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HostKeyChangedError);
    expect(error).toMatchObject({
      fingerprint: await fingerprintOf(sshd.hostKeyPublicPath),
      knownFingerprints: [await fingerprintOf(`${otherKey}.pub`)],
    });
    expect((error as Error).message).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}' -f ${pinned}`);
    expect((error as Error).message).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
  });

  it('sees a key re-pinned in place at once, the file the same size, and a key revoked the same way', async () => {
    const otherKey = join(sshd.dir, 'other_host_key_repin');
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const file = join(sshd.dir, 'known_hosts.repinned');
    const line = (key: string) => `[127.0.0.1]:${sshd.port} ${key.split(' ').slice(0, 2).join(' ')}\n`;
    const wrong = line(await readFile(`${otherKey}.pub`, 'utf8'));
    const right = line(sshd.hostKeyPublic);
    expect(right.length).toBe(wrong.length);
    await writeFile(file, wrong);
    const ssh = runner({ knownHostsFile: file });
    await expect(ssh.run(target, 'true', { timeoutSeconds: 5 })).rejects.toBeInstanceOf(HostKeyChangedError);
    // Rewritten in place right away (same inode, same size, likely the same timestamp): the next
    // connection reads the new key.
    await writeFile(file, right);
    expect((await ssh.run(target, 'echo ok', { timeoutSeconds: 5 })).stdout).toBe('ok\n');
    await writeFile(file, `${right}@revoked ${right}`);
    // A new runner, so a new connection (the first keeps its pooled one).
    const fresh = runner({ knownHostsFile: file });
    await expect(fresh.run(target, 'true', { timeoutSeconds: 5 })).rejects.toBeInstanceOf(
      HostKeyRevokedError,
    );
  });

  it('accepts a hashed known_hosts entry made by ssh-keygen -H', async () => {
    const hashed = join(sshd.dir, 'known_hosts.hashed');
    await writeFile(hashed, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}\n`);
    await exec('ssh-keygen', ['-H', '-f', hashed]);
    const text = await readFile(hashed, 'utf8');
    expect(text.startsWith('|1|')).toBe(true);
    const result = await runner({ knownHostsFile: hashed }).run(target, 'echo ok', { timeoutSeconds: 5 });
    expect(result.stdout).toBe('ok\n');
  });

  it('checks the key under the logical host name, not the address it dials', async () => {
    const known = { ...target, host: 'node-a17.dc1', address: '127.0.0.1' };
    const result = await runner().run(known, 'echo ok', { timeoutSeconds: 5 });
    expect(result.stdout).toBe('ok\n');
    const unknown = { ...target, host: 'node-a18.dc1', address: '127.0.0.1' };
    const error = await runner()
      .run(unknown, 'true', { timeoutSeconds: 5 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HostKeyUnknownError);
    expect(error).toMatchObject({ host: 'node-a18.dc1', knownHostsName: `[node-a18.dc1]:${sshd.port}` });
  });
});

describe('ssh runner: connections', () => {
  it('fails with SshConnectError (unreachable) on a closed port', async () => {
    const closed = await import('node:net').then(
      (net) =>
        new Promise<number>((resolve) => {
          const server = net.createServer().listen(0, '127.0.0.1', () => {
            const address = server.address();
            server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
          });
        }),
    );
    const error = await runner()
      .run({ ...target, port: closed }, 'true', { timeoutSeconds: 5 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SshConnectError);
    expect(error).toMatchObject({ reason: 'unreachable', port: closed });
  });

  it('fails with SshConnectError (auth) when the server refuses our key', async () => {
    const strangerKey = join(sshd.dir, 'stranger');
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', strangerKey]);
    const error = await runner({ privateKey: await readFile(strangerKey, 'utf8') })
      .run(target, 'true', { timeoutSeconds: 5 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SshConnectError);
    expect(error).toMatchObject({ reason: 'auth' });
  });

  it('reuses one connection across runs, and opens a second beside it only when 8 sessions are busy on it', async () => {
    const ssh = runner();
    const before = sshd.acceptedLogins();
    await ssh.run(target, 'true', { timeoutSeconds: 5 });
    await ssh.run(target, 'true', { timeoutSeconds: 5 });
    const eight = await Promise.all(
      Array.from({ length: 8 }, (_, i) => ssh.run(target, `echo ${i}`, { timeoutSeconds: 5 })),
    );
    expect(eight.map((result) => result.stdout)).toEqual(Array.from({ length: 8 }, (_, i) => `${i}\n`));
    await until('sshd to log the login', () => sshd.acceptedLogins() >= before + 1, { timeoutMs: 5_000 });
    expect(sshd.acceptedLogins()).toBe(before + 1);
    expect(ssh.openConnections()).toBe(1);

    // Twelve at once: eight sessions on the open connection, the other four on a new one.
    const twelve = await Promise.all(
      Array.from({ length: 12 }, (_, i) => ssh.run(target, `echo ${i}`, { timeoutSeconds: 5 })),
    );
    expect(twelve.map((result) => result.stdout)).toEqual(Array.from({ length: 12 }, (_, i) => `${i}\n`));
    await until('sshd to log the second login', () => sshd.acceptedLogins() >= before + 2, {
      timeoutMs: 5_000,
    });
    expect(ssh.openConnections()).toBe(2);
  });

  it('closes a connection that stays idle, and opens a fresh one for the next run', async () => {
    const ssh = runner({ idleMs: 200 });
    const before = sshd.acceptedLogins();
    await ssh.run(target, 'true', { timeoutSeconds: 5 });
    expect(ssh.openConnections()).toBe(1);
    await until('the idle connection to close', () => ssh.openConnections() === 0, { timeoutMs: 5_000 });
    const again = await ssh.run(target, 'echo again', { timeoutSeconds: 5 });
    expect(again).toMatchObject({ exitCode: 0, stdout: 'again\n' });
    await until('sshd to log the second login', () => sshd.acceptedLogins() >= before + 2, {
      timeoutMs: 5_000,
    });
  });

  it('reconnects when the server drops the pooled connection', async () => {
    const ssh = runner();
    const before = sshd.acceptedLogins();
    await ssh.run(target, 'true', { timeoutSeconds: 5 });
    // Each connection is served by a child of the listening sshd: killing it drops ours.
    const { stdout } = await exec('pgrep', ['-P', String(sshd.pid)]);
    for (const pid of stdout.trim().split('\n').map(Number)) process.kill(pid, 'SIGKILL');
    const result = await ssh.run(target, 'echo back', { timeoutSeconds: 5 });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'back\n' });
    await until('sshd to log the second login', () => sshd.acceptedLogins() >= before + 2, {
      timeoutMs: 5_000,
    });
  });
});
