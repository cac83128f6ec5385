import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeSSH } from 'node-ssh';
import ssh2 from 'ssh2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SshTransports } from '../../src/executors/ssh/index.js';
import { readCommandLine, startFleet } from '../../src/sandbox/fleet/index.js';
import type { Fleet, FleetCommand } from '../../src/sandbox/fleet/index.js';
import { until } from '../support/poll.js';

const MEMCHECK_START = 'sudo -n /usr/local/sbin/memcheck start --passes 2';
const MEMCHECK_STATUS = 'sudo -n /usr/local/sbin/memcheck status';

/** Connects as the runner would: the fleet's client key, the host key pinned. */
async function connect(fleet: Fleet, host: string, privateKey = fleet.clientPrivateKey): Promise<NodeSSH> {
  const pinned = Buffer.from(fleet.hostPublicKey.split(' ')[1] ?? '', 'base64');
  const ssh = new NodeSSH();
  await ssh.connect({
    host: fleet.addressOf(host),
    port: fleet.portOf(host),
    username: 'runbot',
    privateKey,
    hostVerifier: (key: Buffer) => key.equals(pinned),
    readyTimeout: 5_000,
  });
  // Without this each exec waits on Nagle + delayed ACK (~90 ms instead of ~3 ms).
  ssh.connection?.setNoDelay(true);
  return ssh;
}

/** The memtest's status once it is no longer running (the fleet's memtests last a few seconds). */
function memtestEnd(ssh: NodeSSH) {
  return until(
    'the memtest to end',
    async () => {
      const result = await ssh.execCommand(MEMCHECK_STATUS);
      return !result.stdout.startsWith('RUNNING') && result;
    },
    { timeoutMs: 5_000 },
  );
}

function refuses(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: address, port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

describe('sandbox: simulated fleet running the RMA runbook commands', () => {
  let fleet: Fleet;
  const sessions: NodeSSH[] = [];

  beforeAll(async () => {
    fleet = await startFleet({
      profile: {
        memtestMs: 600,
        syncMs: 150,
        rebalanceMs: 100,
        failingHosts: ['bad.site-a.example'],
        failingSync: ['broken'],
      },
    });
    await fleet.addHost('db-1.site-a.example', { role: 'server' });
    await fleet.addHost('db-2.site-a.example', { role: 'server' });
    await fleet.addHost('bad.site-a.example', { role: 'server' });
    await fleet.addHost('mgr.site-a.example', { role: 'manager' });
  });
  afterEach(() => {
    for (const ssh of sessions.splice(0)) ssh.dispose();
  });
  afterAll(async () => {
    await fleet.stop();
  });

  async function on(host: string): Promise<NodeSSH> {
    const ssh = await connect(fleet, host);
    sessions.push(ssh);
    return ssh;
  }

  it('runs a memtest: NOT STARTED, started, RUNNING, then PASSED', async () => {
    const ssh = await on('db-1.site-a.example');
    expect((await ssh.execCommand(MEMCHECK_STATUS)).stdout).toBe('NOT STARTED');

    const started = await ssh.execCommand(MEMCHECK_START);
    expect(started).toMatchObject({ code: 0, stdout: 'memcheck started' });
    expect((await ssh.execCommand(MEMCHECK_STATUS)).stdout).toMatch(/^RUNNING pass [12]\/2$/);

    const final = await memtestEnd(ssh);
    expect(final).toMatchObject({ code: 0, stdout: 'PASSED' });
    expect(fleet.count('db-1.site-a.example', 'memcheck start')).toBe(1);
  });

  it('keeps each host’s state apart: a memtest on one host has not started on another', async () => {
    const other = await on('db-2.site-a.example');
    expect((await other.execCommand(MEMCHECK_STATUS)).stdout).toBe('NOT STARTED');
    expect(fleet.count('db-2.site-a.example', 'memcheck start')).toBe(0);
  });

  it('refuses a second memcheck start while a test is running', async () => {
    const ssh = await on('db-2.site-a.example');
    expect((await ssh.execCommand(MEMCHECK_START)).code).toBe(0);
    const again = await ssh.execCommand(MEMCHECK_START);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already running/);
    expect(fleet.count('db-2.site-a.example', /memcheck start/)).toBe(2);
  });

  it('fails the memtest on a host the profile marks as failing', async () => {
    const ssh = await on('bad.site-a.example');
    await ssh.execCommand(MEMCHECK_START);
    const final = await memtestEnd(ssh);
    expect(final.stdout).toBe('FAILED: DIMM B2 errors');
  });

  it('syncs a storage node on the manager after the profile’s sync time', async () => {
    const ssh = await on('mgr.site-a.example');
    const before = Date.now();
    const result = await ssh.execCommand('sudo -n /usr/sbin/storage-sync --node db-1');
    expect(result).toMatchObject({ code: 0, stdout: 'sync complete for db-1', stderr: '' });
    expect(Date.now() - before).toBeGreaterThanOrEqual(140);
  });

  it('fails the sync of a node the profile marks as failing, with exit 1 and stderr', async () => {
    const ssh = await on('mgr.site-a.example');
    const result = await ssh.execCommand('sudo -n /usr/sbin/storage-sync --node broken');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/sync aborted/);
  });

  it('rebalances a node on the manager', async () => {
    const ssh = await on('mgr.site-a.example');
    const result = await ssh.execCommand('sudo -n /usr/sbin/storage-rebalance --node db-1');
    expect(result).toMatchObject({ code: 0, stdout: 'rebalance complete for db-1' });
  });

  it('shows a host listed until it is removed from the blacklist', async () => {
    const ssh = await on('mgr.site-a.example');
    const show = 'sudo -n /usr/sbin/blacklist show db-1.site-a.example';
    expect((await ssh.execCommand(show)).stdout).toBe('listed');
    expect((await ssh.execCommand('sudo -n /usr/sbin/blacklist remove db-1.site-a.example')).code).toBe(0);
    expect((await ssh.execCommand('sudo -n /usr/sbin/blacklist sync')).code).toBe(0);
    expect((await ssh.execCommand(show)).stdout).toBe('not listed');
    expect((await ssh.execCommand('sudo -n /usr/sbin/blacklist show db-2.site-a.example')).stdout).toBe(
      'listed',
    );
  });

  it('answers unknown commands, and commands for the other role, with 127 command not found', async () => {
    const manager = await on('mgr.site-a.example');
    const unknown = await manager.execCommand('rm -rf /');
    expect(unknown.code).toBe(127);
    expect(unknown.stderr).toMatch(/rm: command not found/);
    const memcheckOnManager = await manager.execCommand(MEMCHECK_STATUS);
    expect(memcheckOnManager.code).toBe(127);

    const server = await on('db-1.site-a.example');
    expect((await server.execCommand('sudo -n /usr/sbin/blacklist sync')).code).toBe(127);
  });

  it('unwraps the runner’s `timeout -k 5 N sh -c` wrapper and records the inner command', async () => {
    const ssh = await on('mgr.site-a.example');
    const raw = "timeout -k 5 10 sh -c 'sudo -n /usr/sbin/storage-sync --node db-2'";
    const result = await ssh.execCommand(raw);
    expect(result).toMatchObject({ code: 0, stdout: 'sync complete for db-2' });

    const recorded = fleet.commands().filter((entry) => entry.raw === raw);
    expect(recorded).toEqual([
      expect.objectContaining({
        host: 'mgr.site-a.example',
        user: 'runbot',
        command: 'sudo -n /usr/sbin/storage-sync --node db-2',
        exitCode: 0,
        state: 'exited',
      }),
    ]);
  });

  it('refuses a client key it has not authorised', async () => {
    const stranger = ssh2.utils.generateKeyPairSync('ed25519').private;
    await expect(connect(fleet, 'db-1.site-a.example', stranger)).rejects.toThrow(
      /authentication methods failed/i,
    );
  });

  it('pins the host key by logical name in known_hosts form, and maps the name to its address', () => {
    const port = fleet.portOf('mgr.site-a.example');
    const address = fleet.addressOf('mgr.site-a.example');
    expect(address).toMatch(/^127\.10\.\d+\.\d+$/);
    expect(fleet.knownHostsLine('mgr.site-a.example')).toBe(
      `[mgr.site-a.example]:${port} ${fleet.hostPublicKey}`,
    );
    expect(fleet.hostsLine('mgr.site-a.example')).toBe(`${address} mgr.site-a.example`);
    expect(fleet.hostPublicKey).toMatch(/^ssh-ed25519 AAAA[A-Za-z0-9+/=]+$/);
    expect(fleet.targetOf('mgr.site-a.example')).toEqual({
      host: 'mgr.site-a.example',
      address,
      port,
      user: 'runbot',
    });
    expect(() => fleet.knownHostsLine('nowhere.example')).toThrow(/addHost/);
  });

  it('counts commands per host, and per host they are about, across the suite', () => {
    const all: FleetCommand[] = fleet.commands();
    expect(fleet.count('mgr.site-a.example', /storage-sync --node db-1$/)).toBe(1);
    expect(fleet.count('mgr.site-a.example', 'storage-sync')).toBe(3);
    expect(fleet.count('db-1.site-a.example', 'storage-sync')).toBe(0);
    // A manager command is about the node it names: a short name in the manager's domain, a
    // full name as it is; a node the fleet does not have stays as written.
    expect(fleet.countAbout('db-1.site-a.example', 'storage-sync')).toBe(1);
    expect(fleet.countAbout('db-1.site-a.example', 'storage-rebalance')).toBe(1);
    expect(fleet.countAbout('db-1.site-a.example', 'blacklist remove')).toBe(1);
    expect(fleet.countAbout('db-1.site-a.example', 'memcheck start')).toBe(1);
    expect(fleet.countAbout('broken', 'storage-sync')).toBe(1);
    expect(fleet.countAbout('mgr.site-a.example', 'blacklist sync')).toBe(1);
    expect(all.every((entry) => entry.state === 'exited' && entry.exitCode !== null)).toBe(true);
  });
});

describe('sandbox: simulated fleet cutting commands short', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ profile: { syncMs: 1_500 } });
    await fleet.addHost('mgr.site-b.example', { role: 'manager' });
  });
  afterAll(async () => {
    await fleet.stop();
  });

  it('exits 124 when the simulated duration exceeds the `timeout` limit', async () => {
    const ssh = await connect(fleet, 'mgr.site-b.example');
    try {
      const before = Date.now();
      const result = await ssh.execCommand(
        "timeout -k 5 1 sh -c 'sudo -n /usr/sbin/storage-sync --node db-9'",
      );
      expect(result.code).toBe(124);
      expect(result.stdout).toBe('');
      const elapsed = Date.now() - before;
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(1_450);
    } finally {
      ssh.dispose();
    }
  });

  it('abandons a running command when the client drops the connection, and never completes it', async () => {
    const ssh = await connect(fleet, 'mgr.site-b.example');
    const running = ssh
      .execCommand('sudo -n /usr/sbin/storage-sync --node db-8')
      .catch((error: unknown) => error);
    const isDb8 = (entry: FleetCommand): boolean => entry.command.endsWith('--node db-8');
    await until('the command on db-8', () => fleet.commands().filter(isDb8).length === 1, {
      timeoutMs: 2_000,
    });
    ssh.dispose();
    await running;
    const [entry] = await until(
      'the command on db-8 to end',
      () => {
        const entries = fleet.commands().filter(isDb8);
        return entries[0]?.state !== 'running' && entries;
      },
      { timeoutMs: 2_000 },
    );
    expect(entry).toMatchObject({ state: 'abandoned', exitCode: null });
  });
});

describe('sandbox: simulated fleet at scale', () => {
  it('starts 300 hosts on distinct loopback addresses and one port, tells them apart by address, and frees them on stop', async () => {
    const fleet = await startFleet({});
    const names = Array.from({ length: 300 }, (_, index) => `node-${index}.site-c.example`);
    const addresses = await Promise.all(names.map((name) => fleet.addHost(name)));
    expect(new Set(addresses).size).toBe(300);
    expect(addresses.every((address) => /^127\.10\.\d+\.\d+$/.test(address))).toBe(true);
    const port = fleet.portOf(names[0] ?? '') ?? 0;
    expect(new Set(names.map((name) => fleet.portOf(name)))).toEqual(new Set([port]));

    // Past the first 254 addresses (127.10.1.x): the memtest started there is that host's alone.
    const [first, last] = [names[0] ?? '', names[299] ?? ''];
    const ssh = await connect(fleet, last);
    expect((await ssh.execCommand(MEMCHECK_START)).code).toBe(0);
    ssh.dispose();
    const other = await connect(fleet, first);
    expect((await other.execCommand(MEMCHECK_STATUS)).stdout).toBe('NOT STARTED');
    other.dispose();
    expect(fleet.count(last, 'memcheck start')).toBe(1);
    expect(fleet.count(first, 'memcheck start')).toBe(0);

    await fleet.stop();
    const refused = await Promise.all(addresses.slice(0, 20).map((address) => refuses(address, port)));
    expect(refused.every(Boolean)).toBe(true);
    await expect(fleet.addHost('late.example')).rejects.toThrow(/stopped/);
  });

  it('starts 1000 hosts (startup cost printed)', async () => {
    const fleet = await startFleet({});
    const startedAt = performance.now();
    const ports = await Promise.all(
      Array.from({ length: 1_000 }, (_, index) => fleet.addHost(`node-${index}.site-d.example`)),
    );
    const startMs = performance.now() - startedAt;
    const stopAt = performance.now();
    await fleet.stop();
    const stopMs = performance.now() - stopAt;
    console.log(`fleet: 1000 hosts started in ${startMs.toFixed(0)} ms, stopped in ${stopMs.toFixed(0)} ms`);
    expect(new Set(ports).size).toBe(1_000);
  });
});

describe('sandbox: simulated fleet reading command lines', () => {
  it('unwraps timeout options, durations with units, and sh -c', () => {
    expect(readCommandLine("timeout -k 5 2m sh -c 'sudo -n /usr/sbin/blacklist show a.example'")).toEqual({
      ok: true,
      line: {
        argv: ['sudo', '-n', '/usr/sbin/blacklist', 'show', 'a.example'],
        command: 'sudo -n /usr/sbin/blacklist show a.example',
        timeoutMs: 120_000,
      },
    });
    expect(readCommandLine('timeout --signal=KILL 30 memcheck status')).toMatchObject({
      ok: true,
      line: { command: 'memcheck status', timeoutMs: 30_000 },
    });
    expect(readCommandLine('sh -c \'exec echo "$HOME"\'')).toMatchObject({
      ok: true,
      line: { argv: ['echo', '$HOME'] },
    });
  });

  it('refuses shell syntax the simulated hosts do not interpret, and bad durations', () => {
    const compound = readCommandLine("sh -c 'a && b'");
    expect(compound.ok ? 'accepted' : compound.reason).toMatch(/unsupported shell syntax/);
    const badDuration = readCommandLine('timeout soon memcheck status');
    expect(badDuration.ok ? 'accepted' : badDuration.reason).toMatch(/invalid time interval 'soon'/);
  });
});

describe('SSH transports reaching the fleet by name through RUNBOT_HOSTS_FILE', () => {
  let fleet: Fleet;
  let dir: string;
  let runner: SshTransports;
  const files = () => ({
    key: join(dir, 'id_ed25519'),
    knownHosts: join(dir, 'known_hosts'),
    hosts: join(dir, 'hosts'),
  });
  async function writeFiles(names: string[]): Promise<void> {
    // node-ssh looks keys up as [name]:port; OpenSSH, given HostKeyAlias, under the bare name.
    const pins = names.map((name) => `${fleet.knownHostsLine(name)}\n${name} ${fleet.hostPublicKey}\n`);
    await writeFile(files().knownHosts, pins.join(''));
    await writeFile(
      files().hosts,
      `# written by the test\n${names.map((name) => fleet.hostsLine(name)).join('\n')}\n`,
    );
  }
  beforeAll(async () => {
    fleet = await startFleet({});
    dir = await mkdtemp(join(tmpdir(), 'runbot-fleet-hosts-'));
    await writeFile(files().key, fleet.clientPrivateKey, { mode: 0o600 });
    await fleet.addHost('db-1.site-e.example', { role: 'server' });
    await writeFiles(['db-1.site-e.example']);
    runner = new SshTransports({
      privateKey: files().key,
      knownHostsFile: files().knownHosts,
      hostsFile: files().hosts,
      openssh: true,
    });
  });
  afterAll(async () => {
    await runner.close();
    await fleet.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([['node-ssh'], ['openssh']] as const)(
    '%s dials the address the file gives the name and checks the key under the name; a host added later is found',
    async (transport) => {
      const target = (host: string) => ({
        host,
        port: fleet.portOf(host) ?? 0,
        user: 'runbot',
        ...(transport === 'openssh' ? { transport } : {}),
      });
      const result = await runner.run(target('db-1.site-e.example'), MEMCHECK_STATUS, { timeoutSeconds: 5 });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'NOT STARTED\n' });
      const later = `db-${transport}.site-e.example`;
      await fleet.addHost(later, { role: 'server' });
      await writeFiles(['db-1.site-e.example', later]);
      await runner.run(target(later), MEMCHECK_START, { timeoutSeconds: 5 });
      expect(fleet.count(later, 'memcheck start')).toBe(1);
      expect(fleet.count('db-1.site-e.example', 'memcheck start')).toBe(0);
    },
  );
});
