// The worker's side of holds (src/planner/holds.ts): a job whose step is held back by an open
// breaker, a freeze or a closed maintenance window goes back to its queue untouched (as does a
// resumed step's job that finds its step still running), and the outcome of every step run is
// counted by the failure-rate breaker of its site and step.
import type { Definitions, Inventory } from '../definitions/index.js';
import type { Logger } from '../logger.js';
import {
  breakerKey,
  breakerLimits,
  holdOf,
  type ActionableDecision,
  type Decision,
  type OpenBreaker,
  type OpenBreakers,
} from '../planner/index.js';
import type { BreakerStore, StepJob } from '../queue/index.js';
import { deferred, type Deferred, type StepResult } from './outcome.js';

/** A window, freeze or running mark that ends later is looked at again after this long at most. */
const MAX_DEFER_MS = 5 * 60_000;

export interface BreakerHooks {
  /** This run opened the breaker of its site and step (metrics). */
  onOpened?: (site: string, step: string, breaker: OpenBreaker) => void;
}

/**
 * The deferred outcome of a job held back: before the ticket is read (the job's own site and step), or after
 * the fresh plan (`decision`: nothing, with a hold). Undefined when the job may go on.
 */
export function heldJob(
  job: StepJob,
  decision: Decision | undefined,
  inventory: Inventory,
  openBreakers: OpenBreakers,
  now: Date,
): Deferred | undefined {
  const startsStep = job.kind === 'runStep' || job.kind === 'postInstructions';
  // A fresh plan that holds the step (nothing, or first the breaker's comment) holds its job too.
  const hold =
    decision === undefined
      ? holdOf(job, inventory, openBreakers, now)
      : startsStep && (decision.kind === 'nothing' || decision.kind === 'noteHold')
        ? decision.hold
        : undefined;
  if (!hold) return undefined;
  // A breaker is reset by a person at any time: look again at the worker's usual pace.
  if (hold.until === undefined) return deferred(hold.reason);
  return deferredUntil(hold.reason, hold.until, now);
}

/**
 * The deferred outcome of a resumed step's job whose fresh plan finds its step still running: a
 * running mark of the same step, status and visit, written by an earlier attempt of this job (whose
 * move to the next status failed and was thrown to the queue, or whose worker died) or by a twin. Made stale, the job would keep the visit's
 * one resume id busy for as long as the queue keeps a finished job, and the ticket would wait as long.
 * Waiting instead, it comes back when the mark lapses and its fresh plan says what then: resume the
 * step again (done_when first), or nothing (moved on). A first run's job is stale as before: the
 * poller plans the resume, under its own id, once the mark lapses.
 */
export function runningJob(job: StepJob, decision: Decision, now: Date): Deferred | undefined {
  const running = decision.kind === 'nothing' ? decision.running : undefined;
  if (job.kind !== 'runStep' || job.resume !== true || running === undefined) return undefined;
  if (running.step !== job.step || running.status !== job.status || running.visit !== job.visit)
    return undefined;
  return deferredUntil(`${running.step} may still be running (until ${running.until})`, running.until, now);
}

/** Back at `until`, or sooner to look again (inventory edits, a person moving the ticket). */
function deferredUntil(reason: string, until: string, now: Date): Deferred {
  const untilMs = Date.parse(until) - now.getTime();
  return deferred(reason, Math.min(MAX_DEFER_MS, Math.max(1_000, untilMs)));
}

/** Counts a step run's outcome in its breaker: moved on is a success, failed a failure; else nothing. */
export async function recordRun(
  breakers: { store: BreakerStore } & BreakerHooks,
  decision: Extract<ActionableDecision, { kind: 'runStep' }>,
  outcome: StepResult,
  inventory: Inventory,
  now: Date,
  logger: Logger,
): Promise<void> {
  if (outcome !== 'transitioned' && outcome !== 'failed') return;
  const site = decision.site;
  const limits = site === undefined ? undefined : breakerLimits(inventory, site, decision.step.name);
  if (site === undefined || limits === undefined) return;
  const step = decision.step.name;
  try {
    const opened = await breakers.store.record({
      site,
      step,
      ticket: decision.visit.key,
      failed: outcome === 'failed',
      limits,
      now,
    });
    if (!opened) return;
    logger.warn(
      { site, step, failures: opened.failures, window: opened.window, failedTickets: opened.tickets },
      'breaker opened: no new starts of this step at this site until `runbot resume --breaker`',
    );
    breakers.onOpened?.(site, step, opened);
  } catch (error) {
    // The run itself is done and reported; only its count is lost (the breaker sees one run fewer).
    logger.warn({ err: error, site, step }, 'breaker could not record a run');
  }
}

/** Every `site/step` whose breaker the inventory arms: each site × each step that runs on machines. */
export function armedBreakers(definitions: Pick<Definitions, 'inventory' | 'runbooks'>): string[] {
  const armed = new Set<string>();
  for (const site of Object.keys(definitions.inventory.sites)) {
    for (const { runbook } of definitions.runbooks.values()) {
      for (const [step, definition] of Object.entries(runbook.steps)) {
        if (definition.kind !== 'ssh' && definition.kind !== 'ipmi' && definition.kind !== 'redfish')
          continue;
        if (breakerLimits(definitions.inventory, site, step)) armed.add(breakerKey(site, step));
      }
    }
  }
  return [...armed];
}
