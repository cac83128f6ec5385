// The decisions that touch Jira only: a move through the gate (or back from approval), an
// escalation to a person, a ticket that waits for the holder of its exclusive value, a step's plan
// put up for approval, and a step held back by an open breaker. Each is idempotent: a retry finds
// its comment (by reference), or repeats a same-valued write.
import { bookkeeping, holdMark, type Decision } from '../../planner/index.js';
import * as comments from '../comments.js';
import { escalate, hasComment, moveTo, type StepContext, type StepOptions } from '../moves.js';
import { done, type Outcome } from '../outcome.js';

type Of<K extends Decision['kind']> = Extract<Decision, { kind: K }>;

export async function openGate(decision: Of<'transition'>, ctx: StepContext): Promise<Outcome> {
  const { visit, to } = decision;
  const comment = comments.gateOpened(visit, to, decision.reason, ctx.now());
  return done(
    await moveTo(ctx, visit, to, comment, decision.approved ? { approved: decision.approved } : undefined),
  );
}

export function escalateTicket(decision: Of<'escalate'>, ctx: StepContext): Promise<Outcome> {
  return escalate(ctx, decision.visit, decision.to, 'escalation', decision);
}

/** One comment naming the holder, then the visit records it: later polls wait without a word. */
export async function waitForHolder(
  decision: Of<'hold'>,
  ctx: StepContext,
  { seen }: StepOptions,
): Promise<Outcome> {
  const { visit, holder } = decision;
  const posted = hasComment(seen, comments.commentRef(visit, `held-${holder}`));
  if (!posted) await ctx.jira.addComment(visit.key, comments.waitingForHolder(decision, ctx.now()));
  await ctx.jira.setBookkeeping(visit.key, bookkeeping.heldBy(visit, holder));
  ctx.logger.info({ holder, input: decision.input }, 'ticket waits for the holder of its exclusive value');
  return done(posted ? 'duplicate' : 'held');
}

/** The plan and the move to the approval status in one call; the plan's hash goes with it. */
export async function requestApproval(decision: Of<'requestApproval'>, ctx: StepContext): Promise<Outcome> {
  const { visit, step } = decision;
  const comment = comments.approvalRequested(decision, ctx.failureStatus, ctx.now());
  const awaiting = { step: step.name, status: visit.status, hash: decision.hash };
  const moved = await moveTo(ctx, visit, decision.to, comment, { awaiting });
  if (moved === 'refused') return done(moved);
  ctx.logger.info({ hash: decision.hash }, 'plan put up for approval');
  return done('awaiting-approval');
}

/**
 * Telling a ticket why its step waits (an open failure-rate breaker): one comment per visit, and the
 * mark in the bookkeeping that tells the planner it was said (so no poll cycle asks again). The step
 * itself runs once the breaker is reset.
 */
export async function announceBreakerHold(
  decision: Of<'noteHold'>,
  ctx: StepContext,
  { seen }: StepOptions,
): Promise<Outcome> {
  const { visit, step, hold } = decision;
  const alreadyPosted = hasComment(seen, comments.commentRef(visit, `hold-${step.name}`));
  if (!alreadyPosted) await ctx.jira.addComment(visit.key, comments.heldByBreaker(decision, ctx.now()));
  await ctx.jira.setBookkeeping(visit.key, bookkeeping.toldHeld(visit, holdMark(hold)));
  ctx.logger.info({ site: hold.site, hold: hold.kind, reason: hold.reason }, 'step held back: ticket told');
  return done(alreadyPosted ? 'duplicate' : 'held');
}
