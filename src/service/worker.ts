// The worker's processor: re-read the ticket (GET is consistent, search is not), plan again, and act
// only if the fresh plan still calls for this job; otherwise the world moved on and the job ends quietly.
import type { Definitions } from '../definitions/index.js';
import type { Logger } from '../logger.js';
import {
  planRoute,
  planTicket,
  type ActionableDecision,
  type Decision,
  type Ticket,
  type TicketComment,
} from '../planner/index.js';
import {
  type BreakerStore,
  capsFor,
  jobId,
  StepDeferred,
  stillWanted,
  type CapRule,
  type EpochMark,
  type RedisEpoch,
  type StepJob,
  type StepLimiter,
} from '../queue/index.js';
import { act, type ActContext, type ActOutcome, type ClaimCheck } from './act.js';
import { planInputFor, workflowContexts } from './context.js';
import { freshHolders } from './holders.js';
import { heldJob, recordRun, type BreakerHooks } from './worker-holds.js';

export interface WorkerDeps extends Omit<ActContext, 'failureStatus' | 'logger'> {
  definitions: Definitions;
  logger: Logger;
  timeScale: number;
  onOutcome?: (job: StepJob, outcome: ActOutcome | 'stale' | 'gone') => void;
  /** The fresh plan still wants this job and the worker is about to act on it (metrics). */
  onStart?: (job: StepJob, decision: ActionableDecision) => void;
  /** Blast-radius caps (inventory `caps`, and a global cap): a full cap defers the job. */
  caps?: { limiter: StepLimiter; global?: number };
  /** Tells when Redis may have lost work in flight; then a step's claim is settled in Jira
   * (act.ts, claimStep). Without it, the queue's job ids alone keep a step from running twice. */
  claims?: { epoch: RedisEpoch; settleMs: number };
  /** The failure-rate breakers (Redis): outcomes recorded, open ones hold new starts back. */
  breakers?: { store: BreakerStore } & BreakerHooks;
}

const CLAIMED_KINDS = new Set<StepJob['kind']>(['runStep', 'postInstructions']);
/** Jobs whose fresh plan depends on the open breakers. */
const HELD_KINDS = new Set<StepJob['kind']>(['runStep', 'postInstructions', 'noteHold']);

export function createStepProcessor(deps: WorkerDeps) {
  const contexts = workflowContexts(deps.definitions);
  return async (job: StepJob, attempt: { number: number; last: boolean }): Promise<string> => {
    const logger = deps.logger.child({
      ticket: job.key,
      workflow: job.workflow,
      job: jobId(job),
      decision: job.kind,
      visit: job.visit,
    });
    // First of all, before anything can stall: which Redis this job came from (see act.ts, claimStep).
    // Only steps and instructions are claimed; checks and transitions are safe to repeat.
    const epochNotedAt = performance.now();
    const epoch = CLAIMED_KINDS.has(job.kind) ? await deps.claims?.epoch.read() : undefined;
    // A full cap defers the job before it costs a Jira read; the cap is taken for real after the plan.
    const jobCaps =
      deps.caps && !deps.dryRun ? capsFor(job, deps.definitions.inventory, deps.caps.global) : [];
    if (jobCaps.length > 0 && !(await deps.caps?.limiter.hasRoom(jobCaps))) throw capReached(jobCaps);
    // A breaker, a freeze or a closed window defers the job before it costs a Jira read, like a cap.
    const openBreakers =
      deps.dryRun || !HELD_KINDS.has(job.kind) ? undefined : await deps.breakers?.store.open();
    const held = heldJob(job, undefined, deps.definitions.inventory, openBreakers ?? {}, deps.now());
    if (held) throw held;
    const context = contexts.get(job.workflow);
    if (!context) {
      logger.warn('job names a workflow that is not loaded');
      return 'stale';
    }
    const ticket = await deps.jira.getTicket(job.key, context.shape);
    if (!ticket) {
      deps.onOutcome?.(job, 'gone');
      return 'gone';
    }
    // Leaving the gate of an exclusive workflow: who holds the host, as Jira says now. Display names
    // only shape the comments' words; read once per process by the adapter.
    const holders = await freshHolders(deps.jira, context, ticket);
    const fieldNames = await deps.jira.fieldNames?.();
    const planInput = planInputFor(context, ticket, deps, { openBreakers, holders, fieldNames });
    const decision = planTicket(planInput);
    // Held back since the job was made: it waits in its queue (a stale job would keep its id busy).
    const heldNow = heldJob(job, decision, deps.definitions.inventory, openBreakers ?? {}, deps.now());
    if (heldNow) throw heldNow;
    if (!stillWanted(job, decision) && !refusesMoveOf(job, decision)) {
      logger.debug({ fresh: decision.kind }, 'job no longer wanted');
      deps.onOutcome?.(job, 'stale');
      return 'stale';
    }
    // Caps are taken after the fresh plan, so a stale job never holds a place; a dry run runs nothing.
    const rules =
      deps.caps && !deps.dryRun ? capsFor(decision, deps.definitions.inventory, deps.caps.global) : [];
    const lease = rules.length > 0 ? await deps.caps?.limiter.tryAcquire(rules) : undefined;
    if (rules.length > 0 && lease === undefined) throw capReached(rules);
    try {
      const route = deps.dryRun ? planRoute(planInput) : undefined;
      const claim = claimCheck(epoch, epochNotedAt);
      return await actOn(job, decision, attempt, {
        claim,
        read: ticket,
        comments: ticket.comments ?? [],
        failureStatus: context.workflow.failure,
        ...(context.workflow.transitions ? { transitionFields: context.workflow.transitions } : {}),
        logger,
        ...(route ? { route } : {}),
      });
    } finally {
      await lease
        ?.release()
        .catch((error: unknown) =>
          logger.warn({ err: error }, 'cap release failed: the lease lapses by itself'),
        );
    }
  };

  function claimCheck(epoch: EpochMark | undefined, epochNotedAt: number): ClaimCheck | undefined {
    const claims = deps.claims;
    if (!claims || !epoch) return undefined;
    return {
      epochNotedAt,
      settleMs: claims.settleMs,
      mayHaveTwin: () => claims.epoch.mayHaveLostWork(epoch),
    };
  }

  async function actOn(
    job: StepJob,
    decision: ActionableDecision,
    attempt: { number: number; last: boolean },
    about: {
      claim: ClaimCheck | undefined;
      read: Ticket;
      comments: TicketComment[];
      failureStatus: string;
      transitionFields?: ActContext['transitionFields'];
      logger: Logger;
      route?: Decision[];
    },
  ): Promise<string> {
    const { claim, read, comments, failureStatus, transitionFields, logger, route } = about;
    deps.onStart?.(job, decision);
    const step = 'step' in decision ? decision.step.name : undefined;
    const stepLogger = logger.child({ step });
    const outcome = await act(
      decision,
      { ...deps, logger: stepLogger, failureStatus, ...(transitionFields ? { transitionFields } : {}) },
      { lastAttempt: attempt.last, comments, read, ...(route ? { route } : {}), ...(claim ? { claim } : {}) },
    );
    stepLogger.info({ outcome, attempt: attempt.number }, 'job done');
    if (deps.breakers && decision.kind === 'runStep')
      await recordRun(deps.breakers, decision, outcome, deps.definitions.inventory, deps.now(), stepLogger);
    deps.onOutcome?.(job, outcome);
    return outcome;
  }
}

/**
 * Only the worker's read sees a transition's screen fields, so the poller planned a step where the
 * fresh plan refuses the move (transition-fields.ts): that refusal is this job's to post.
 */
function refusesMoveOf(job: StepJob, decision: Decision): decision is ActionableDecision {
  if (!('refusedMove' in decision) || decision.refusedMove !== true) return false;
  return decision.visit.status === job.status && decision.visit.bookkeeping.visit === job.visit;
}

function capReached(rules: CapRule[]): StepDeferred {
  return new StepDeferred(`cap reached: ${rules.map((rule) => `${rule.key} ${rule.limit}`).join(', ')}`);
}
