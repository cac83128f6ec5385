// Guards over the real parts: the Jira sandbox, a real redis-server, the simulated fleet over real
// SSH, and the service's own poller and workers. The per-site cap is measured on the executor side,
// by a counting wrapper around the real SSH runner; routing and the global pause are read from the
// queues and the fleet.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema, type Config } from '../../src/config.js';
import { loadDefinitions, type Workflow } from '../../src/definitions/index.js';
import { SshRunner } from '../../src/executors/ssh/index.js';
import type { CommandRunner } from '../../src/executors/types.js';
import { createLogger } from '../../src/logger.js';
import { PauseSwitch, queueName, type StepJob } from '../../src/queue/index.js';
import { startFleet, type Fleet } from '../../src/sandbox/fleet/index.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import { HOST_FIELD, restoreProject, RMA_PROJECT } from '../../src/sandbox/rma-jira.js';
import { startRedis, type RedisInstance } from '../../src/sandbox/redis.js';
import { jiraSeeder } from '../../src/sandbox/seed.js';
import { startService, type RunningService } from '../../src/service/app.js';
import { until } from '../support/poll.js';

const CREDENTIALS = { email: 'runbot@example.com', apiToken: 'guards-token' };
const SITE_CAP = 2;
const TICKETS = 50;
const MANAGER_A = 'manager-0.a.internal';
const MANAGER_B = 'manager-0.b.internal';

const RUNBOOK = `name: sync-only
inputs:
  host: { pattern: '^[a-z0-9.-]+$' }
steps:
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

interface World {
  fleet: Fleet;
  redis: RedisInstance;
  sandbox: JiraSandbox;
  jiraUrl: string;
  workflow: Workflow;
  config: Config;
  services: RunningService[];
  runner: CountingRunner;
}

async function startWorld(): Promise<World> {
  const root = await mkdtemp(path.join(tmpdir(), 'runbot-guards-'));
  await mkdir(path.join(root, 'runbooks'));
  await mkdir(path.join(root, 'workflows'));
  await writeFile(path.join(root, 'runbooks', 'sync-only.yaml'), RUNBOOK);
  await writeFile(
    path.join(root, 'workflows', 'sync-only.yaml'),
    `name: sync-only
runbook: sync-only
jira: { project: HOT, issue_type: RMA Restore }
fields: { host: ${HOST_FIELD.id} }
statuses:
  Sync: { step: sync, next: Done }
failure: Actionable
done: Done
`,
  );
  const fleet = await startFleet({ profile: { syncMs: 150 } });
  const portA = await fleet.addHost(MANAGER_A, { role: 'manager' });
  const portB = await fleet.addHost(MANAGER_B, { role: 'manager' });
  await writeFile(
    path.join(root, 'workflows', 'inventory.yaml'),
    `sites:
  a:
    hosts: '\\.a\\.internal$'
    manager: ${MANAGER_A}
    ssh: { user: runbot, port: ${portA}, address: 127.0.0.1 }
    caps: { per_site: ${SITE_CAP} }
  b:
    hosts: '\\.b\\.internal$'
    manager: ${MANAGER_B}
    ssh: { user: runbot, port: ${portB}, address: 127.0.0.1 }
`,
  );
  const knownHosts = path.join(root, 'known_hosts');
  await writeFile(knownHosts, `${fleet.knownHostsLine(MANAGER_A)}\n${fleet.knownHostsLine(MANAGER_B)}\n`);
  const redis = await startRedis();
  const workflow = (await loadDefinitions({ root })).workflows.get('sync-only');
  if (!workflow) throw new Error('fixture workflow missing');
  const sandbox = new JiraSandbox({
    projects: [restoreProject(workflow), RMA_PROJECT],
    customFields: [HOST_FIELD],
    credentials: CREDENTIALS,
  });
  const jiraUrl = await sandbox.start(0, '127.0.0.1');
  const config = ConfigSchema.parse({
    JIRA_URL: jiraUrl,
    JIRA_EMAIL: CREDENTIALS.email,
    JIRA_API_TOKEN: CREDENTIALS.apiToken,
    REDIS_URL: redis.url,
    RUNBOT_HTTP_PORT: '0',
    RUNBOT_DEFINITIONS: root,
    RUNBOT_SSH_KEY: fleet.clientPrivateKey,
    RUNBOT_KNOWN_HOSTS: knownHosts,
    RUNBOT_POLL_INTERVAL: '0.2',
    RUNBOT_CONCURRENCY: '8',
    RUNBOT_SITES: 'a',
  });
  const runner = new CountingRunner(
    new SshRunner({ privateKey: fleet.clientPrivateKey, knownHostsFile: knownHosts }),
  );
  return { fleet, redis, sandbox, jiraUrl, workflow, config, services: [], runner };
}

async function stopWorld(world: World | undefined): Promise<void> {
  for (const service of world?.services ?? []) await service.stop();
  await world?.runner.close();
  await world?.sandbox.stop();
  await world?.redis.stop();
  await world?.fleet.stop();
}

const quiet = () => createLogger({ level: 'warn' });

describe('guards: per-site cap and per-site routing', () => {
  let world: World | undefined;
  const keysA: string[] = [];
  let keyB = '';

  beforeAll(async () => {
    world = await startWorld();
    const seeder = jiraSeeder(world.jiraUrl, CREDENTIALS);
    for (let index = 0; index < TICKETS; index += 1) {
      keysA.push((await seeder.restoreTicket(world.workflow, `node-${index}.a.internal`)).key);
    }
    keyB = (await seeder.restoreTicket(world.workflow, 'node-0.b.internal')).key;
    // One process that polls and works site a only, with room for 8 steps at once.
    world.services.push(
      await startService(world.config, { poll: true, work: true, http: false }, quiet(), {
        runner: world.runner,
      }),
    );
  });
  afterAll(() => stopWorld(world));

  it(`never runs more than ${SITE_CAP} steps at once in a site, across ${TICKETS} tickets`, async () => {
    const w = world!;
    await until(
      `all ${TICKETS} tickets Done`,
      () => keysA.every((key) => w.sandbox.snapshot(key)?.status === 'Done'),
      { timeoutMs: 60_000 },
    );
    expect(w.runner.peak.get(MANAGER_A)).toBe(SITE_CAP);
    // Each sync ran once on the manager: deferring a capped step never repeats one.
    expect(w.fleet.count(MANAGER_A, 'storage-sync')).toBe(TICKETS);
  });

  it("leaves another site's work queued in that site's queue, for that site's worker", async () => {
    const w = world!;
    const queueB = new Queue<StepJob>(queueName('b'), {
      connection: { url: w.redis.url },
      prefix: w.config.RUNBOT_QUEUE_PREFIX,
    });
    try {
      const waiting = await until('the site b job in its queue', async () => {
        const jobs = await queueB.getJobs(['waiting']);
        return jobs.length > 0 ? jobs : undefined;
      });
      expect(waiting.map((job) => job.data.key)).toEqual([keyB]);
      expect(w.sandbox.snapshot(keyB)?.status).toBe('Sync');
      expect(w.fleet.count(MANAGER_B, 'storage-sync')).toBe(0);

      // A worker for site b only (`runbot work --site b`) takes it.
      w.services.push(
        await startService(
          { ...w.config, RUNBOT_SITES: ['b'] },
          { poll: false, work: true, http: false },
          quiet(),
        ),
      );
      await until('the site b ticket Done', () => w.sandbox.snapshot(keyB)?.status === 'Done');
      expect(w.fleet.count(MANAGER_B, 'storage-sync')).toBe(1);
    } finally {
      await queueB.close();
    }
  });

  it('holds every new step during a global pause and runs it once the pause is lifted', async () => {
    const w = world!;
    const redis = new Redis(w.redis.url);
    const pause = new PauseSwitch(redis, w.config.RUNBOT_QUEUE_PREFIX);
    const queueA = new Queue<StepJob>(queueName('a'), {
      connection: { url: w.redis.url },
      prefix: w.config.RUNBOT_QUEUE_PREFIX,
    });
    try {
      await pause.pause('maintenance in site a');
      const { key } = await jiraSeeder(w.jiraUrl, CREDENTIALS).restoreTicket(w.workflow, 'late-1.a.internal');
      // The poller enqueued it and a worker put it back untouched: it waits, delayed, in the queue.
      await until('the job deferred by the pause', async () => {
        const delayed = await queueA.getJobs(['delayed']);
        return delayed.some((job) => job.data.key === key);
      });
      expect(w.sandbox.snapshot(key)?.status).toBe('Sync');
      expect(w.fleet.count(MANAGER_A, 'late-1')).toBe(0);

      await pause.resume();
      await until('the paused ticket Done', () => w.sandbox.snapshot(key)?.status === 'Done');
      expect(w.fleet.count(MANAGER_A, 'late-1')).toBe(1);
    } finally {
      await pause.resume();
      await queueA.close();
      redis.disconnect();
    }
  });
});
