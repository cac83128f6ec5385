// Held jobs in the worker, over the real parts (sshd, redis-server, the Jira sandbox): a step job
// that was queued before its breaker opened, or that meets a freeze, waits in its queue — the
// ticket stays in its status, nothing reaches the host — and runs once the hold ends.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BreakerStore, StepQueue, queueName, type StepJob } from '../../src/queue/index.js';
import { until } from '../support/poll.js';
import { inventorySite, sshOf, startWorld, type World } from '../support/world.js';

const HELD = 'node-1.a.internal';
const FROZEN = 'node-2.b.internal';

describe('worker: held step jobs wait in their queue and run when the hold ends', () => {
  let world: World;
  let redis: Redis;
  let queue: StepQueue;
  let freezeEnds = 0;
  const syncLog = () => world.workFile('sync.log') ?? '';
  const delayed = async (site: string, key: string) => {
    const siteQueue = new Queue<StepJob>(queueName(site), {
      connection: { url: world.redis!.url },
      prefix: world.config.RUNBOT_QUEUE_PREFIX,
    });
    try {
      return (await siteQueue.getJobs(['delayed'])).some((job) => job.data.key === key);
    } finally {
      await siteQueue.close();
    }
  };
  const syncJob = (key: string, site: string): StepJob => ({
    key,
    workflow: 'holds',
    status: 'Sync',
    visit: 1,
    kind: 'runStep',
    site,
    step: 'sync',
  });

  beforeAll(async () => {
    world = await startWorld({
      name: 'holds',
      steps: ({ work }) => `
sync:
  kind: ssh
  target: '{{ host }}'
  commands: ['echo $(date +%s) {{ host.short }} >> ${work}/sync.log']
  timeout: 20s
`,
      workflow: 'statuses:\n  Sync: { step: sync, next: Done }\n',
      sshd: { knownHostsNames: [HELD, FROZEN] },
      inventory: ({ sshd }) => {
        // Long enough for the job to meet the freeze; the test waits for its end.
        freezeEnds = Math.ceil(Date.now() / 1000) + 15;
        const ends = new Date(freezeEnds * 1000).toISOString();
        return (
          'sites:\n' +
          inventorySite('a', { ssh: sshOf(sshd), breaker: '{ failures: 1, window: 1 }' }) +
          inventorySite('b', {
            ssh: sshOf(sshd),
            freezes: `[{ from: '2000-01-01T00:00Z', to: '${ends}', reason: 'switch upgrade' }]`,
          })
        );
      },
      // Workers only: the test enqueues the jobs itself, as a poll cycle before the hold would have.
      roles: { poll: false, work: true, http: false },
    });
    redis = new Redis(world.redis!.url);
    queue = new StepQueue({ redisUrl: world.redis!.url, prefix: world.config.RUNBOT_QUEUE_PREFIX });
  });
  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    await world?.stop();
  });

  it('defers a step queued before its breaker opened, untouched, and runs it after the reset', async () => {
    const breakers = new BreakerStore(redis, world.config.RUNBOT_QUEUE_PREFIX);
    const { key } = await world.seed(HELD);
    // Another ticket's failure opens the breaker of a/sync (1 of the last 1).
    const limits = { failures: 1, window: 1 };
    expect(
      await breakers.record({
        site: 'a',
        step: 'sync',
        ticket: 'HOT-99',
        failed: true,
        limits,
        now: new Date(),
      }),
    ).toBeDefined();
    await queue.enqueue(syncJob(key, 'a'));

    await until('the job deferred by the open breaker', () => delayed('a', key));
    expect(world.sandbox.snapshot(key)?.status).toBe('Sync');
    expect(syncLog()).not.toContain('node-1');

    expect(await breakers.reset('a', 'sync')).toBe(true);
    await until('the held ticket Done', () => world.sandbox.snapshot(key)?.status === 'Done');
    expect(syncLog().match(/node-1/g)).toHaveLength(1);
  });

  it('defers a step of a frozen site until the freeze ends, then runs it', async () => {
    const { key } = await world.seed(FROZEN);
    await queue.enqueue(syncJob(key, 'b'));
    await until('the job deferred by the freeze', () => delayed('b', key));
    expect(world.sandbox.snapshot(key)?.status).toBe('Sync');

    await until('the frozen ticket Done', () => world.sandbox.snapshot(key)?.status === 'Done', {
      timeoutMs: 60_000,
    });
    const line = syncLog()
      .split('\n')
      .find((entry) => entry.endsWith(' node-2'));
    // It ran once, and not before the freeze ended (the host's clock, in whole seconds).
    expect(syncLog().match(/node-2/g)).toHaveLength(1);
    expect(Number(line?.split(' ')[0])).toBeGreaterThanOrEqual(freezeEnds);
  });
});
