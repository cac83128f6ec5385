// A manual step: its Action Required comment, posted once per visit (found again by its reference on
// a retry, and settled with a twin after a Redis loss: claim.ts), then its routing (assignee, due
// date) and the bookkeeping that says it was posted.
import { bookkeeping, type Decision } from '../../planner/index.js';
import { claimInstructions } from '../claim.js';
import * as comments from '../comments.js';
import { hasComment, type StepContext, type StepOptions } from '../moves.js';
import { done, type Outcome } from '../outcome.js';

type PostInstructions = Extract<Decision, { kind: 'postInstructions' }>;

export async function postInstructions(
  decision: PostInstructions,
  ctx: StepContext,
  { seen, claim }: StepOptions,
): Promise<Outcome> {
  const { visit, step } = decision;
  const checkedAt = performance.now();
  const claimed = await claimInstructions(ctx, visit, step.name, claim, seen);
  if (claimed.claimed !== 'ours') return done(claimed.claimed);
  const alreadyPosted = hasComment(claimed.seen, comments.commentRef(visit, decision.purpose ?? step.name));
  if (!alreadyPosted) {
    // With claims, a 429 is not waited out here: the job's retry decides again, so the comment lands
    // within one request of the check above, before a twin that settles looks for it.
    const body = comments.instructions(decision, ctx.now());
    await ctx.jira.addComment(visit.key, body, { once: claim !== undefined });
    const elapsedMs = performance.now() - checkedAt;
    if (claim && elapsedMs > claim.settleMs) {
      ctx.logger.warn(
        { elapsedMs, settleMs: claim.settleMs },
        'instructions took longer to post than the claim bound: if Redis lost work meanwhile, a twin may post them too',
      );
    }
  }
  // After the comment, so it still lands right after the check above; a retry routes again.
  await routeManualStep(decision, ctx);
  await ctx.jira.setBookkeeping(visit.key, bookkeeping.instructed(visit));
  return done(alreadyPosted ? 'duplicate' : 'instructed');
}

/** Assignee and due date of a manual step, set once its comment is posted (same values on a retry). */
async function routeManualStep(decision: PostInstructions, ctx: StepContext): Promise<void> {
  const { assignee, dueDate } = decision;
  if (assignee === undefined && dueDate === undefined) return;
  await ctx.jira.editFields(decision.visit.key, {
    ...(assignee !== undefined ? { assignee } : {}),
    ...(dueDate !== undefined ? { dueDate } : {}),
  });
}
