// One check of a wait step: done, failed, past its deadline, or still running (the same job runs
// again when the next round begins). An unreachable host is not yet a failure while the deadline
// has not passed.
//
// In two halves, so the runner can decide the writes on a read of its own: `runCheck` runs the
// read-only check command and says what its result calls for (a verdict), writing nothing;
// `settleCheck` makes the writes that verdict calls for (a move, the start's bookkeeping). A check
// round that read the ticket light (runner.ts) settles a verdict that `writesJira` only after a full
// read whose fresh plan still wants the same check.
import { SshConnectError } from '../../executors/ssh/index.js';
import type { CommandResult } from '../../executors/types.js';
import { bookkeeping, type Decision } from '../../planner/index.js';
import type { CommandRun } from '../comments.js';
import { fail, succeed, type StepContext } from '../moves.js';
import { again, type Outcome } from '../outcome.js';
import { sshTrouble } from './ssh.js';

type CheckDecision = Extract<Decision, { kind: 'checkStep' }>;

/** What one check's result calls for. */
export type CheckVerdict =
  /** Still running: the job comes back next round (the start is recorded when the visit is new). */
  | { kind: 'running' }
  /** The host could not be reached before the deadline: the job comes back next round, nothing written. */
  | { kind: 'unreachable' }
  /** Done: on to the step's next status. */
  | { kind: 'done'; runs: CommandRun[] }
  /** Failed (fail_when, the deadline, the host unreachable at the deadline): to the failure status. */
  | { kind: 'failed'; runs: CommandRun[]; reason: string }
  /** Any other SSH error: a refused host key goes to a person, anything else is thrown on. */
  | { kind: 'trouble'; error: unknown };

export async function checkStep(decision: CheckDecision, ctx: StepContext): Promise<Outcome> {
  return settleCheck(await runCheck(decision, ctx), decision, ctx);
}

/** Runs the check command (read-only) and says what its result calls for; writes nothing to Jira. */
export async function runCheck(decision: CheckDecision, ctx: StepContext): Promise<CheckVerdict> {
  let result: CommandResult;
  try {
    result = await ctx.runner.run(decision.target, decision.command, {
      timeoutSeconds: decision.timeoutSeconds,
    });
  } catch (error) {
    if (error instanceof SshConnectError && !decision.final) {
      // A wait step is checked again next round; an unreachable host is not yet a failure.
      ctx.logger.warn({ err: error, host: decision.target.host }, 'check could not reach host');
      return { kind: 'unreachable' };
    }
    if (error instanceof SshConnectError) {
      return {
        kind: 'failed',
        runs: [],
        reason: `The step's deadline (${decision.deadline}) passed and the last check could not reach ${decision.target.host}: ${error.message}`,
      };
    }
    return { kind: 'trouble', error };
  }
  const runs = [{ command: decision.command, result }];
  if (decision.failWhen && new RegExp(decision.failWhen, 'm').test(result.stdout)) {
    return { kind: 'failed', runs, reason: `The check's output matched fail_when (${decision.failWhen}).` };
  }
  if (result.exitCode === 0 && new RegExp(decision.doneWhen, 'm').test(result.stdout)) {
    return { kind: 'done', runs };
  }
  if (decision.final) {
    return {
      kind: 'failed',
      runs,
      reason: `The step did not finish by its deadline (${decision.deadline}; started ${decision.startedAt}).`,
    };
  }
  return { kind: 'running' };
}

/** Does settling this verdict for this decision write to Jira? */
export function writesJira(verdict: CheckVerdict, decision: CheckDecision): boolean {
  if (verdict.kind === 'unreachable') return false;
  return verdict.kind !== 'running' || decision.visit.isNew;
}

/** The same check as another plan's: the same command on the same target, read the same way. */
export function sameCheck(a: CheckDecision, b: CheckDecision): boolean {
  const what = (d: CheckDecision) => JSON.stringify([d.target, d.command, d.doneWhen, d.failWhen ?? null]);
  return what(a) === what(b);
}

/** Makes the writes a verdict calls for, on the ticket visit of `decision`. */
export async function settleCheck(
  verdict: CheckVerdict,
  decision: CheckDecision,
  ctx: StepContext,
): Promise<Outcome> {
  const { visit } = decision;
  switch (verdict.kind) {
    case 'unreachable':
      return nextRound(decision, ctx);
    case 'trouble':
      return sshTrouble(verdict.error, ctx, decision, [], true);
    case 'failed':
      return fail(ctx, decision, verdict.runs, verdict.reason);
    case 'done':
      return succeed(ctx, decision, verdict.runs);
    case 'running':
      // When a person moved the ticket in, its entry time is not in Jira yet: record it as the start,
      // so the deadline survives restarts. When the bot moved it in, enteredAt already is the start.
      if (visit.isNew)
        await ctx.jira.setBookkeeping(visit.key, bookkeeping.started(visit, decision.startedAt));
      ctx.logger.info({ round: decision.round, deadline: decision.deadline }, 'step still running');
      return nextRound(decision, ctx);
  }
}

/** Still running: the job comes back when the next round begins (at once if it already has). */
function nextRound(decision: CheckDecision, ctx: StepContext): Outcome {
  return again('pending', Date.parse(decision.nextRoundAt) - ctx.now().getTime());
}
