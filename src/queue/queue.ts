// The BullMQ queues of step jobs: one per inventory site (`runbot-steps-<site>`), so a worker that
// can reach one data centre takes only that site's work, and a common one (`runbot-steps`) for jobs
// that touch Jira only and name no site. Redis holds work in flight only; losing it loses nothing,
// because the next poll re-derives every job from Jira.
import { hostname } from 'node:os';
import { Queue, type Job } from 'bullmq';
import {
  bullConnection,
  createRedis,
  type BullConnection,
  type RedisClient,
  type RedisSettings,
} from './connection.js';
import { jobId, type StepJob } from './jobs.js';
import { SlotPool, SlottedWorker, type HandOn } from './slots.js';

/** The common queue; a site's queue is `${QUEUE_NAME}-<site>`. */
const QUEUE_NAME = 'runbot-steps';

export function queueName(site: string | undefined): string {
  return site === undefined ? QUEUE_NAME : `${QUEUE_NAME}-${site}`;
}

/** Every queue of these sites, the common one first. */
export function queueNames(sites: readonly string[]): string[] {
  return [QUEUE_NAME, ...sites.map((site) => queueName(site))];
}

/** Where Redis is (connection.ts) and the prefix of every key (a `{hash tag}` in a cluster). */
export interface QueueSettings extends RedisSettings {
  prefix: string;
}

export class StepQueue {
  /** The common queue (jobs without a site). */
  readonly queue: Queue<StepJob>;
  private readonly queues = new Map<string, Queue<StepJob>>();
  private readonly connection: BullConnection;

  constructor(private readonly settings: QueueSettings) {
    this.connection = bullConnection(settings);
    this.queue = this.queueFor(undefined);
  }

  /** The queue a job goes to: its site's, or the common one. */
  queueFor(site: string | undefined): Queue<StepJob> {
    const name = queueName(site);
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = new Queue<StepJob>(name, {
        connection: this.connection.connection,
        prefix: this.settings.prefix,
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Jobs handed to enqueue in this turn of the event loop, added together (flush). */
  private pending: { job: StepJob; done: (error?: unknown) => void }[] = [];

  /**
   * Adds the job unless one with the same id exists (queued, running, or finished within the hour).
   * Jobs handed over in one turn of the event loop (a page of the poller's plans) are added together:
   * one EXISTS naming every job key tells whether all are there already (nearly always, each poll
   * cycle); if not, one pipelined EXISTS per key tells which, and only the missing ones are added, in
   * one round trip. BullMQ's add makes the same EXISTS check
   * itself, so an add that races another one still adds the job once.
   */
  enqueue(job: StepJob): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ job, done: (error) => (error === undefined ? resolve() : reject(asError(error))) });
      if (this.pending.length === 1) queueMicrotask(() => this.flush());
    });
  }

  private flush(): void {
    const bySite = new Map<string | undefined, typeof this.pending>();
    for (const entry of this.pending.splice(0)) {
      const group = bySite.get(entry.job.site);
      if (group === undefined) bySite.set(entry.job.site, [entry]);
      else group.push(entry);
    }
    for (const [site, group] of bySite) {
      this.addMissing(
        this.queueFor(site),
        group.map((entry) => entry.job),
      ).then(
        () => group.forEach((entry) => entry.done()),
        (error: unknown) => group.forEach((entry) => entry.done(error)),
      );
    }
  }

  private async addMissing(queue: Queue<StepJob>, jobs: StepJob[]): Promise<void> {
    const ids = jobs.map((job) => jobId(job));
    // The queue's own connection (a Redis, or the cluster client whose slot the prefix's hash tag picks).
    const client = (await queue.getBackend().client) as unknown as RedisClient;
    const keys = ids.map((id) => queue.toKey(id));
    // Nearly every cycle finds every job there: one EXISTS of all the keys (it counts each key named
    // that exists) says so in one command. Any other answer, or an error, asks key by key below.
    if (keys.length > 1 && (await client.exists(...keys).catch(() => -1)) === keys.length) return;
    const pipeline = client.pipeline();
    for (const key of keys) pipeline.exists(key);
    const found = (await pipeline.exec()) ?? [];
    const missing = jobs.flatMap((job, index) => {
      const [error, exists] = found[index] ?? [];
      return error === null && exists === 1
        ? []
        : [{ name: job.kind, data: job, opts: jobOptions(ids[index]!) }];
    });
    if (missing.length > 0) await queue.addBulk(missing);
  }

  /** Job counts summed over every queue this process has used. */
  async depth(): Promise<Record<string, number>> {
    const totals: Record<string, number> = {};
    for (const queue of this.queues.values()) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      for (const [state, count] of Object.entries(counts)) totals[state] = (totals[state] ?? 0) + count;
    }
    return totals;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.connection.close();
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(`enqueue failed: ${String(error)}`);
}

/** Every step job's options: its id (jobs.ts), retries, and how long a finished one is kept. */
function jobOptions(id: string) {
  return {
    jobId: id,
    attempts: 3,
    backoff: { type: 'exponential', delay: 2000 },
    // Finished jobs stay a while so that a lagging search cannot enqueue the same visit again.
    removeOnComplete: { age: 3600, count: 50_000 },
    // A job that failed for good (Jira or Redis down through every attempt) is dropped, so that the
    // next poll can enqueue the visit again: a kept failed job would block its id (BullMQ ignores
    // an add while the id exists). The failure is in the logs and the metrics.
    removeOnFail: true,
  };
}

export interface WorkerSettings extends QueueSettings {
  /** Steps this process runs at once, over all its queues; it never holds more jobs locked (slots.ts). */
  concurrency: number;
  /** Names this process on the jobs it takes (BullMQ's `processedBy`); default `<hostname>:<pid>`. */
  name?: string;
  /** The sites whose queues this process takes work from (plus the common queue). */
  sites: readonly string[];
}

// KEYS: a queue's wait list, prioritized set and marker set. Adds BullMQ's base marker (what an added
// job leaves to wake one blocked Worker) when the queue has jobs waiting.
const HAND_ON = `
if redis.call('LLEN', KEYS[1]) > 0 or redis.call('ZCARD', KEYS[2]) > 0 then
  redis.call('ZADD', KEYS[3], 0, '0')
end
return 0
`;

/** Runs one job; the runner's handler (runner/handler.ts) completes, defers, retries or fails it. */
export type StepProcessor = (job: Job<StepJob, string>, token: string | undefined) => Promise<string>;
type WorkerEvents = {
  failed: (job: Job<StepJob, string> | undefined, error: Error) => void;
  error: (error: Error) => void;
};

/**
 * One BullMQ Worker per queue, sharing one pool of slots for the whole process (slots.ts): a slot is
 * taken before a job is fetched, so the jobs this process holds locked are the jobs it is running.
 */
export class StepWorkers {
  readonly workers: SlottedWorker[];
  private readonly slots: SlotPool;
  /** For handing a queue's wake-up on while this process is full (slots.ts). */
  private readonly redis: RedisClient;
  private readonly connection: BullConnection;

  constructor(settings: WorkerSettings, runJob: StepProcessor) {
    this.slots = new SlotPool(settings.concurrency);
    this.redis = createRedis(settings, { maxRetriesPerRequest: 1, autoPipelining: true });
    this.connection = bullConnection(settings);
    // A hand-on lost to a Redis outage costs only latency: the other processes look again on their own.
    this.redis.on('error', () => undefined);
    const handOn: HandOn = async (keys) => {
      await this.redis.eval(HAND_ON, 3, keys.wait!, keys.prioritized!, keys.marker!).catch(() => undefined);
    };
    this.workers = queueNames(settings.sites).map((name) => {
      const worker = new SlottedWorker(name, runJob, {
        connection: this.connection.connection,
        prefix: settings.prefix,
        name: settings.name ?? `${hostname()}:${globalThis.process.pid}`,
        // A step can run for minutes; the lock is renewed while it runs, a dead worker's job stalls and is retried.
        lockDuration: 60_000,
        maxStalledCount: 1,
        autorun: false,
      }).useSlots(this.slots, handOn);
      worker.run().catch((error: unknown) => worker.emit('error', error as Error));
      return worker;
    });
  }

  /** Jobs this process holds (being fetched, or fetched and not finished); never more than `concurrency`. */
  get held(): number {
    return this.slots.taken;
  }

  on<E extends keyof WorkerEvents>(event: E, listener: WorkerEvents[E]): this {
    for (const worker of this.workers)
      (worker.on as (event: E, listener: WorkerEvents[E]) => void)(event, listener);
    return this;
  }

  /** Stops taking jobs and waits for running ones (`force`: does not wait). */
  async close(force = false): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close(force)));
    this.redis.disconnect();
    this.connection.close();
  }
}

export function startStepWorkers(settings: WorkerSettings, runJob: StepProcessor): StepWorkers {
  return new StepWorkers(settings, runJob);
}
