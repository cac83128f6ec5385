// Redis Cluster (REDIS_CLUSTER_NODES) with the `{runbot}` hash-tag prefix: Debian's redis-server in
// cluster mode, three masters, started by the test. Tickets run end to end through the sandbox with
// the poller and two workers on the cluster: every ticket Done, no step twice, no comment twice,
// every key runbot and BullMQ wrote in the one slot of `{runbot}`, and nothing on REDIS_URL's server
// (in cluster mode it gives only user, password and TLS).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenGuarantees, countByStatus, drained, settle, summary } from '../support/faults/checks.js';
import { startRedisCluster, type RedisCluster } from '../support/faults/cluster.js';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';

const TICKETS = 20;
const TAG = 'runbot';

describe('faults: Redis Cluster with the {runbot} prefix', () => {
  let cluster: RedisCluster | undefined;
  let env: FaultEnvironment | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    env = await startFaultEnvironment({
      // RUNBOT_QUEUE_PREFIX is left unset: with cluster nodes it defaults to `{runbot}`.
      env: { REDIS_CLUSTER_NODES: cluster.seeds },
    });
    await env.seedTickets('cluster', TICKETS);
  });
  afterAll(async () => {
    await env?.stop();
    await cluster?.stop();
  });

  it('runs every ticket to Done on the cluster: no step twice, no comment twice', async () => {
    const w = env!;
    w.processes.start('poll');
    w.processes.start('work');
    w.processes.start('work');

    await settle(w, { timeoutMs: 180_000 });
    // The queues as the master of `{runbot}`'s slot holds them (queueState reads one server).
    const master = await cluster!.masterUrlFor(TAG);
    const onMaster = {
      ...w,
      env: { ...w.env, RUNBOT_QUEUE_PREFIX: '{runbot}' },
      redis: { ...w.redis, url: master },
    };
    const queue = await drained(onMaster);
    w.processes.assertNoneCrashed();
    expect(brokenGuarantees(w)).toEqual([]);
    expect(countByStatus(w)).toEqual({ Done: TICKETS });
    expect(queue.failed).toEqual([]);
    expect(queue.counts.completed).toBeGreaterThanOrEqual(TICKETS);

    const [onMasterKeys, elsewhere] = await keysByNode(cluster!, master);
    expect(onMasterKeys.length).toBeGreaterThan(0);
    expect(onMasterKeys.filter((key) => !key.startsWith('{runbot}:'))).toEqual([]);
    expect(elsewhere).toEqual([]);
    // The fault environment's own redis-server (REDIS_URL) was never written to.
    const standalone = new Redis(w.redis.url, { maxRetriesPerRequest: 1 });
    try {
      expect(await standalone.dbsize()).toBe(0);
    } finally {
      standalone.disconnect();
    }
    console.info(
      'faults summary',
      JSON.stringify(summary(w, { scenario: 'redis cluster', queue: queue.counts })),
    );
  });
});

/** Every key on the master at `masterUrl`, and every key on the other nodes. */
async function keysByNode(cluster: RedisCluster, masterUrl: string): Promise<[string[], string[]]> {
  const mine: string[] = [];
  const others: string[] = [];
  for (const node of cluster.nodes) {
    const client = new Redis(node.url, { maxRetriesPerRequest: 1 });
    try {
      (node.url === masterUrl ? mine : others).push(...(await client.keys('*')));
    } finally {
      client.disconnect();
    }
  }
  return [mine, others];
}
