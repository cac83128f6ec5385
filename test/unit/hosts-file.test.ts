// RUNBOT_HOSTS_FILE in /etc/hosts form: what the SSH transports dial for a name the inventory gives
// no address. The file is re-read when it changes.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostsFile, parseHostsFile } from '../../src/executors/ssh/hosts-file.js';

describe('hosts file', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('reads address, name and aliases, skips comments and blank lines, first line wins, any case', () => {
    const map = parseHostsFile(
      [
        '# the lab',
        '127.10.0.1   db-1.dev2.internal db-1   # a server',
        '',
        '\t127.10.0.2\tManager-0.dev2.internal',
        '10.9.9.9 db-1.dev2.internal',
        '127.10.0.3',
        '::1 six.dev2.internal',
      ].join('\n'),
    );
    expect(Object.fromEntries(map)).toEqual({
      'db-1.dev2.internal': '127.10.0.1',
      'db-1': '127.10.0.1',
      'manager-0.dev2.internal': '127.10.0.2',
      'six.dev2.internal': '::1',
    });
  });

  it('fills in the address of a target and its jump host, keeps given addresses, and sees a changed file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbot-hosts-'));
    dirs.push(dir);
    const file = join(dir, 'hosts');
    await writeFile(file, '127.10.0.1 db-1.dev2.internal\n127.10.0.9 bastion.dev2.internal\n');
    const hosts = new HostsFile(file);
    const jump = { host: 'bastion.dev2.internal', port: 22, user: 'jump' };
    expect(await hosts.resolve({ host: 'DB-1.dev2.internal', port: 22, user: 'runbot', jump })).toEqual({
      host: 'DB-1.dev2.internal',
      address: '127.10.0.1',
      port: 22,
      user: 'runbot',
      jump: { ...jump, address: '127.10.0.9' },
    });
    expect(
      await hosts.resolve({ host: 'db-1.dev2.internal', address: '10.0.0.1', port: 22, user: 'r' }),
    ).toEqual({ host: 'db-1.dev2.internal', address: '10.0.0.1', port: 22, user: 'r' });
    // Not listed: dialled by name.
    expect(await hosts.resolve({ host: 'db-2.dev2.internal', port: 22, user: 'r' })).toEqual({
      host: 'db-2.dev2.internal',
      port: 22,
      user: 'r',
    });
    await writeFile(file, '127.10.0.1 db-1.dev2.internal\n127.10.0.2 db-2.dev2.internal\n');
    expect(await hosts.addressOf('db-2.dev2.internal')).toBe('127.10.0.2');
  });

  it('names the file when it cannot be read', async () => {
    const hosts = new HostsFile('/nonexistent/runbot-hosts');
    await expect(hosts.addressOf('db-1.dev2.internal')).rejects.toThrow(
      /RUNBOT_HOSTS_FILE \/nonexistent\/runbot-hosts cannot be read/,
    );
  });
});
