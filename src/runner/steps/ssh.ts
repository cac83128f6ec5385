// An SSH step: claimed before anything runs (if this worker dies mid-step, the next plan knows it
// began), its done_when check first, then its commands in order. The SSH executor's errors become
// outcomes here: a host key or certificate the bot will not trust goes to a person with the fix, an
// unreachable host is retried by the queue before it fails the step.
import { SshConnectError } from '../../executors/ssh/index.js';
import { bookkeeping, type Decision, type RunSshStep } from '../../planner/index.js';
import { claimStep, stoodDown } from '../claim.js';
import type * as comments from '../comments.js';
import {
  escalate,
  fail,
  failureReason,
  passes,
  succeed,
  type StepContext,
  type StepOptions,
} from '../moves.js';
import { retry, type Outcome } from '../outcome.js';
import {
  hostKeyComment,
  hostTrustComment,
  isHostKeyRefusal,
  isHostTrustRefusal,
  keyedHost,
} from './host-trust.js';

export async function runSshStep(
  decision: RunSshStep,
  ctx: StepContext,
  { lastAttempt, claim }: StepOptions,
): Promise<Outcome> {
  const { visit, step, target } = decision;
  const claimed = await claimStep(ctx, visit, step.name, claim);
  if (claimed !== 'ours') return stoodDown(claimed, decision.resumed);
  const runs: comments.CommandRun[] = [];
  try {
    if (decision.doneWhen) {
      const check = await ctx.runner.run(target, decision.doneWhen.command, {
        timeoutSeconds: decision.timeoutSeconds,
      });
      if (passes(check, 0, decision.doneWhen.output)) {
        const note = 'Its done_when check passed, so the step was already done and was not run again.';
        return await succeed(ctx, decision, [{ command: decision.doneWhen.command, result: check }], note);
      }
    }
    for (const command of decision.commands) {
      const result = await ctx.runner.run(target, command, { timeoutSeconds: decision.timeoutSeconds });
      runs.push({ command, result });
      if (!passes(result, decision.expect.exit, decision.expect.output)) {
        return await fail(ctx, decision, runs, failureReason(result, decision.expect));
      }
    }
  } catch (error) {
    return sshTrouble(error, ctx, decision, runs, lastAttempt);
  }
  return succeed(ctx, decision, runs);
}

/**
 * What an SSH error means for the step: a refused host goes to a person, an unreachable host is
 * retried (the running mark taken back: nothing ran) until the last attempt fails the step. Any
 * other error is not the SSH executor's to classify and is thrown on (the queue retries it).
 */
export async function sshTrouble(
  error: unknown,
  ctx: StepContext,
  decision: RunSshStep | Extract<Decision, { kind: 'checkStep' }>,
  runs: comments.CommandRun[],
  lastAttempt: boolean,
): Promise<Outcome> {
  const { visit, step, target } = decision;
  if (isHostKeyRefusal(error)) {
    const keyed = keyedHost(error, target);
    ctx.logger.warn({ host: keyed.host, fingerprint: error.fingerprint }, 'host key not trusted');
    const content = hostKeyComment(error, target, visit.status);
    return escalate(ctx, visit, ctx.failureStatus, `hostkey-${step.name}`, content, step);
  }
  if (isHostTrustRefusal(error)) {
    // A refused host certificate (expired, principal mismatch, unknown CA) or a @revoked key.
    ctx.logger.warn({ host: error.host, fingerprint: error.fingerprint, err: error }, 'host not trusted');
    const content = hostTrustComment(error, target, visit.status);
    return escalate(ctx, visit, ctx.failureStatus, `hostkey-${step.name}`, content, step);
  }
  if (error instanceof SshConnectError) {
    // Nothing ran: clear the at-most-once mark, then let the queue retry before asking a person.
    await ctx.jira.setBookkeeping(visit.key, bookkeeping.cleared(visit));
    if (!lastAttempt) return retry(error.message);
    return fail(ctx, decision, runs, `The bot could not reach ${target.host}: ${error.message}`);
  }
  throw error;
}
