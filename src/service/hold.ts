// Telling a ticket why its step waits (an open failure-rate breaker): one comment per visit, found
// again by its reference on a retry, and the mark in the bookkeeping that tells the planner it was
// said (so no poll cycle asks again). The step itself runs once the breaker is reset.
import { holdMark } from '../planner/index.js';
import type { ActionableDecision, TicketComment } from '../planner/index.js';
import type { ActContext, ActOutcome } from './act.js';
import * as report from './report.js';

export async function noteHold(
  decision: Extract<ActionableDecision, { kind: 'noteHold' }>,
  ctx: Pick<ActContext, 'jira' | 'now' | 'logger'>,
  comments: TicketComment[],
): Promise<ActOutcome> {
  const { visit, step, hold } = decision;
  const ref = report.commentRef(visit, `hold-${step.name}`);
  const alreadyPosted = comments.some((comment) => comment.text.includes(ref));
  if (!alreadyPosted) await ctx.jira.addComment(visit.key, report.heldByBreaker(decision, ctx.now()));
  await ctx.jira.setBookkeeping(visit.key, { ...visit.bookkeeping, held: holdMark(hold) });
  ctx.logger.info({ site: hold.site, hold: hold.kind, reason: hold.reason }, 'step held back: ticket told');
  return alreadyPosted ? 'duplicate' : 'held';
}
