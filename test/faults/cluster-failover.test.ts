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
import { queueState } from '../support/faults/checks.js';
import { startRedisCluster, type RedisCluster } from '../support/faults/cluster.js';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';
import { runThroughFailover } from '../support/faults/failover.js';

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
    const c = cluster!;
    let promoted: string | undefined;
    await runThroughFailover(env!, {
      scenario: 'redis cluster failover',
      failOver: async () => {
        const failover = await c.killMasterOf(TAG, { downForMs: DOWN_FOR_MS });
        expect(failover.promoted).not.toBe(failover.killed.url);
        promoted = failover.promoted;
      },
      promoted: async () => {
        const url = await c.masterUrlFor(TAG);
        expect(url).toBe(promoted);
        const onMaster = {
          ...env!,
          env: { ...env!.env, RUNBOT_QUEUE_PREFIX: '{runbot}' },
          redis: { ...env!.redis, url },
        };
        console.info('queue once the tickets settled', JSON.stringify((await queueState(onMaster)).counts));
        return onMaster;
      },
      // A job whose completion was lost in the failover stays active until its lock lapses (60 s) and
      // BullMQ's stalled check (every 30 s) puts it back; run again, it finds its step done in Jira.
      drainMs: 120_000,
    });
  });
});
