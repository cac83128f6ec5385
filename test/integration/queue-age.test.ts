// A job the handler puts back delayed (a wait step's next round, a deferral) is the same BullMQ job
// with the timestamp of its first add, hours old for a long memtest's check. Once due, its wait is
// counted from when it was due, so runbot_queue_oldest_job_age_seconds shows a backlog and not the
// age of a check that has been coming back all along. Real redis-server, BullMQ's own job calls.
import { DelayedError, Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oldestWaitingAge } from '../../src/http/metrics.js';
import { createLogger } from '../../src/logger.js';
import { jobId, type StepJob } from '../../src/queue/index.js';
import { jobHandler } from '../../src/runner/handler.js';
import { again } from '../../src/runner/outcome.js';
import { startRedis, type RedisInstance } from '../support/redis.js';

const PREFIX = 'age';
const HOUR_MS = 3_600_000;

const check: StepJob = {
  key: 'HOT-7',
  workflow: 'rma-restore',
  status: 'Memcheck Running',
  visit: 3,
  kind: 'checkStep',
  site: 'dev2',
};

describe('the oldest waiting job, once a job came back from delayed', () => {
  let server: RedisInstance;
  let queue: Queue<StepJob>;
  let worker: Worker<StepJob, string>;

  beforeAll(async () => {
    server = await startRedis();
    const connection = { url: server.url };
    queue = new Queue<StepJob>('runbot-steps-dev2', { connection, prefix: PREFIX });
    // No processor: the test takes the job itself, as a worker would, and hands it to the handler.
    worker = new Worker<StepJob, string>('runbot-steps-dev2', null, {
      connection,
      prefix: PREFIX,
      autorun: false,
    });
  });
  afterAll(async () => {
    await worker?.close();
    await queue?.close();
    await server?.stop();
  });

  it('counts from when it was due back, not from its first add an hour ago', async () => {
    await queue.add('checkStep', check, { jobId: jobId(check), timestamp: Date.now() - HOUR_MS });
    // Added an hour ago and waiting since: that is an hour of wait.
    expect(await oldestWaitingAge([queue])).toBeGreaterThanOrEqual(HOUR_MS / 1000 - 1);

    const job = await worker.getNextJob('token');
    expect(job?.id).toBe(jobId(check));
    const handle = jobHandler(() => Promise.resolve(again('pending', 50)), {
      logger: createLogger({ level: 'silent' }),
    });
    await expect(handle(job, 'token')).rejects.toThrow(DelayedError);
    expect(await queue.getJobState(jobId(check))).toBe('delayed');

    // Due now (promoted, as its round begins): waiting, for moments rather than the hour since its add.
    await (await queue.getJob(jobId(check)))!.promote();
    expect(await queue.getJobState(jobId(check))).toBe('waiting');
    expect(await oldestWaitingAge([queue])).toBeLessThan(5);
  });
});
