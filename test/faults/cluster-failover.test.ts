// Redis Cluster failover: three masters with a replica each (Debian's redis-server, started and
// stopped by PID), the master serving `{runbot}`'s slot SIGKILLed while steps run. The poller and
// both workers must follow the promoted replica without a restart: every ticket Done, no step run
// twice, no comment twice, no failed job. The cluster is held down (the replica frozen) for 8 s
// before it may take over: longer than BullMQ's 6 s watchdog on a blocked BZPOPMIN (its 5 s block
// + 1 s), so a Worker blocked when the master died resets its blocking connection while the
// cluster reports itself down.
// That reset is what hung the Workers for good before connection.ts turned off the cluster
// client's ready check (the reason is written there); a quick failover hit it one run in five.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  brokenGuarantees,
  commandsInFlight,
  countByStatus,
  drained,
  queueState,
  settle,
  summary,
} from '../support/faults/checks.js';
import { startRedisCluster, type RedisCluster } from '../support/faults/cluster.js';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';

const TICKETS = 20;
const TAG = 'runbot';
/** Longer than BullMQ's watchdog on a blocking BZPOPMIN (drainDelay 5 s + 1 s). */
const DOWN_FOR_MS = 8_000;

describe('faults: the Redis Cluster master of {runbot} fails over', () => {
  let cluster: RedisCluster | undefined;
  let env: FaultEnvironment | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1 });
    env = await startFaultEnvironment({
      profile: { syncMs: 1_200, rebalanceMs: 1_200 },
      // RUNBOT_QUEUE_PREFIX is left unset: with cluster nodes it defaults to `{runbot}`.
      env: { REDIS_CLUSTER_NODES: cluster.seeds },
    });
    await env.seedTickets('cfail', TICKETS);
  });
  afterAll(async () => {
    await env?.stop();
    await cluster?.stop();
  });

  it('kills the master mid-run: every ticket Done, no step twice, no comment twice', async () => {
    const w = env!;
    const c = cluster!;
    w.processes.start('poll');
    w.processes.start('work');
    w.processes.start('work');
    await commandsInFlight(w, 3);
    const before = w.fleet.commands().length;
    const { killed, promoted } = await c.killMasterOf(TAG, { downForMs: DOWN_FOR_MS });
    expect(promoted).not.toBe(killed.url);

    await settle(w, { timeoutMs: 180_000 });
    // The queues as the promoted master holds them (queueState reads one server).
    const onMaster = {
      ...w,
      env: { ...w.env, RUNBOT_QUEUE_PREFIX: '{runbot}' },
      redis: { ...w.redis, url: await c.masterUrlFor(TAG) },
    };
    expect(onMaster.redis.url).toBe(promoted);
    console.info('queue once the tickets settled', JSON.stringify((await queueState(onMaster)).counts));
    // A job whose completion was lost in the failover stays active until its lock lapses (60 s) and
    // BullMQ's stalled check (every 30 s) puts it back; run again, it finds its step done in Jira.
    const queue = await drained(onMaster, 120_000);
    w.processes.assertNoneCrashed();
    expect(w.fleet.commands().length).toBeGreaterThan(before);
    expect(brokenGuarantees(w)).toEqual([]);
    expect(countByStatus(w)).toEqual({ Done: TICKETS });
    expect(queue.failed).toEqual([]);
    console.info(
      'faults summary',
      JSON.stringify(summary(w, { scenario: 'redis cluster failover', queue: queue.counts })),
    );
  });
});
