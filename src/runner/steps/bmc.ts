// A step against a host's BMC, over IPMI (ipmitool) or Redfish (HTTPS): claimed in Jira before the
// BMC is touched (a power-cycle is never repeated on a guess), then the one action. The executors'
// errors become outcomes here: an unreachable BMC is retried first (the mark taken back: nothing
// reached it), a refusal (credentials, a missing password, an untrusted certificate) fails the step
// with a comment saying what to fix.
import { IpmiAuthError, IpmiPasswordMissingError, IpmiUnreachableError } from '../../executors/ipmi/index.js';
import {
  RedfishAuthError,
  RedfishCertificateError,
  RedfishPasswordMissingError,
  RedfishUnreachableError,
} from '../../executors/redfish/index.js';
import type { IpmiResult } from '../../executors/types.js';
import type { RedfishResult } from '../../executors/redfish/index.js';
import { bookkeeping, type RunIpmiStep, type RunRedfishStep } from '../../planner/index.js';
import { claimStep, stoodDown } from '../claim.js';
import { fail, failureReason, passes, succeed, type StepContext, type StepOptions } from '../moves.js';
import { retry, type Outcome } from '../outcome.js';

export async function runIpmiStep(
  decision: RunIpmiStep,
  ctx: StepContext,
  options: StepOptions,
): Promise<Outcome> {
  const { ipmi } = decision;
  const executor = ctx.ipmi;
  if (!executor) return fail(ctx, decision, [], 'This worker has no IPMI executor, so the step was not run.');
  return runBmcAction(decision, ctx, options, {
    run: () => executor.run(ipmi.bmc, ipmi.action, { timeoutSeconds: decision.timeoutSeconds }),
    unreachable: (error) => (error instanceof IpmiUnreachableError ? error.message : undefined),
    refused: (error) =>
      error instanceof IpmiAuthError || error instanceof IpmiPasswordMissingError ? error.message : undefined,
    protocol: 'ipmi',
    byHand: '',
  });
}

export async function runRedfishStep(
  decision: RunRedfishStep,
  ctx: StepContext,
  options: StepOptions,
): Promise<Outcome> {
  const { redfish } = decision;
  const command = decision.commands[0] ?? redfish.action;
  const byHand = ` To do the step by hand, from a machine that reaches the BMC: ${command}`;
  const executor = ctx.redfish;
  if (!executor) {
    return fail(ctx, decision, [], `This worker has no Redfish executor, so the step was not run.${byHand}`);
  }
  return runBmcAction(decision, ctx, options, {
    run: () => executor.run(redfish.bmc, redfish.action, { timeoutSeconds: decision.timeoutSeconds }),
    unreachable: (error) => (error instanceof RedfishUnreachableError ? error.message : undefined),
    refused: (error) =>
      error instanceof RedfishAuthError ||
      error instanceof RedfishPasswordMissingError ||
      error instanceof RedfishCertificateError
        ? error.message
        : undefined,
    protocol: 'redfish',
    byHand,
  });
}

/** How one BMC protocol runs its action and names its errors. */
interface BmcActionRunner {
  run(): Promise<IpmiResult | RedfishResult>;
  /** The message of an error that says nothing reached the BMC; undefined for any other error. */
  unreachable(error: unknown): string | undefined;
  /** The message of an error that says the BMC refused the bot; undefined for any other error. */
  refused(error: unknown): string | undefined;
  protocol: 'ipmi' | 'redfish';
  /** Appended to a failure the person can work around by hand (empty when there is nothing to add). */
  byHand: string;
}

async function runBmcAction(
  decision: RunIpmiStep | RunRedfishStep,
  ctx: StepContext,
  { lastAttempt, claim }: StepOptions,
  action: BmcActionRunner,
): Promise<Outcome> {
  const { visit, step } = decision;
  const bmc = decision.transport === 'ipmi' ? decision.ipmi.bmc : decision.redfish.bmc;
  const claimed = await claimStep(ctx, visit, step.name, claim);
  if (claimed !== 'ours') return stoodDown(claimed, decision.resumed);
  let result: IpmiResult | RedfishResult;
  try {
    result = await action.run();
  } catch (error) {
    const unreachable = action.unreachable(error);
    if (unreachable !== undefined) {
      // Nothing reached the BMC: clear the at-most-once mark and let the queue retry first.
      await ctx.jira.setBookkeeping(visit.key, bookkeeping.cleared(visit));
      if (!lastAttempt) return retry(unreachable);
      return fail(ctx, decision, [], `${unreachable}${action.byHand}`);
    }
    const refused = action.refused(error);
    if (refused !== undefined) {
      ctx.logger.warn({ host: bmc.host, bmc: bmc.address, err: error }, `${action.protocol} refused`);
      return fail(ctx, decision, [], `${refused}${action.byHand}`);
    }
    throw error;
  }
  const command =
    decision.commands[0] ?? (decision.transport === 'ipmi' ? decision.ipmi : decision.redfish).action;
  const runs = [{ command: result.command || command, result }];
  if (result.problem !== undefined) return fail(ctx, decision, runs, `${result.problem}.`);
  if (!passes(result, decision.expect.exit, decision.expect.output)) {
    return fail(ctx, decision, runs, failureReason(result, decision.expect));
  }
  return succeed(ctx, decision, runs);
}
