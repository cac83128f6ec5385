// A job the handler puts back delayed (a wait step's next round, a deferral) or that BullMQ retries
// after a backoff is the same BullMQ job with the timestamp of its first add, hours old for a long
// memtest's check or a job held by a maintenance window. Once due, its wait is counted from when it
// was due, so runbot_queue_oldest_job_age_seconds shows a backlog and not the age of a job that has
// been coming back all along. Real redis-server, BullMQ's own job calls; each case has its own queue.
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { oldestWaitingAge } from '../../src/http/metrics.js';
import { createLogger } from '../../src/logger.js';
import { jobId, type StepJob } from '../../src/queue/index.js';
import { jobHandler } from '../../src/runner/handler.js';
import { again, deferred, retry, type Outcome } from '../../src/runner/outcome.js';
import { startRedis, type RedisInstance } from '../support/redis.js';

const PREFIX = 'age';
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

const check: StepJob = {
  key: 'HOT-7',
  workflow: 'rma-restore',
  status: 'Memcheck Running',
  visit: 3,
  kind: 'checkStep',
  site: 'dev2',
};
const run: StepJob = {
  key: 'HOT-8',
  workflow: 'rma-restore',
  status: 'Memcheck',
  visit: 2,
  kind: 'runStep',
  step: 'memtest',
  site: 'dev2',
};

describe('the oldest waiting job, once a job came back from delayed', () => {
  let server: RedisInstance;
  const opened: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    server = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((part) => part.close()));
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A queue of its own with `job` added an hour ago (as queue.ts adds it: 3 attempts, backoff). */
  async function addedAnHourAgo(name: string, job: StepJob) {
    const connection = { url: server.url };
    const queue = new Queue<StepJob>(name, { connection, prefix: PREFIX });
    // No processor: the test takes the job itself, as a worker would, and hands it to the handler.
    const worker = new Worker<StepJob, string>(name, null, { connection, prefix: PREFIX, autorun: false });
    opened.push(worker, queue);
    await queue.add(job.kind, job, {
      jobId: jobId(job),
      timestamp: Date.now() - HOUR_MS,
      attempts: 3,
      backoff: { type: 'exponential', delay: 2000 },
    });
    // Added an hour ago and waiting since: that is an hour of wait.
    expect(await oldestWaitingAge([queue])).toBeGreaterThanOrEqual(HOUR_MS / 1000 - 1);
    return { queue, worker };
  }

  /** The worker takes the job and the handler turns `outcome` into its queue calls. */
  async function handled(worker: Worker<StepJob, string>, outcome: Outcome): Promise<Job<StepJob, string>> {
    const job = await worker.getNextJob('token');
    if (!job) throw new Error('no job to take');
    const handle = jobHandler(() => Promise.resolve(outcome), { logger: createLogger({ level: 'silent' }) });
    // What BullMQ's Worker does with an attempt that throws: a DelayedError leaves the job where the
    // handler put it; anything else fails the attempt, and a job with attempts left is retried.
    await handle(job, 'token').catch(async (error: unknown) => {
      if (!(error instanceof DelayedError)) await job.moveToFailed(error as Error, 'token');
    });
    return job;
  }

  /** Due now (promoted, as when its delay ends): waiting again. */
  async function dueAgain(queue: Queue<StepJob>, job: StepJob) {
    expect(await queue.getJobState(jobId(job))).toBe('delayed');
    await (await queue.getJob(jobId(job)))!.promote();
    expect(await queue.getJobState(jobId(job))).toBe('waiting');
  }

  it('counts from when it was due back, not from its first add an hour ago', async () => {
    const { queue, worker } = await addedAnHourAgo('runbot-steps-round', check);
    await handled(worker, again('pending', 50));
    await dueAgain(queue, check);
    // Waiting for moments rather than the hour since its add.
    expect(await oldestWaitingAge([queue])).toBeLessThan(5);
  });

  it('counts a job deferred by a window from when the deferral ended, not from its add or its attempt', async () => {
    const { queue, worker } = await addedAnHourAgo('runbot-steps-window', run);
    // Eight minutes ago a worker took it and found the site's window closed for 5 min more: deferred
    // until 5 to 7.5 min (jitter) after that, so its deferral ended 0.5 to 3 min ago.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - 8 * MINUTE_MS });
    try {
      await handled(worker, deferred('maintenance window closed', 5 * MINUTE_MS));
    } finally {
      vi.useRealTimers();
    }
    const job = (await queue.getJob(jobId(run)))!;
    expect(job.data.dueAt).toBeUndefined(); // not a round: a check would still read in full
    expect(job.processedOn).toBeLessThanOrEqual(Date.now() - 8 * MINUTE_MS + 1000);
    await dueAgain(queue, run);
    const age = await oldestWaitingAge([queue]);
    // Neither the 68 min since its add nor the 8 min since its attempt began.
    expect(age).toBeGreaterThan(25);
    expect(age).toBeLessThan(4 * 60);
  });

  it('counts a job deferred for seconds (a full cap) from about when it came back', async () => {
    const { queue, worker } = await addedAnHourAgo('runbot-steps-cap', run);
    await handled(worker, deferred('cap reached: dev2/memtest 1', 1_000));
    await dueAgain(queue, run);
    expect(await oldestWaitingAge([queue])).toBeLessThan(5);
  });

  it('counts a job retried after a failed attempt from about its backoff, not from its add', async () => {
    const { queue, worker } = await addedAnHourAgo('runbot-steps-retry', run);
    const job = await handled(worker, retry('host not reached'));
    expect(job.failedReason).toBe('host not reached');
    expect(job.attemptsMade).toBe(1); // failed, with attempts left: BullMQ put it back for 2 s
    await dueAgain(queue, run);
    expect(await oldestWaitingAge([queue])).toBeLessThan(5);
  });
});
