// The poller hands a page of jobs to StepQueue.enqueue at once; the queue adds only the jobs whose id
// is not in Redis (one EXISTS of all the ids, then one per id if any is missing), each once, on its site's queue, and a job that is
// gone (a failed job removed, Redis emptied) is added again by the next hand-over. Real redis-server.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobId, queueName, StepQueue, type StepJob } from '../../src/queue/index.js';
import { startRedis, type RedisInstance } from '../support/redis.js';

const PREFIX = 'enqueue';

function job(key: string, site?: string): StepJob {
  return {
    key,
    workflow: 'rma-restore',
    status: 'Sync',
    visit: 1,
    kind: 'runStep',
    step: 'sync',
    ...(site === undefined ? {} : { site }),
  };
}

describe('StepQueue.enqueue: jobs handed over together', () => {
  let server: RedisInstance;
  let redis: Redis;
  let queue: StepQueue;
  /** Ids of the jobs waiting on a queue, oldest first. */
  const waiting = async (site?: string) =>
    (await redis.lrange(`${PREFIX}:${queueName(site)}:wait`, 0, -1)).reverse();
  /** Adds asked of a queue: BullMQ's add counts every call, one that finds its id taken too. */
  const adds = async (site?: string) => Number(await redis.get(`${PREFIX}:${queueName(site)}:id`));

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    queue = new StepQueue({ redisUrl: server.url, prefix: PREFIX });
  });
  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    await server?.stop();
  });

  it('adds each new job once, in order, on its site queue, and skips the ones already there', async () => {
    const first = [job('OPS-1', 'dc-a'), job('OPS-2', 'dc-a'), job('OPS-3'), job('OPS-1', 'dc-a')];
    await Promise.all(first.map((j) => queue.enqueue(j)));
    expect(await waiting('dc-a')).toEqual([jobId(job('OPS-1')), jobId(job('OPS-2'))]);
    expect(await waiting()).toEqual([jobId(job('OPS-3'))]);
    const addsBefore = await adds('dc-a');

    // The next cycle hands the same jobs over again, with one new one: only that one is added.
    await Promise.all([...first, job('OPS-4', 'dc-a')].map((j) => queue.enqueue(j)));
    expect(await waiting('dc-a')).toEqual([jobId(job('OPS-1')), jobId(job('OPS-2')), jobId(job('OPS-4'))]);
    expect(await adds('dc-a')).toBe(addsBefore + 1);
  });

  it('adds nothing when every job is there, and only the one that went missing otherwise', async () => {
    const jobs = [job('OPS-21', 'dc-c'), job('OPS-22', 'dc-c'), job('OPS-23', 'dc-c')];
    await Promise.all(jobs.map((j) => queue.enqueue(j)));
    const addsBefore = await adds('dc-c');
    await Promise.all(jobs.map((j) => queue.enqueue(j)));
    expect(await adds('dc-c')).toBe(addsBefore);

    await queue.queueFor('dc-c').remove(jobId(job('OPS-22')));
    await Promise.all(jobs.map((j) => queue.enqueue(j)));
    expect(await adds('dc-c')).toBe(addsBefore + 1);
    expect(await waiting('dc-c')).toEqual([jobId(job('OPS-21')), jobId(job('OPS-23')), jobId(job('OPS-22'))]);
  });

  it('adds a job again once Redis no longer has it', async () => {
    await redis.flushall();
    await queue.enqueue(job('OPS-1', 'dc-a'));
    expect(await waiting('dc-a')).toEqual([jobId(job('OPS-1'))]);
  });

  it('rejects every job of a hand-over that Redis refused', async () => {
    const other = new StepQueue({ redisUrl: server.url, prefix: `${PREFIX}-closed` });
    await other.enqueue(job('OPS-9', 'dc-b'));
    await other.close();
    const results = await Promise.allSettled([
      other.enqueue(job('OPS-10', 'dc-b')),
      other.enqueue(job('OPS-11', 'dc-b')),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });
});
