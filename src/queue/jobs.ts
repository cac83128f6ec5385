// Job ids derived from the ticket and its step visit, so any number of poll cycles or pollers
// enqueue a step once. BullMQ ignores an add whose jobId already exists (and throws on ':' in ids).
import { z } from 'zod';
import { ACTIONABLE_KINDS, isActionable, type ActionableDecision, type Decision } from '../planner/index.js';

/** A job only names the ticket visit and the decision made; the worker re-reads and re-plans. */
export const StepJobSchema = z.object({
  key: z.string(),
  workflow: z.string(),
  status: z.string(),
  visit: z.number().int(),
  kind: z.enum(ACTIONABLE_KINDS),
  /** A step whose earlier run was interrupted is resumed under its own job id. */
  resume: z.literal(true).optional(),
  /** The last check of a wait step whose deadline has passed: one per visit. */
  final: z.literal(true).optional(),
  /** The inventory site of the ticket's host: the job goes to that site's queue (not part of the id). */
  site: z.string().optional(),
  /** The runbook step of a runStep job, so a full cap defers it before the ticket is read again. */
  step: z.string().optional(),
  /** A hold job: the ticket holding the exclusive value (a new holder, a new comment). */
  holder: z.string().optional(),
  /** Set when a wait step's check job was put back for its next round: when that round is due, in
   * ms since the epoch. Its wait counts from then, and its checks read light (not part of the id). */
  dueAt: z.number().int().optional(),
  /** Set when the job was deferred for longer than a few seconds (a window, a freeze, a running
   * mark): when that deferral ends, in ms since the epoch. Its wait counts from then; unlike `dueAt`
   * it is not a round, so a check job deferred before its first check still reads in full. */
  deferredUntil: z.number().int().optional(),
});
export type StepJob = z.infer<typeof StepJobSchema>;

export function jobFor(decision: ActionableDecision): StepJob {
  const { visit } = decision;
  return {
    key: visit.key,
    workflow: visit.workflow,
    status: visit.status,
    visit: visit.bookkeeping.visit,
    kind: decision.kind,
    // One check job per visit, whatever the round: it runs again each round (runner/outcome.ts
    // `again`), so rounds cannot pile up behind a backlog. The last check has an id of its own.
    ...(decision.kind === 'checkStep' && decision.final ? { final: true as const } : {}),
    ...(decision.kind === 'runStep' && decision.resumed ? { resume: true as const } : {}),
    ...('site' in decision && decision.site !== undefined ? { site: decision.site } : {}),
    ...(decision.kind === 'runStep' ? { step: decision.step.name } : {}),
    ...(decision.kind === 'hold' ? { holder: decision.holder } : {}),
  };
}

/** What every log line about a job carries (the runner's and the handler's). */
export function jobLogFields(job: StepJob) {
  return { ticket: job.key, workflow: job.workflow, job: jobId(job), decision: job.kind, visit: job.visit };
}

export function jobId(job: StepJob): string {
  const parts = [
    job.key,
    `v${job.visit}`,
    job.kind,
    ...(job.resume ? ['resume'] : []),
    ...(job.final ? ['final'] : []),
    ...(job.holder === undefined ? [] : [job.holder]),
  ];
  return parts.join('.').replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Does a fresh decision still call for this job? Anything else means the world moved on. */
export function stillWanted(job: StepJob, decision: Decision): decision is ActionableDecision {
  if (!isActionable(decision)) return false;
  return jobId(jobFor(decision)) === jobId(job);
}
