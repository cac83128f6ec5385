// The BullMQ queue of step jobs: Redis holds work in flight only; losing it loses nothing, because
// the next poll re-derives every job from Jira.
import { Queue, Worker, type Job } from 'bullmq';
import { jobId, type StepJob } from './jobs.js';

export const QUEUE_NAME = 'runbot-steps';

export interface QueueSettings {
  redisUrl: string;
  prefix: string;
}

const connection = (redisUrl: string) => ({ url: redisUrl, maxRetriesPerRequest: null });

export class StepQueue {
  readonly queue: Queue<StepJob>;

  constructor(settings: QueueSettings) {
    this.queue = new Queue<StepJob>(QUEUE_NAME, {
      connection: connection(settings.redisUrl),
      prefix: settings.prefix,
    });
  }

  /** Adds the job unless one with the same id exists (queued, running, or finished within the hour). */
  async enqueue(job: StepJob): Promise<void> {
    await this.queue.add(job.kind, job, {
      jobId: jobId(job),
      attempts: 3,
      backoff: { type: 'exponential', delay: 2000 },
      // Finished jobs stay a while so that a lagging search cannot enqueue the same visit again.
      removeOnComplete: { age: 3600, count: 50_000 },
      removeOnFail: { age: 24 * 3600 },
    });
  }

  async depth(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export interface WorkerSettings extends QueueSettings {
  concurrency: number;
}

export function startStepWorker(
  settings: WorkerSettings,
  process: (job: StepJob, attempt: { number: number; last: boolean }) => Promise<string>,
): Worker<StepJob, string> {
  return new Worker<StepJob, string>(
    QUEUE_NAME,
    (job: Job<StepJob, string>) =>
      process(job.data, {
        number: job.attemptsMade + 1,
        last: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
      }),
    {
      connection: connection(settings.redisUrl),
      prefix: settings.prefix,
      concurrency: settings.concurrency,
      // A step can run for minutes; the lock is renewed while it runs, a dead worker's job stalls and is retried.
      lockDuration: 60_000,
      maxStalledCount: 1,
    },
  );
}
