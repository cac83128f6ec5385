// The node-ssh transport's client side against a real sshd: the private key is read and parsed
// once per runner and that parse logs in on every new connection (ed25519, ECDSA, RSA); a key
// file replaced on disk is used from the next runner, as before; a key that does not parse fails
// as a connection error until the file is fixed; and after login the runner does not ask sshd to
// prove the host keys it announces (hostkeys-00@openssh.com), which nothing here uses.
import { execFile } from 'node:child_process';
import { appendFile, copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SshConnectError, type SshRunner } from '../../src/executors/ssh/index.js';
import type { SshTarget } from '../../src/executors/types.js';
import { until } from '../support/poll.js';
import { sshRunners } from '../support/ssh-runners.js';
import { startSshd, type Sshd } from '../support/sshd.js';

const exec = promisify(execFile);

let sshd: Sshd;
let target: SshTarget;
const { runner, closeAll } = sshRunners(() => sshd);

/** A fresh key of `type`, authorised on the server when `authorise`; returns its private key file. */
async function newKey(name: string, type: string[], authorise: boolean): Promise<string> {
  const path = join(sshd.dir, name);
  await exec('ssh-keygen', ['-q', ...type, '-N', '', '-C', name, '-f', path]);
  if (authorise) await appendFile(join(sshd.dir, 'authorized_keys'), await readFile(`${path}.pub`, 'utf8'));
  return path;
}

/** Runs `echo NAME` on a new connection each time: the runner closes idle ones at once. */
async function runOnNewConnection(ssh: SshRunner, name: string): Promise<void> {
  await until('the idle connection to close', () => ssh.openConnections() === 0, { timeoutMs: 5_000 });
  const result = await ssh.run(target, `echo ${name}`, { timeoutSeconds: 5 });
  expect(result).toMatchObject({ exitCode: 0, stdout: `${name}\n` });
}

beforeAll(async () => {
  sshd = await startSshd({ logLevel: 'DEBUG1' });
  target = { host: sshd.host, port: sshd.port, user: sshd.user };
});

afterEach(async () => {
  await closeAll();
});

afterAll(async () => {
  await sshd?.stop();
});

describe('ssh runner: the client key', () => {
  it.each([
    ['ed25519', ['-t', 'ed25519']],
    ['ecdsa-p256', ['-t', 'ecdsa', '-b', '256']],
    ['ecdsa-p521', ['-t', 'ecdsa', '-b', '521']],
    ['rsa', ['-t', 'rsa', '-b', '2048']],
  ])('logs in with a %s key parsed once, on each new connection', async (name, type) => {
    const ssh = runner({ privateKey: await newKey(`key-${name}`, type, true), idleMs: 1 });
    const before = sshd.acceptedLogins();
    await runOnNewConnection(ssh, 'one');
    await runOnNewConnection(ssh, 'two');
    await until('sshd to log both logins', () => sshd.acceptedLogins() >= before + 2, { timeoutMs: 5_000 });
  });

  it('keeps the key it read: a key file replaced on disk is used by the next runner', async () => {
    const keyFile = join(sshd.dir, 'rotating');
    await copyFile(sshd.clientKeyPath, keyFile);
    const first = runner({ privateKey: keyFile, idleMs: 1 });
    await runOnNewConnection(first, 'before');
    await copyFile(await newKey('not-authorised', ['-t', 'ed25519'], false), keyFile);
    // The running runner still logs in with the key it read, on a new connection.
    await runOnNewConnection(first, 'after');
    const error = await runner({ privateKey: keyFile })
      .run(target, 'true', { timeoutSeconds: 5 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SshConnectError);
    expect(error).toMatchObject({ reason: 'auth' });
  });

  it('fails on a key that does not parse, naming it, and reads the file again once fixed', async () => {
    const keyFile = join(sshd.dir, 'broken');
    await writeFile(
      keyFile,
      '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n',
    );
    const ssh = runner({ privateKey: keyFile });
    const error = await ssh.run(target, 'true', { timeoutSeconds: 5 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SshConnectError);
    expect(error).toMatchObject({ reason: 'protocol' });
    expect((error as Error).message).toContain('Cannot parse privateKey');
    await copyFile(sshd.clientKeyPath, keyFile);
    const result = await ssh.run(target, 'echo fixed', { timeoutSeconds: 5 });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'fixed\n' });
  });
});

describe('ssh runner: host keys announced after login', () => {
  it('does not ask sshd to prove them', async () => {
    const ssh = runner();
    const result = await ssh.run(target, 'echo announced', { timeoutSeconds: 5 });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'announced\n' });
    // sshd logs each request it serves (DEBUG1): ssh2 left alone sends its proof request
    // (`server_input_global_request: rtype hostkeys-prove-00@openssh.com`) before the exec's.
    await until('sshd to log the exec request', () => /channel \d+ request exec/.test(sshd.log()), {
      timeoutMs: 5_000,
    });
    expect(sshd.log()).not.toContain('hostkeys-prove-00@openssh.com');
  });
});
