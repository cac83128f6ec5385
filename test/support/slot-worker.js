// A worker process for the locking test (test/integration/worker-locking.test.ts): the service's own
// StepWorkers (dist/queue, built by `npm test`) and job handler (dist/runner) over several site queues, with a step that records
// itself in Redis and then blocks until the test releases it. So the test can count, at any moment,
// the steps this process runs (`running:<name>`) and, from BullMQ's own keys, the jobs it holds locked.
// Some jobs first take the other ways out of a slot: a job whose key ends in `-defer` is put back
// delayed once (a deferred outcome, as a full cap gives), one ending in `-fail` throws once (BullMQ retries it
// after its backoff). Configured by the environment: REDIS_URL, PREFIX, SITES (comma-separated),
// CONCURRENCY, NAME.
import console from 'node:console';
import process from 'node:process';
import { Redis } from 'ioredis';
import { startStepWorkers } from '../../dist/queue/index.js';
import { jobHandler } from '../../dist/runner/handler.js';
import { createLogger } from '../../dist/logger.js';

const { REDIS_URL, PREFIX, SITES, CONCURRENCY, NAME } = process.env;
if (!REDIS_URL || !PREFIX || !SITES || !CONCURRENCY || !NAME) {
  throw new Error('slot-worker: REDIS_URL, PREFIX, SITES, CONCURRENCY and NAME are required');
}
const redis = new Redis(REDIS_URL);
const key = (name) => `${PREFIX}:test:${name}`;

const workers = startStepWorkers(
  {
    redisUrl: REDIS_URL,
    prefix: PREFIX,
    sites: SITES.split(','),
    concurrency: Number(CONCURRENCY),
    name: NAME,
  },
  jobHandler(
    async (job) => {
      const id = `${job.key}.v${job.visit}`;
      const attempts = await redis.hincrby(key('attempts'), id, 1);
      if (attempts === 1 && job.key.endsWith('-defer'))
        return { kind: 'deferred', reason: 'test: deferred once', delayMs: 200 };
      if (attempts === 1 && job.key.endsWith('-fail')) throw new Error('test: fails once');
      await redis
        .multi()
        .sadd(key(`running:${NAME}`), id)
        .hincrby(key('runs'), id, 1)
        .exec();
      // One blocking connection per running step: BLPOP holds its connection until a release comes.
      const waiter = redis.duplicate();
      try {
        await waiter.blpop(key('release'), 0);
      } finally {
        waiter.disconnect();
      }
      await redis.srem(key(`running:${NAME}`), id);
      return { kind: 'done', result: 'transitioned' };
    },
    { logger: createLogger({ level: 'silent' }) },
  ),
);
workers.on('error', (error) => console.error(error));
process.on('SIGTERM', () => {
  void workers.close(true).then(() => {
    redis.disconnect();
    process.exit(0);
  });
});
console.log('ready');
