// A worker process never holds more jobs locked than it can run, across all of its site queues. Two
// worker processes (the service's StepWorkers, test/support/slot-worker.js) share one real
// redis-server and five queues (four sites and the common one), with more jobs waiting than both can
// run; every step blocks until the test releases it, one at a time. Some jobs first leave their slot
// another way (put back delayed, or failed and retried). The test counts, atomically in Redis, each
// process's locked jobs (active jobs with a live BullMQ lock, by the job's `processedBy`) and its
// running steps. Before the shared slot pool, the first process alone locked up to 5 × 2 jobs.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREFETCH, queueNames, StepQueue, type StepJob } from '../../src/queue/index.js';
import { REPO_ROOT } from '../support/definitions.js';
import { until } from '../support/poll.js';
import { startRedis, type RedisInstance } from '../support/redis.js';

const SCRIPT = path.join(REPO_ROOT, 'test/support/slot-worker.js');
const PREFIX = 'locking';
const SITES = ['dc-a', 'dc-b', 'dc-c', 'dc-d'];
const CONCURRENCY = 2;
const PROCESSES = ['worker-1', 'worker-2'];
const JOBS = 40;

// Counts, in one atomic step, each process's locked jobs and running steps.
// ARGV: prefix, number of queues, the queues, then the process names.
const SAMPLE = `
local prefix = ARGV[1]
local nqueues = tonumber(ARGV[2])
local locked = {}
local total = 0
for i = 1, nqueues do
  local queue = prefix .. ':' .. ARGV[2 + i]
  for _, id in ipairs(redis.call('LRANGE', queue .. ':active', 0, -1)) do
    if redis.call('EXISTS', queue .. ':' .. id .. ':lock') == 1 then
      local by = redis.call('HGET', queue .. ':' .. id, 'pb') or '?'
      locked[by] = (locked[by] or 0) + 1
      total = total + 1
    end
  end
end
local out = {total}
for i = 3 + nqueues, #ARGV do
  local name = ARGV[i]
  table.insert(out, name)
  table.insert(out, locked[name] or 0)
  table.insert(out, redis.call('SCARD', prefix .. ':test:running:' .. name))
end
return out
`;

interface Sample {
  name: string;
  locked: number;
  running: number;
}

/** The first entry is every locked job, whoever holds it; then one entry per process. */
type Snapshot = [Sample, ...Sample[]];

/** A job's key says which other way out of a slot it takes first (see slot-worker.js). */
function jobKey(i: number): string {
  if (i % 7 === 3) return `LOCK-${i}-defer`;
  if (i % 11 === 5) return `LOCK-${i}-fail`;
  return `LOCK-${i}`;
}

describe('worker processes: locked jobs', () => {
  let redisServer: RedisInstance | undefined;
  let redis: Redis | undefined;
  let queue: StepQueue | undefined;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(path.join(REPO_ROOT, 'dist/queue/index.js')))
      throw new Error('dist/queue is missing: run `npm run build` first (npm test does)');
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    queue = new StepQueue({ redisUrl: redisServer.url, prefix: PREFIX });
  });
  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    await queue?.close();
    redis?.disconnect();
    await redisServer?.stop();
  });

  async function sample(): Promise<Snapshot> {
    const names = queueNames(SITES);
    const flat = (await redis!.eval(SAMPLE, 0, PREFIX, names.length, ...names, ...PROCESSES)) as (
      string | number
    )[];
    const all: Sample = { name: 'all', locked: Number(flat[0]), running: 0 };
    const perProcess: Sample[] = [];
    for (let i = 1; i < flat.length; i += 3) {
      const entry = { name: String(flat[i]), locked: Number(flat[i + 1]), running: Number(flat[i + 2]) };
      all.running += entry.running;
      perProcess.push(entry);
    }
    return [all, ...perProcess];
  }

  it('holds at most running + prefetch jobs locked per process, and runs every job once', async () => {
    const sites = [undefined, ...SITES];
    for (let i = 1; i <= JOBS; i += 1) {
      const site = sites[i % sites.length];
      const job: StepJob = {
        key: jobKey(i),
        workflow: 'rma-restore',
        status: 'Restoring',
        visit: 1,
        kind: 'runStep',
        ...(site === undefined ? {} : { site }),
      };
      await queue!.enqueue(job);
    }
    for (const name of PROCESSES) {
      const child = spawn(process.execPath, [SCRIPT], {
        env: {
          ...process.env,
          REDIS_URL: redisServer!.url,
          PREFIX,
          SITES: SITES.join(','),
          CONCURRENCY: String(CONCURRENCY),
          NAME: name,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      await once(child.stdout, 'data');
    }

    // Sampled all along, moves between states included: never more locked than the process has slots.
    const every: Snapshot[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        every.push(await sample());
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    // At each steady point (every released step has finished, and each free slot has taken the next
    // job and runs it): the jobs a process holds locked are the steps it runs, plus at most the prefetch.
    const steady: Snapshot[] = [];
    const completed = async () => (await queue!.depth()).completed ?? 0;
    try {
      for (let released = 0; released <= JOBS; released += 1) {
        const expectRunning = Math.min(JOBS - released, CONCURRENCY * PROCESSES.length);
        let last: Snapshot | undefined;
        const point = await until(
          `${released} jobs done and ${expectRunning} running`,
          async () => {
            if ((await completed()) !== released) return undefined;
            last = await sample();
            return last[0].running === expectRunning ? last : undefined;
          },
          { timeoutMs: 20_000, everyMs: 10 },
        ).catch((error: Error) => {
          // Jobs locked by a process that cannot run them keep the other process from running them.
          throw new Error(`${error.message}; last sample ${JSON.stringify(last)}`);
        });
        steady.push(point);
        if (released < JOBS) await redis!.lpush(`${PREFIX}:test:release`, '1');
      }
    } finally {
      sampling = false;
      await sampler;
    }

    for (const [all, ...perProcess] of steady) {
      expect(all.locked, JSON.stringify(all)).toBeLessThanOrEqual(all.running + PREFETCH * PROCESSES.length);
      for (const s of perProcess)
        expect(s.locked, JSON.stringify(s)).toBeLessThanOrEqual(s.running + PREFETCH);
    }
    expect(every.length).toBeGreaterThan(JOBS);
    for (const [all, ...perProcess] of every) {
      expect(all.locked, JSON.stringify(all)).toBeLessThanOrEqual(
        (CONCURRENCY + PREFETCH) * PROCESSES.length,
      );
      for (const s of perProcess)
        expect(s.locked, JSON.stringify(s)).toBeLessThanOrEqual(CONCURRENCY + PREFETCH);
    }
    // Both processes ran steps from the start, each job's step ran exactly once, and the jobs that
    // were put back or failed once were tried again.
    expect(steady[0]!.slice(1).map((s) => s.running)).toEqual(PROCESSES.map(() => CONCURRENCY));
    const runs = await redis!.hgetall(`${PREFIX}:test:runs`);
    expect(Object.keys(runs)).toHaveLength(JOBS);
    expect(Object.values(runs).filter((count) => count !== '1')).toEqual([]);
    const attempts = await redis!.hgetall(`${PREFIX}:test:attempts`);
    const tried = (suffix: string) =>
      Object.entries(attempts)
        .filter(([id]) => id.includes(`${suffix}.`))
        .map(([, count]) => count);
    expect(tried('-defer').length).toBeGreaterThan(0);
    expect(tried('-defer').every((count) => count === '2')).toBe(true);
    expect(tried('-fail').length).toBeGreaterThan(0);
    expect(tried('-fail').every((count) => count === '2')).toBe(true);
    expect((await queue!.depth()).failed ?? 0).toBe(0);
  });
});
