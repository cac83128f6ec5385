// Redis behind Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME): the master is killed while steps
// run, the sentinel promotes the replica, and every process follows it. Nothing is lost and nothing
// is done twice: BullMQ's jobs live on in the replica (replication is asynchronous, so the last few
// writes may not), the poller re-derives any lost job from Jira, and Jira's bookkeeping keeps a
// re-derived step from running a second time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  brokenGuarantees,
  commandsInFlight,
  countByStatus,
  drained,
  settle,
  summary,
} from '../support/faults/checks.js';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';
import { MASTER_NAME, startSentinelSet, type SentinelSet } from '../support/faults/sentinel.js';

const TICKETS = 20;

describe('faults: Redis master fails over under Sentinel', () => {
  let redis: SentinelSet | undefined;
  let env: FaultEnvironment | undefined;
  beforeAll(async () => {
    redis = await startSentinelSet();
    env = await startFaultEnvironment({
      profile: { syncMs: 1_200, rebalanceMs: 1_200 },
      env: {
        REDIS_URL: redis.master.url,
        REDIS_SENTINELS: redis.sentinels,
        REDIS_SENTINEL_NAME: MASTER_NAME,
      },
    });
    await env.seedTickets('sentinel', TICKETS);
  });
  afterAll(async () => {
    await env?.stop();
    await redis?.stop();
  });

  it('kills the master mid-run: every ticket Done, no step twice, no comment twice', async () => {
    const w = env!;
    const set = redis!;
    w.processes.start('poll');
    w.processes.start('work');
    w.processes.start('work');
    await commandsInFlight(w, 3);
    const before = w.fleet.commands().length;
    await set.killMasterAndFailOver();

    await settle(w, { timeoutMs: 180_000 });
    // The queue as the new master holds it.
    const promoted = { ...w, redis: { ...w.redis, url: await set.masterUrl() } };
    expect(promoted.redis.url).toBe(set.replica.url);
    const queue = await drained(promoted);
    w.processes.assertNoneCrashed();
    expect(w.fleet.commands().length).toBeGreaterThan(before);
    expect(brokenGuarantees(w)).toEqual([]);
    expect(countByStatus(w)).toEqual({ Done: TICKETS });
    expect(queue.failed).toEqual([]);
    console.info(
      'faults summary',
      JSON.stringify(summary(w, { scenario: 'sentinel failover', queue: queue.counts })),
    );
  });
});
