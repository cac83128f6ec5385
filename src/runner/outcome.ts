// What a job came to, as data. The runner returns an Outcome and never throws to steer the queue;
// one place (handler.ts) turns it into BullMQ calls, metrics and logs, the way controller-runtime's
// reconcile handler turns a Result into a requeue.
/** What a step did to its ticket, also the label of the `runbot_jobs_total` metric. */
export type StepResult =
  | 'transitioned'
  | 'failed'
  | 'escalated'
  | 'instructed'
  | 'pending'
  | 'refused'
  | 'dry-run'
  | 'duplicate'
  | 'contested'
  | 'held'
  | 'awaiting-approval';

export type Outcome =
  /** The job did its work (`result`: what it did to the ticket); the job completes. */
  | { kind: 'done'; result: StepResult; step?: string }
  /** The world moved on: the ticket is gone (`gone`), or the fresh plan no longer calls for this
   * job. The job completes, having done nothing. */
  | { kind: 'stale'; reason: 'gone' | 'no longer wanted' }
  /** The job did its work for now and runs again in `delayMs` (a wait step still running: its next
   * round). The same job, put back delayed, so a visit never has more than one check queued. */
  | { kind: 'again'; result: StepResult; delayMs: number; step?: string }
  /** Not now (the pause, a full cap, a breaker, a window): the job goes back to its queue untouched,
   * without using up an attempt, for `delayMs` (default: the worker's usual pace). */
  | { kind: 'deferred'; reason: string; delayMs?: number }
  /** Nothing ran and trying again may help (a host or BMC not reached, a workflow this worker has
   * not loaded: another may have): the queue retries with backoff. */
  | { kind: 'retry'; reason: string }
  /** Nothing ran and trying again cannot help: the job fails for good, without retries. No step
   * returns it today (each fault a retry cannot fix is reported on the ticket as failed or
   * escalated); it is here so an executor's classification can end a job without a comment. */
  | { kind: 'terminal'; reason: string };

export const done = (result: StepResult, step?: string): Outcome => ({
  kind: 'done',
  result,
  ...(step === undefined ? {} : { step }),
});
export type Deferred = Extract<Outcome, { kind: 'deferred' }>;

/** Done for now; the same job runs again in `delayMs` (never less than 1 ms). */
export const again = (result: StepResult, delayMs: number): Outcome => ({
  kind: 'again',
  result,
  delayMs: Math.max(1, Math.ceil(delayMs)),
});

export const deferred = (reason: string, delayMs?: number): Deferred => ({
  kind: 'deferred',
  reason,
  ...(delayMs === undefined ? {} : { delayMs }),
});
export const retry = (reason: string): Outcome => ({ kind: 'retry', reason });

/** The job's return value and metric label for an outcome that completes the job. */
export function outcomeLabel(outcome: Extract<Outcome, { kind: 'done' | 'again' | 'stale' }>): string {
  if (outcome.kind !== 'stale') return outcome.result;
  return outcome.reason === 'gone' ? 'gone' : 'stale';
}
