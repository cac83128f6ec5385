// What every step module shares: the context a step runs in, and the moves that end a step (to the
// next status, to the failure status, to a person), each one transition carrying its comment and the
// bookkeeping of the status entered.
import type { CommandResult, CommandRunner, IpmiExecutor } from '../executors/types.js';
import type { RedfishExecutor } from '../executors/redfish/index.js';
import type { JiraPort } from '../jira/port.js';
import type { Logger } from '../logger.js';
import {
  bookkeeping,
  type Bookkeeping,
  type Decision,
  type RunStep,
  type StepVisit,
  type Ticket,
  type TicketComment,
} from '../planner/index.js';
import type { ClaimCheck } from './claim.js';
import * as comments from './comments.js';
import { done, type Outcome } from './outcome.js';

export interface StepContext {
  jira: JiraPort;
  runner: CommandRunner;
  /** Runs ipmi steps; without one, an ipmi step fails with a comment saying so. */
  ipmi?: IpmiExecutor;
  /** Runs redfish steps; without one, a redfish step fails with a comment saying so. */
  redfish?: RedfishExecutor;
  now: () => Date;
  logger: Logger;
  /** Human status for failures (the workflow's `failure`). */
  failureStatus: string;
  /** Values for transition screens' fields, by target status (the workflow's `transitions`). */
  transitionFields?: Record<string, { fields: Record<string, unknown> }>;
  /** The worker's read, for moves made before anything runs (a gate, an escalation): the adapter
   * takes the transition from it instead of reading the ticket a second time. */
  freshRead?: Ticket;
}

export interface StepOptions {
  /** The queue will not retry this job again. */
  lastAttempt: boolean;
  /** The ticket's comments from the worker's fresh read, to find the bot's own earlier comments. */
  seen: TicketComment[];
  /** The ticket as the worker just read it (getTicket's own object). */
  read?: Ticket;
  /** How a step's running mark is claimed when the job may have a twin; without it, the queue's
   * job ids are trusted to keep one copy of each job. */
  claim?: ClaimCheck;
}

/** The move to `to`, with its comment and the bookkeeping of the visit it begins. */
export async function moveTo(
  ctx: StepContext,
  visit: StepVisit,
  to: string,
  comment: ReturnType<typeof comments.gateOpened>,
  record?: Partial<Bookkeeping>,
): Promise<'transitioned' | 'refused'> {
  const fields = ctx.transitionFields?.[to]?.fields;
  const moved = await ctx.jira.transitionTo(
    visit.key,
    { from: visit.status, to },
    {
      comment,
      bookkeeping: { ...bookkeeping.movedOn(visit.bookkeeping, to, ctx.now()), ...record },
      ...(fields ? { fields } : {}),
      ...(ctx.freshRead ? { freshRead: ctx.freshRead } : {}),
    },
  );
  if (moved === 'refused') ctx.logger.info({ to }, 'transition refused: the ticket moved meanwhile');
  return moved;
}

/** The move to a human status, with a comment that says what a person should do. */
export async function escalate(
  ctx: StepContext,
  visit: StepVisit,
  to: string,
  purpose: string,
  content: Parameters<typeof comments.escalation>[2],
  step?: Parameters<typeof comments.escalation>[4],
): Promise<Outcome> {
  const moved = await moveTo(ctx, visit, to, comments.escalation(visit, purpose, content, ctx.now(), step));
  return done(moved === 'transitioned' ? 'escalated' : moved);
}

/** The step ran and did what it should: on to its next status. */
export async function succeed(
  ctx: StepContext,
  decision: RunStep | Extract<Decision, { kind: 'checkStep' }>,
  runs: comments.CommandRun[],
  note?: string,
): Promise<Outcome> {
  const { visit, step } = decision;
  return done(await moveTo(ctx, visit, step.next, comments.stepSucceeded(decision, runs, ctx.now(), note)));
}

/** The step failed: to the failure status, with what ran and why it failed. */
export async function fail(
  ctx: StepContext,
  decision: RunStep | Extract<Decision, { kind: 'checkStep' }>,
  runs: comments.CommandRun[],
  reason: string,
): Promise<Outcome> {
  const comment = comments.stepFailed(decision, runs, reason, ctx.failureStatus, ctx.now());
  const moved = await moveTo(ctx, decision.visit, ctx.failureStatus, comment);
  return done(moved === 'transitioned' ? 'failed' : moved);
}

export function passes(result: CommandResult, exit: number, output: string | undefined): boolean {
  if (result.timedOut || result.exitCode !== exit) return false;
  return output === undefined || new RegExp(output, 'm').test(result.stdout);
}

export function failureReason(result: CommandResult, expect: { exit: number; output?: string }): string {
  if (result.timedOut) return 'The command timed out and was stopped on the host.';
  if (result.exitCode !== expect.exit)
    return `The command exited with ${result.exitCode ?? 'no code'}, expected ${expect.exit}.`;
  return `The command's output did not match ${expect.output ?? ''}.`;
}

/** The bot's own comment with this reference is among those read. */
export function hasComment(seen: TicketComment[], ref: string): boolean {
  return seen.some((comment) => comment.text.includes(ref));
}
