// One check of a wait step: done, failed, past its deadline, or still running (the same job runs
// again when the next round begins). An unreachable host is not yet a failure while the deadline
// has not passed.
import { SshConnectError } from '../../executors/ssh/index.js';
import type { CommandResult } from '../../executors/types.js';
import { bookkeeping, type Decision } from '../../planner/index.js';
import { fail, succeed, type StepContext } from '../moves.js';
import { again, type Outcome } from '../outcome.js';
import { sshTrouble } from './ssh.js';

export async function checkStep(
  decision: Extract<Decision, { kind: 'checkStep' }>,
  ctx: StepContext,
): Promise<Outcome> {
  const { visit } = decision;
  let result: CommandResult;
  try {
    result = await ctx.runner.run(decision.target, decision.command, {
      timeoutSeconds: decision.timeoutSeconds,
    });
  } catch (error) {
    if (error instanceof SshConnectError && !decision.final) {
      // A wait step is checked again next round; an unreachable host is not yet a failure.
      ctx.logger.warn({ err: error, host: decision.target.host }, 'check could not reach host');
      return nextRound(decision, ctx);
    }
    if (error instanceof SshConnectError) {
      return fail(
        ctx,
        decision,
        [],
        `The step's deadline (${decision.deadline}) passed and the last check could not reach ${decision.target.host}: ${error.message}`,
      );
    }
    return sshTrouble(error, ctx, decision, [], true);
  }
  const runs = [{ command: decision.command, result }];
  if (decision.failWhen && new RegExp(decision.failWhen, 'm').test(result.stdout)) {
    return fail(ctx, decision, runs, `The check's output matched fail_when (${decision.failWhen}).`);
  }
  if (result.exitCode === 0 && new RegExp(decision.doneWhen, 'm').test(result.stdout)) {
    return succeed(ctx, decision, runs);
  }
  if (decision.final) {
    return fail(
      ctx,
      decision,
      runs,
      `The step did not finish by its deadline (${decision.deadline}; started ${decision.startedAt}).`,
    );
  }
  // When a person moved the ticket in, its entry time is not in Jira yet: record it as the start,
  // so the deadline survives restarts. When the bot moved it in, enteredAt already is the start.
  if (visit.isNew) await ctx.jira.setBookkeeping(visit.key, bookkeeping.started(visit, decision.startedAt));
  ctx.logger.info({ round: decision.round, deadline: decision.deadline }, 'step still running');
  return nextRound(decision, ctx);
}

/** Still running: the job comes back when the next round begins (at once if it already has). */
function nextRound(decision: Extract<Decision, { kind: 'checkStep' }>, ctx: StepContext): Outcome {
  return again('pending', Date.parse(decision.nextRoundAt) - ctx.now().getTime());
}
