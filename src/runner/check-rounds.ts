// At most one check of a wait step per interval, whichever worker's job comes first. The poller
// enqueues a check job for every round it sees (planner: round = time since the start / interval).
// When the queues run slower than the interval (a batch's backlog; at the benchmark's time scale a
// 10-minute interval is one second), the rounds' jobs pile up behind one another, and each would read
// the ticket and run the check again: at 1,000 tickets, 39 ticket reads per ticket instead of ~20.
// The first job of an interval takes the round (SET NX PX, one Redis call, before any Jira read); the
// others end as stale. A check is read-only, so when Redis does not answer the check runs anyway.
import type { WorkflowContext } from './context.js';
import type { RedisClient, StepJob } from '../queue/index.js';

export interface CheckRounds {
  /** True when this job may check now: no check of the ticket's visit began within `intervalMs`. */
  take(job: StepJob, intervalMs: number): Promise<boolean>;
}

export function redisCheckRounds(redis: RedisClient, prefix: string): CheckRounds {
  return {
    async take(job, intervalMs) {
      const key = `${prefix}:checked:${job.key}:v${job.visit}`;
      try {
        // PX takes whole milliseconds, at least 1.
        return (await redis.set(key, '1', 'PX', Math.max(1, Math.floor(intervalMs)), 'NX')) === 'OK';
      } catch {
        return true;
      }
    },
  };
}

/** The interval of the wait step a check job is for, in ms at this time scale; undefined if none. */
export function checkIntervalMs(
  job: StepJob,
  context: WorkflowContext,
  timeScale: number,
): number | undefined {
  const binding = context.workflow.statuses[job.status];
  const step = binding ? context.runbook.runbook.steps[binding.step] : undefined;
  return step?.kind === 'wait' ? (step.interval * 1000) / timeScale : undefined;
}
