// A Redfish step run by the worker: claimed in Jira before the BMC is touched (a power-cycle is never
// repeated on a guess), then the action; the BMC's refusals become a comment for a person that says
// what to fix and what to run by hand, an unreachable BMC is retried first.
import {
  RedfishAuthError,
  RedfishCertificateError,
  RedfishPasswordMissingError,
  RedfishUnreachableError,
  type RedfishResult,
} from '../executors/redfish/index.js';
import { bookkeeping, type RunRedfishStep } from '../planner/index.js';
import {
  claimStep,
  fail,
  failureReason,
  moveTo,
  passes,
  RetryableStepError,
  type ActContext,
  type ActOptions,
  type ActOutcome,
} from './act.js';
import * as report from './report.js';

export async function runRedfish(
  decision: RunRedfishStep,
  ctx: ActContext,
  { lastAttempt, claim }: ActOptions,
): Promise<ActOutcome> {
  const { visit, step, redfish } = decision;
  const command = decision.commands[0] ?? redfish.action;
  const byHand = `To do the step by hand, from a machine that reaches the BMC: ${command}`;
  if (!ctx.redfish) {
    return fail(ctx, decision, [], `This worker has no Redfish executor, so the step was not run. ${byHand}`);
  }
  const claimed = await claimStep(ctx, decision, claim);
  if (claimed !== 'ours') return claimed;
  let result: RedfishResult;
  try {
    result = await ctx.redfish.run(redfish.bmc, redfish.action, { timeoutSeconds: decision.timeoutSeconds });
  } catch (error) {
    if (error instanceof RedfishUnreachableError) {
      // Nothing reached the BMC: clear the at-most-once mark and let the queue retry first.
      await ctx.jira.setBookkeeping(visit.key, bookkeeping.cleared(visit));
      if (!lastAttempt) throw new RetryableStepError(error.message);
      return fail(ctx, decision, [], `${error.message} ${byHand}`);
    }
    if (
      error instanceof RedfishAuthError ||
      error instanceof RedfishPasswordMissingError ||
      error instanceof RedfishCertificateError
    ) {
      ctx.logger.warn({ host: redfish.bmc.host, bmc: redfish.bmc.address, err: error }, 'redfish refused');
      return fail(ctx, decision, [], `${error.message} ${byHand}`);
    }
    throw error;
  }
  const runs = [{ command: result.command || command, result }];
  if (result.problem !== undefined) return fail(ctx, decision, runs, `${result.problem}.`);
  if (!passes(result, decision.expect.exit, decision.expect.output)) {
    return fail(ctx, decision, runs, failureReason(result, decision.expect));
  }
  return moveTo(ctx, visit, step.next, report.stepSucceeded(decision, runs, ctx.now()));
}
