// Guards over the real parts: the Jira sandbox, a real redis-server, the simulated fleet over real
// SSH, and the service's own poller and workers. The per-site cap is measured on the executor side,
// by a counting wrapper around the real SSH runner; routing and the global pause are read from the
// queues and the fleet.
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshRunner } from '../../src/executors/ssh/index.js';
import type { CommandRunner } from '../../src/executors/types.js';
import { PauseSwitch, queueName, type StepJob } from '../../src/queue/index.js';
import { startFleet, type Fleet } from '../../src/sandbox/fleet/index.js';
import { until } from '../support/poll.js';
import { startWorld, type World } from '../support/world.js';

const SITE_CAP = 2;
const TICKETS = 50;
const MANAGER_A = 'manager-0.a.internal';
const MANAGER_B = 'manager-0.b.internal';

const STEPS = `
sync:
  kind: ssh
  target: '{{ site.manager }}'
  commands: ['sudo -n /usr/sbin/storage-sync --node {{ host.short }}']
  timeout: 30s
  expect: { output: 'sync complete' }
`;

/** Counts the commands running at once per target host, around the real runner. */
class CountingRunner implements CommandRunner {
  readonly running = new Map<string, number>();
  readonly peak = new Map<string, number>();

  constructor(private readonly inner: CommandRunner) {}

  async run(...args: Parameters<CommandRunner['run']>) {
    const host = args[0].host;
    const now = (this.running.get(host) ?? 0) + 1;
    this.running.set(host, now);
    this.peak.set(host, Math.max(now, this.peak.get(host) ?? 0));
    try {
      return await this.inner.run(...args);
    } finally {
      this.running.set(host, (this.running.get(host) ?? 1) - 1);
    }
  }

  close() {
    return this.inner.close();
  }
}

interface Guarded {
  world: World;
  fleet: Fleet;
  runner: CountingRunner;
}

/** Two sites' managers in the simulated fleet; no service yet: it starts once the tickets are seeded. */
async function startGuarded(): Promise<Guarded> {
  const fleet = await startFleet({ profile: { syncMs: 150 } });
  try {
    // Each site is only its manager here, so the site's ssh.address is the manager's address.
    const addressA = await fleet.addHost(MANAGER_A, { role: 'manager' });
    const addressB = await fleet.addHost(MANAGER_B, { role: 'manager' });
    const port = fleet.portOf(MANAGER_A);
    const world = await startWorld({
      name: 'sync-only',
      steps: STEPS,
      workflow: `statuses:
  Sync: { step: sync, next: Done }
`,
      inventory: `sites:
  a:
    hosts: '\\.a\\.internal$'
    manager: ${MANAGER_A}
    ssh: { user: runbot, port: ${port}, address: ${addressA} }
    caps: { per_site: ${SITE_CAP} }
  b:
    hosts: '\\.b\\.internal$'
    manager: ${MANAGER_B}
    ssh: { user: runbot, port: ${port}, address: ${addressB} }
`,
      files: { known_hosts: `${fleet.knownHostsLine(MANAGER_A)}\n${fleet.knownHostsLine(MANAGER_B)}\n` },
      env: ({ root }) => ({
        RUNBOT_SSH_KEY: fleet.clientPrivateKey,
        RUNBOT_KNOWN_HOSTS: path.join(root, 'known_hosts'),
        RUNBOT_CONCURRENCY: '8',
        RUNBOT_SITES: 'a',
      }),
      roles: false,
    });
    const runner = new CountingRunner(
      new SshRunner({ privateKey: fleet.clientPrivateKey, knownHostsFile: world.config.RUNBOT_KNOWN_HOSTS }),
    );
    return { world, fleet, runner };
  } catch (error) {
    await fleet.stop();
    throw error;
  }
}

async function stopGuarded(guarded: Guarded | undefined): Promise<void> {
  await guarded?.world.stop();
  await guarded?.runner.close();
  await guarded?.fleet.stop();
}

describe('guards: per-site cap and per-site routing', () => {
  let guarded: Guarded | undefined;
  const keysA: string[] = [];
  let keyB = '';

  beforeAll(async () => {
    guarded = await startGuarded();
    const { world, runner } = guarded;
    for (let index = 0; index < TICKETS; index += 1) {
      keysA.push((await world.seed(`node-${index}.a.internal`)).key);
    }
    keyB = (await world.seed('node-0.b.internal')).key;
    // One process that polls and works site a only, with room for 8 steps at once.
    await world.startService({ poll: true, work: true, http: false }, { overrides: { runner } });
  });
  afterAll(() => stopGuarded(guarded));

  it(`never runs more than ${SITE_CAP} steps at once in a site, across ${TICKETS} tickets`, async () => {
    const { world: w, fleet, runner } = guarded!;
    await until(
      `all ${TICKETS} tickets Done`,
      () => keysA.every((key) => w.sandbox.snapshot(key)?.status === 'Done'),
      { timeoutMs: 60_000 },
    );
    expect(runner.peak.get(MANAGER_A)).toBe(SITE_CAP);
    // Each sync ran once on the manager: deferring a capped step never repeats one.
    expect(fleet.count(MANAGER_A, 'storage-sync')).toBe(TICKETS);
  });

  it("leaves another site's work queued in that site's queue, for that site's worker", async () => {
    const { world: w, fleet } = guarded!;
    const queueB = new Queue<StepJob>(queueName('b'), {
      connection: { url: w.redis!.url },
      prefix: w.config.RUNBOT_QUEUE_PREFIX,
    });
    try {
      const waiting = await until('the site b job in its queue', async () => {
        const jobs = await queueB.getJobs(['waiting']);
        return jobs.length > 0 ? jobs : undefined;
      });
      expect(waiting.map((job) => job.data.key)).toEqual([keyB]);
      expect(w.sandbox.snapshot(keyB)?.status).toBe('Sync');
      expect(fleet.count(MANAGER_B, 'storage-sync')).toBe(0);

      // A worker for site b only (`runbot work --site b`) takes it.
      await w.startService({ poll: false, work: true, http: false }, { config: { RUNBOT_SITES: ['b'] } });
      await until('the site b ticket Done', () => w.sandbox.snapshot(keyB)?.status === 'Done');
      expect(fleet.count(MANAGER_B, 'storage-sync')).toBe(1);
    } finally {
      await queueB.close();
    }
  });

  it('holds every new step during a global pause and runs it once the pause is lifted', async () => {
    const { world: w, fleet } = guarded!;
    const redis = new Redis(w.redis!.url);
    const pause = new PauseSwitch(redis, w.config.RUNBOT_QUEUE_PREFIX);
    const queueA = new Queue<StepJob>(queueName('a'), {
      connection: { url: w.redis!.url },
      prefix: w.config.RUNBOT_QUEUE_PREFIX,
    });
    try {
      await pause.pause('maintenance in site a');
      const { key } = await w.seed('late-1.a.internal');
      // The poller enqueued it and a worker put it back untouched: it waits, delayed, in the queue.
      await until('the job deferred by the pause', async () => {
        const delayed = await queueA.getJobs(['delayed']);
        return delayed.some((job) => job.data.key === key);
      });
      expect(w.sandbox.snapshot(key)?.status).toBe('Sync');
      expect(fleet.count(MANAGER_A, 'late-1')).toBe(0);

      await pause.resume();
      await until('the paused ticket Done', () => w.sandbox.snapshot(key)?.status === 'Done');
      expect(fleet.count(MANAGER_A, 'late-1')).toBe(1);
    } finally {
      await pause.resume();
      await queueA.close();
      redis.disconnect();
    }
  });
});
