// The one place an Outcome becomes queue calls, metrics and logs, like controller-runtime's
// reconcile handler: done and stale complete the job; again (a wait step's next round, noting when it
// is due) and deferred (a long deferral noting when it ends) put it back delayed (BullMQ's
// moveToDelayed + DelayedError, no attempt used up); retry fails this attempt so BullMQ retries with
// backoff; terminal fails the job for good (UnrecoverableError). A thrown error (a bug, Jira or Redis
// down) is counted and left to BullMQ's retries.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from '../logger.js';
import { jobLogFields, type StepJob } from '../queue/index.js';
import { outcomeLabel, type Outcome } from './outcome.js';

export interface HandlerHooks {
  logger: Logger;
  /** How long a deferred job waits when its outcome names no delay; default 2 s. */
  deferMs?: number;
  /** A job completed: its step's result, or `stale` / `gone` (metrics, tests, the demo). */
  onOutcome?: (job: StepJob, label: string) => void;
  /** A job attempt failed (retry, terminal, or an error): metrics. */
  onError?: (job: StepJob) => void;
}

type RunJob = (job: StepJob, attempt: { number: number; last: boolean }) => Promise<Outcome>;

/** A BullMQ processor around `run`. */
export function jobHandler(run: RunJob, hooks: HandlerHooks) {
  return async (job: Job<StepJob, string>, token: string | undefined): Promise<string> => {
    const attempt = { number: job.attemptsMade + 1, last: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) };
    let outcome: Outcome;
    try {
      outcome = await run(job.data, attempt);
    } catch (error) {
      hooks.onError?.(job.data);
      throw error;
    }
    return handleOutcome(job, token, outcome, attempt, hooks);
  };
}

async function handleOutcome(
  job: Job<StepJob, string>,
  token: string | undefined,
  outcome: Outcome,
  attempt: { number: number },
  hooks: HandlerHooks,
): Promise<string> {
  // The job's fields go into each line itself rather than a child logger made for every job: most
  // jobs log nothing at info, and a child serializes its bindings when it is made.
  const fields = () => jobLogFields(job.data);
  switch (outcome.kind) {
    case 'done':
    case 'again': {
      const label = outcomeLabel(outcome);
      const again = outcome.kind === 'again' ? { againInMs: outcome.delayMs } : {};
      hooks.logger.info(
        { ...fields(), step: outcome.step, outcome: label, attempt: attempt.number, ...again },
        outcome.kind === 'done' ? 'job done' : 'job done for this round',
      );
      hooks.onOutcome?.(job.data, label);
      if (outcome.kind === 'done') return label;
      // The same job waits for the wait step's next round: no jitter, the round's time is the runbook's.
      await nextRound(job, token, Date.now() + outcome.delayMs);
      throw new DelayedError();
    }
    case 'stale': {
      const label = outcomeLabel(outcome);
      hooks.onOutcome?.(job.data, label);
      return label;
    }
    case 'deferred': {
      if (hooks.logger.isLevelEnabled('debug')) {
        hooks.logger.debug({ ...fields(), reason: outcome.reason }, 'job deferred');
      }
      const delay = outcome.delayMs ?? hooks.deferMs ?? 2_000;
      await deferUntil(job, token, Date.now() + delay + jitterMs(delay), delay);
      throw new DelayedError();
    }
    case 'retry':
      hooks.onError?.(job.data);
      throw new StepRetry(outcome.reason);
    case 'terminal':
      hooks.onError?.(job.data);
      throw new UnrecoverableError(outcome.reason);
  }
}

/**
 * Back to the queue's delayed set until its next round at `at`, noting `at` in the job: once due, its
 * wait is counted from then (runbot_queue_oldest_job_age_seconds), not from its first add hours ago,
 * and its check reads light (check-reads.ts). Only a round sets it: a job deferred before its first
 * check (the pause) still makes that first check in full.
 */
async function nextRound(job: Job<StepJob, string>, token: string | undefined, at: number): Promise<void> {
  await job.updateData({ ...job.data, dueAt: at });
  await job.moveToDelayed(at, token);
}

/** The most a deferral's jitter adds: a window's opening is known to the second. */
const MAX_JITTER_MS = 5_000;

/**
 * Jitter, so that deferred jobs of one site do not all come back in the same instant: up to half
 * the delay, at most MAX_JITTER_MS (a job held until a window opens starts within 5 s of it, not
 * up to half of its 5-minute look-again later).
 */
function jitterMs(delay: number): number {
  return Math.floor(Math.random() * Math.min(delay * 0.5, MAX_JITTER_MS));
}

/** A deferral up to this long is not noted in the job (see deferUntil). */
const NOTED_DEFERRAL_MS = 30_000;

/**
 * Back to the queue's delayed set until `at`, the deferral's end. A long deferral (a window, a
 * freeze, a running mark: up to 5 min plus 5 s of jitter) notes `at` in the job (`deferredUntil`):
 * once due, its wait is counted from then (runbot_queue_oldest_job_age_seconds), not from its first
 * add hours ago. Not as `dueAt`: that would make a check job deferred before its first check read light.
 * Noting costs a round trip before the move: BullMQ's public Job.moveToDelayed(timestamp, token)
 * takes no job fields (its Lua script updates some atomically, but only BullMQ's retries reach that
 * through the protected backend), and nothing in the job keeps the due time once it is promoted
 * (promotion sets the hash's `delay` back to 0). A short deferral (the pause, a cap, a breaker: the
 * frequent ones, every few seconds) skips it: BullMQ's `processedOn`, this attempt's start, is then
 * within the delay and its jitter (35 s at most) plus the attempt's reads of the due time, near
 * enough for the gauge.
 */
async function deferUntil(job: Job<StepJob, string>, token: string | undefined, at: number, delay: number) {
  if (delay > NOTED_DEFERRAL_MS) await job.updateData({ ...job.data, deferredUntil: at });
  await job.moveToDelayed(at, token);
}

/** This attempt failed and another may succeed: BullMQ retries the job with backoff. */
export class StepRetry extends Error {
  override name = 'StepRetry';
}
