// The runner: what a worker does with one job. It re-reads the ticket (GET is consistent, search is
// not), plans again, and acts only if the fresh plan still calls for this job; otherwise the world
// moved on and the job ends quietly (a wait step's check round reads light, and in full only before
// a write: checkRound, check-reads.ts). Acting is dispatched by the decision's kind (and a step's
// transport) to one module each under steps/. The runner returns an Outcome and throws only on a bug
// or a failed Jira call; handler.ts turns the Outcome into BullMQ calls, metrics and logs.
import type { Definitions } from '../definitions/index.js';
import type { Logger } from '../logger.js';
import {
  planTicket,
  type ActionableDecision,
  type Decision,
  type OpenBreakers,
  type PlanInput,
  type Ticket,
} from '../planner/index.js';
import {
  capsFor,
  jobLogFields,
  stillWanted,
  type BreakerStore,
  type CapRule,
  type StepJob,
  type StepLimiter,
} from '../queue/index.js';
import { lightRead, readsLight } from './check-reads.js';
import { planInputFor, workflowContexts, type WorkflowContext } from './context.js';
import { freshHolders } from '../service/holders.js';
import { noteEpoch, type ClaimCheck, type ClaimSettings } from './claim.js';
import { runDry } from './dry-run.js';
import { heldJob, recordRun, runningJob, type BreakerHooks } from './holds.js';
import type { StepContext, StepOptions } from './moves.js';
import { deferred, retry, type Outcome } from './outcome.js';
import { runIpmiStep, runRedfishStep } from './steps/bmc.js';
import { checkStep, runCheck, sameCheck, settleCheck, writesJira } from './steps/check.js';
import {
  announceBreakerHold,
  escalateTicket,
  openGate,
  requestApproval,
  waitForHolder,
} from './steps/gate.js';
import { postInstructions } from './steps/instructions.js';
import { runSshStep } from './steps/ssh.js';

export interface RunnerDeps extends Omit<StepContext, 'failureStatus' | 'logger' | 'transitionFields'> {
  definitions: Definitions;
  logger: Logger;
  timeScale: number;
  /** Runs nothing and moves nothing: says what it would do (dry-run.ts). */
  dryRun: boolean;
  /** Asked first: a reason means all work is paused (`runbot pause`) and the job is deferred. */
  paused?: () => Promise<string | undefined>;
  /** The fresh plan still wants this job and the worker is about to act on it (metrics). */
  onStart?: (job: StepJob, decision: ActionableDecision) => void;
  /** Blast-radius caps (inventory `caps`, and a global cap): a full cap defers the job. */
  caps?: { limiter: StepLimiter; global?: number };
  /** Tells when Redis may have lost work in flight; then a step's claim is settled in Jira (claim.ts). */
  claims?: ClaimSettings;
  /** The failure-rate breakers (Redis): outcomes recorded, open ones hold new starts back. */
  breakers?: { store: BreakerStore } & BreakerHooks;
}

export type Attempt = { number: number; last: boolean };
export type Runner = (job: StepJob, attempt: Attempt) => Promise<Outcome>;

/** Jobs whose fresh plan depends on the open breakers. */
const HELD_KINDS = new Set<StepJob['kind']>(['runStep', 'postInstructions', 'noteHold']);

export function createRunner(deps: RunnerDeps): Runner {
  const contexts = workflowContexts(deps.definitions);
  // A dry run takes no cap and consults no breaker: it runs nothing they would limit.
  const caps = deps.dryRun ? undefined : deps.caps;
  const breakers = deps.dryRun ? undefined : deps.breakers;

  /** A ticket as read, planned as the poller plans it (context.ts). */
  async function planRead(ticket: Ticket, job: JobRun): Promise<Planned> {
    // Leaving the gate of an exclusive workflow: who holds the host, as Jira says now. Display names
    // only shape the comments' words; read once per process by the adapter.
    const holders = await freshHolders(deps.jira, job.context, ticket);
    const fieldNames = await deps.jira.fieldNames?.();
    const { openBreakers } = job;
    const planInput = planInputFor(job.context, ticket, deps, { openBreakers, holders, fieldNames });
    return { ticket, planInput, decision: planTicket(planInput) };
  }

  /** The fresh plan's decision if it still calls for this job; else what the job comes to. */
  function wantedNow(
    job: JobRun,
    decision: Decision,
  ): { decision: ActionableDecision } | { outcome: Outcome } {
    // Held back since the job was made: it waits in its queue (a stale job would keep its id busy).
    const heldNow = heldJob(
      job.job,
      decision,
      deps.definitions.inventory,
      job.openBreakers ?? {},
      deps.now(),
    );
    if (heldNow) return { outcome: heldNow };
    const running = runningJob(job.job, decision, deps.now());
    if (running) {
      // A resume waiting out a mark may hold its ticket for a step's whole budget: said, not hidden.
      job.logger().info({ reason: running.reason }, 'resumed step waits for its running mark to lapse');
      return { outcome: running };
    }
    if (stillWanted(job.job, decision) || refusesMoveOf(job.job, decision)) return { decision };
    if (deps.logger.isLevelEnabled('debug')) {
      job.logger().debug({ fresh: decision.kind }, 'job no longer wanted');
    }
    return { outcome: { kind: 'stale', reason: 'no longer wanted' } };
  }

  function stepContext(job: JobRun, decision: ActionableDecision): StepContext {
    const { workflow } = job.context;
    return {
      ...deps,
      logger: deps.logger.child({ ...jobLogFields(job.job), step: stepOf(decision) }),
      failureStatus: workflow.failure,
      ...(workflow.transitions ? { transitionFields: workflow.transitions } : {}),
    };
  }

  /** Carries out the decision the fresh full read calls for. */
  async function act(job: JobRun, planned: Planned, decision: ActionableDecision, started = false) {
    // Caps are taken after the fresh plan, so a stale job never holds a place.
    const rules = caps ? capsFor(decision, deps.definitions.inventory, caps.global) : [];
    const lease = rules.length > 0 ? await caps?.limiter.tryAcquire(rules) : undefined;
    if (rules.length > 0 && lease === undefined) return capReached(rules);
    try {
      if (!started) deps.onStart?.(job.job, decision);
      const step = stepOf(decision);
      const ctx = stepContext(job, decision);
      const seen = planned.ticket.comments ?? [];
      const outcome = deps.dryRun
        ? await runDry(decision, ctx, seen, planned.planInput)
        : await runDecision(decision, ctx, {
            lastAttempt: job.attempt.last,
            seen,
            read: planned.ticket,
            ...(job.claim ? { claim: job.claim } : {}),
          });
      if (outcome.kind !== 'done' && outcome.kind !== 'again') return outcome;
      if (breakers && decision.kind === 'runStep') {
        await recordRun(
          breakers,
          decision,
          outcome.result,
          deps.definitions.inventory,
          deps.now(),
          ctx.logger,
        );
      }
      return withStep(outcome, step);
    } finally {
      await lease
        ?.release()
        .catch((error: unknown) =>
          job.logger().warn({ err: error }, 'cap release failed: the lease lapses by itself'),
        );
    }
  }

  /**
   * A check round planned from the light read. The planner reads no comments, and the transitions
   * feed only guardTransitionFields, which can turn a check into a refusal (refusedMove) but nothing
   * into a check; the rest (pause label, approvals, holds: never a check's, exclusive holders: the
   * gate's, input lookalikes) comes from the fields and bookkeeping both reads carry. So the light
   * plan may want a check the full plan refuses, never the reverse: the check runs (read-only), and
   * a write it calls for waits for a full read whose fresh plan still wants the same check; a
   * refusal found there is acted on instead (check-reads.ts: when a round reads in full at once).
   */
  async function checkRound(job: JobRun, light: CheckDecision): Promise<Outcome> {
    deps.onStart?.(job.job, light);
    const ctx = stepContext(job, light);
    const verdict = await runCheck(light, ctx);
    if (!writesJira(verdict, light)) return withStep(await settleCheck(verdict, light, ctx), light.step.name);
    const full = await deps.jira.getTicket(job.job.key, job.context.shape);
    if (!full) return { kind: 'stale', reason: 'gone' };
    const planned = await planRead(full, job);
    const wanted = wantedNow(job, planned.decision);
    if ('outcome' in wanted) return wanted.outcome;
    const fresh = wanted.decision;
    if (fresh.kind !== 'checkStep') return act(job, planned, fresh, true);
    if (!sameCheck(light, fresh)) return { kind: 'stale', reason: 'no longer wanted' };
    return withStep(await settleCheck(verdict, fresh, ctx), fresh.step.name);
  }

  return async (job, attempt) => {
    // The job's child logger is made when something is logged or a step runs, not for every job:
    // a child serializes its bindings when it is made, and most jobs are deferred or stale silently.
    let jobLogger: Logger | undefined;
    const logger = () => (jobLogger ??= deps.logger.child(jobLogFields(job)));
    const paused = await deps.paused?.();
    if (paused !== undefined) return deferred(paused);
    // First of all, before anything can stall: which Redis this job came from (claim.ts).
    const claim = await noteEpoch(job, deps.claims);
    // A full cap defers the job before it costs a Jira read; the cap is taken for real after the plan.
    const jobCaps = caps ? capsFor(job, deps.definitions.inventory, caps.global) : [];
    if (jobCaps.length > 0 && !(await caps?.limiter.hasRoom(jobCaps))) return capReached(jobCaps);
    // A breaker, a freeze or a closed window defers the job before it costs a Jira read, like a cap.
    const openBreakers = HELD_KINDS.has(job.kind) ? await breakers?.store.open() : undefined;
    const held = heldJob(job, undefined, deps.definitions.inventory, openBreakers ?? {}, deps.now());
    if (held) return held;
    const context = contexts.get(job.workflow);
    if (!context) {
      // Mixed versions during a deploy: a worker that has the workflow may take a retry. Made stale,
      // the job would keep its id, and the ticket's visit would wait as long as the queue keeps it
      // (1 h); failed after its attempts, it is removed and the next poll plans it again. Said once
      // per job, at its last attempt: a lasting mismatch would otherwise warn at every attempt.
      if (attempt.last) logger().warn('job names a workflow that is not loaded');
      return retry(`workflow ${job.workflow} is not loaded by this worker`);
    }
    const run: JobRun = {
      job,
      attempt,
      context,
      logger,
      ...(openBreakers ? { openBreakers } : {}),
      ...(claim ? { claim } : {}),
    };
    const read = readsLight(job, deps.dryRun)
      ? await lightRead(job, context.shape, deps.jira)
      : { ticket: await deps.jira.getTicket(job.key, context.shape), light: false };
    if (!read.ticket) return { kind: 'stale', reason: 'gone' };
    const planned = await planRead(read.ticket, run);
    const wanted = wantedNow(run, planned.decision);
    if ('outcome' in wanted) return wanted.outcome;
    if (!read.light) return act(run, planned, wanted.decision);
    // A light read shows no transitions, so its plan refuses no move: a check job it wants is a check.
    if (wanted.decision.kind !== 'checkStep') return { kind: 'stale', reason: 'no longer wanted' };
    return checkRound(run, wanted.decision);
  };
}

type CheckDecision = Extract<Decision, { kind: 'checkStep' }>;

/** One job as the runner carries it through its reads and plans. */
interface JobRun {
  job: StepJob;
  attempt: Attempt;
  context: WorkflowContext;
  logger: () => Logger;
  openBreakers?: OpenBreakers;
  claim?: ClaimCheck;
}

interface Planned {
  ticket: Ticket;
  planInput: PlanInput;
  decision: Decision;
}

function stepOf(decision: ActionableDecision): string | undefined {
  return 'step' in decision ? decision.step.name : undefined;
}

function withStep(outcome: Outcome, step: string | undefined): Outcome {
  return (outcome.kind !== 'done' && outcome.kind !== 'again') || step === undefined
    ? outcome
    : { ...outcome, step };
}

/** One module per kind of decision (and per transport of a step). */
function runDecision(decision: ActionableDecision, ctx: StepContext, options: StepOptions): Promise<Outcome> {
  // A gate opening or an escalation moves at once: the worker's read stands for the move's own.
  const atOnce = options.read ? { ...ctx, freshRead: options.read } : ctx;
  switch (decision.kind) {
    case 'transition':
      return openGate(decision, atOnce);
    case 'hold':
      return waitForHolder(decision, ctx, options);
    case 'requestApproval':
      return requestApproval(decision, ctx);
    case 'escalate':
      return escalateTicket(decision, atOnce);
    case 'postInstructions':
      return postInstructions(decision, ctx, options);
    case 'runStep':
      if (decision.transport === 'ipmi') return runIpmiStep(decision, ctx, options);
      if (decision.transport === 'redfish') return runRedfishStep(decision, ctx, options);
      return runSshStep(decision, ctx, options);
    case 'checkStep':
      return checkStep(decision, ctx);
    case 'noteHold':
      return announceBreakerHold(decision, ctx, options);
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

function capReached(rules: CapRule[]): Outcome {
  return deferred(`cap reached: ${rules.map((rule) => `${rule.key} ${rule.limit}`).join(', ')}`);
}
