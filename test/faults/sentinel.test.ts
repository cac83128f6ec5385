// Redis behind Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME): the master is killed while steps
// run, the sentinel promotes the replica, and every process follows it. Nothing is lost and nothing
// is done twice: BullMQ's jobs live on in the replica (replication is asynchronous, so the last few
// writes may not), the poller re-derives any lost job from Jira, and Jira's bookkeeping keeps a
// re-derived step from running a second time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';
import { runThroughFailover } from '../support/faults/failover.js';
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
    const set = redis!;
    await runThroughFailover(env!, {
      scenario: 'sentinel failover',
      failOver: () => set.killMasterAndFailOver(),
      promoted: async () => {
        const url = await set.masterUrl();
        expect(url).toBe(set.replica.url);
        return { ...env!, redis: { ...env!.redis, url } };
      },
    });
  });
});
