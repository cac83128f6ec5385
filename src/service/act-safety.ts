// The worker's side of the fleet-scale safety decisions: a ticket held at the gate by another
// ticket's exclusive value, a step's plan put up for approval, and a manual step's routing
// (assignee, due date). Each is idempotent: a retry finds its comment, or repeats a same-valued write.
import type { ActionableDecision, TicketComment } from '../planner/index.js';
import { moveTo, type ActContext, type ActOutcome } from './act.js';
import * as report from './report.js';

/** One comment naming the holder, then the visit records it: later polls wait without a word. */
export async function holdTicket(
  decision: Extract<ActionableDecision, { kind: 'hold' }>,
  ctx: ActContext,
  comments: TicketComment[],
): Promise<ActOutcome> {
  const { visit, holder } = decision;
  const ref = report.commentRef(visit, `held-${holder}`);
  const posted = comments.some((comment) => comment.text.includes(ref));
  if (!posted) await ctx.jira.addComment(visit.key, report.waitingForHolder(decision, ctx.now()));
  await ctx.jira.setBookkeeping(visit.key, { ...visit.bookkeeping, heldBy: holder });
  ctx.logger.info({ holder, input: decision.input }, 'ticket waits for the holder of its exclusive value');
  return posted ? 'duplicate' : 'held';
}

/** The plan and the move to the approval status in one call; the plan's hash goes with it. */
export async function requestApproval(
  decision: Extract<ActionableDecision, { kind: 'requestApproval' }>,
  ctx: ActContext,
): Promise<ActOutcome> {
  const { visit, step } = decision;
  const comment = report.approvalRequested(decision, ctx.failureStatus, ctx.now());
  const awaiting = { step: step.name, status: visit.status, hash: decision.hash };
  const outcome = await moveTo(ctx, visit, decision.to, comment, { awaiting });
  if (outcome === 'refused') return outcome;
  ctx.logger.info({ hash: decision.hash }, 'plan put up for approval');
  return 'awaiting-approval';
}

/** Assignee and due date of a manual step, set once its comment is posted (same values on a retry). */
export async function routeManualStep(
  decision: Extract<ActionableDecision, { kind: 'postInstructions' }>,
  ctx: ActContext,
): Promise<void> {
  const { assignee, dueDate } = decision;
  if (assignee === undefined && dueDate === undefined) return;
  await ctx.jira.editFields(decision.visit.key, {
    ...(assignee !== undefined ? { assignee } : {}),
    ...(dueDate !== undefined ? { dueDate } : {}),
  });
}
