// The wait step's rounds on a real redis-server: one check per interval per ticket visit, whichever
// worker asks first; the next interval opens when the first one's key lapses; a Redis that does not
// answer lets the check run (a check is read-only).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepJob } from '../../src/queue/index.js';
import { redisCheckRounds } from '../../src/runner/check-rounds.js';
import { until } from '../support/poll.js';
import { startRedis, type RedisInstance } from '../support/redis.js';

const job = (visit: number, round: number): StepJob => ({
  key: 'RND-1',
  workflow: 'rma-restore',
  status: 'Memcheck Running',
  visit,
  kind: 'checkStep',
  round,
});

describe('check rounds in Redis', () => {
  let server: RedisInstance | undefined;
  let redis: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('gives an interval to one job of a visit, and the next interval once it lapses', async () => {
    const rounds = redisCheckRounds(redis!, '{rounds}');
    expect(await rounds.take(job(3, 6), 300)).toBe(true);
    expect(await rounds.take(job(3, 7), 300)).toBe(false);
    // Another visit of the ticket has rounds of its own.
    expect(await rounds.take(job(4, 0), 300)).toBe(true);
    expect(await redis!.pttl('{rounds}:checked:RND-1:v3')).toBeGreaterThan(0);
    await until('the interval to lapse', async () => (await rounds.take(job(3, 8), 300)) || undefined);
  });

  it('lets the check run when Redis does not answer', async () => {
    const gone = new Redis(server!.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    expect(await redisCheckRounds(gone, '{rounds}').take(job(5, 1), 300)).toBe(true);
    gone.disconnect();
  });
});
