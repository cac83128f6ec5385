// SshRunner through a jump host, against real sshd: the target is reached over a `direct-tcpip`
// channel of a verified connection to the jump host (what `ssh -J` does), and the jump host's key
// is checked under its own name like any target's. One sshd serves as both jump host and target.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyUnknownError, SshRunner } from '../../src/executors/ssh/index.js';
import type { SshTarget } from '../../src/executors/types.js';
import { until } from '../support/poll.js';
import { startSshd, type Sshd } from '../support/sshd.js';

const JUMP = 'bastion.dev2.internal';
const HOST = 'web-1.dev2.internal';

let sshd: Sshd;
let target: SshTarget;
const runners: SshRunner[] = [];

beforeAll(async () => {
  sshd = await startSshd({ knownHostsNames: [JUMP, HOST] });
  target = {
    host: HOST,
    address: '127.0.0.1',
    port: sshd.port,
    user: sshd.user,
    jump: { host: JUMP, address: '127.0.0.1', port: sshd.port, user: sshd.user },
  };
});
afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.close()));
  // Each hop's session ends with its connection; wait for that, so that sshd's stop() does not
  // race a session exiting by itself (ending the jump session ends the target's too).
  await until('the sessions to end', async () => (await sessions(sshd.pid)) === 0);
  await sshd?.stop();
});

async function sessions(pid: number): Promise<number> {
  const { stdout } = await promisify(execFile)('pgrep', ['-P', String(pid)]).catch(() => ({ stdout: '' }));
  return stdout.trim() === '' ? 0 : stdout.trim().split('\n').length;
}

function runner(knownHostsFile = sshd.knownHostsPath): SshRunner {
  const created = new SshRunner({ privateKey: sshd.clientKeyPath, knownHostsFile });
  runners.push(created);
  return created;
}

describe('ssh executor: jump host', () => {
  it('runs the command on the target through the jump host: two logins, one per hop', async () => {
    const before = sshd.acceptedLogins();
    const result = await runner().run(target, 'echo ok', { timeoutSeconds: 10 });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
    // Without the jump this is one login; with it the jump host's login comes first.
    expect(sshd.acceptedLogins() - before).toBe(2);
  });

  it('reuses the pooled connection through the jump host', async () => {
    const pooled = runner();
    await pooled.run(target, 'true', { timeoutSeconds: 10 });
    const before = sshd.acceptedLogins();
    await Promise.all([1, 2, 3].map(() => pooled.run(target, 'true', { timeoutSeconds: 10 })));
    expect(sshd.acceptedLogins()).toBe(before);
  });

  it('refuses a jump host whose key is not pinned, before anything reaches the target', async () => {
    // Pinned for the target only: the jump host is unknown.
    const knownHosts = join(sshd.dir, 'known_hosts_target_only');
    const hostKey = (await readFile(sshd.hostKeyPublicPath, 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(knownHosts, `[${HOST}]:${sshd.port} ${hostKey}\n`);
    const before = sshd.acceptedLogins();
    const error = await runner(knownHosts)
      .run(target, 'touch /tmp/should-not-exist', { timeoutSeconds: 10 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HostKeyUnknownError);
    expect((error as HostKeyUnknownError).host).toBe(JUMP);
    expect((error as Error).message).toContain(`[${JUMP}]:${sshd.port}`);
    expect(sshd.acceptedLogins()).toBe(before);
  });
});
