// The one thin runner that turns a Decision into calls: the only place that owns dry-run, the
// at-most-once guard, error classification and the comments. One ticket's failure never stops others.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { HostKeyChangedError, HostKeyUnknownError, SshConnectError } from '../executors/ssh/index.js';
import { IpmiAuthError, IpmiPasswordMissingError, IpmiUnreachableError } from '../executors/ipmi/index.js';
import type { CommandResult, CommandRunner, IpmiExecutor } from '../executors/types.js';
import { codeBlock, paragraph } from '../jira/adf.js';
import type { JiraPort } from '../jira/port.js';
import type { Logger } from '../logger.js';
import {
  isActionable,
  type ActionableDecision,
  type Bookkeeping,
  type Decision,
  type StepVisit,
  type Ticket,
  type TicketComment,
} from '../planner/index.js';
import { noteHold } from './hold.js';
import { hostTrustComment, isHostTrustRefusal } from './host-trust.js';
import { holdTicket, requestApproval, routeManualStep } from './act-safety.js';
import * as report from './report.js';
import { runRedfish } from './act-redfish.js';
import type { RedfishExecutor } from '../executors/redfish/index.js';

export interface ActContext {
  jira: JiraPort;
  runner: CommandRunner;
  /** Runs ipmi steps; without one, an ipmi step fails with a comment saying so. */
  ipmi?: IpmiExecutor;
  /** Runs redfish steps; without one, a redfish step fails with a comment saying so. */
  redfish?: RedfishExecutor;
  now: () => Date;
  dryRun: boolean;
  logger: Logger;
  /** Human status for failures (the workflow's `failure`). */
  failureStatus: string;
  /** Values for transition screens' fields, by target status (the workflow's `transitions`). */
  transitionFields?: Record<string, { fields: Record<string, unknown> }>;
  /** The worker's read, for moves made before anything runs: no second read of the transitions. */
  freshRead?: Ticket;
}

/** Outcome names, also used as metric labels. */
export type ActOutcome =
  | 'transitioned'
  | 'failed'
  | 'escalated'
  | 'instructed'
  | 'pending'
  | 'refused'
  | 'dry-run'
  | 'duplicate'
  | 'contested'
  | 'held'
  | 'awaiting-approval';

/** Thrown for trouble worth a retry (host unreachable); the queue retries with backoff. */
export class RetryableStepError extends Error {
  override name = 'RetryableStepError';
}

export interface ActOptions {
  /** The queue will not retry this job again. */
  lastAttempt: boolean;
  /** The ticket's comments from the worker's fresh read, to find the bot's own earlier comments. */
  comments: TicketComment[];
  /** Dry runs: what the later statuses would run if every step succeeded (planRoute). */
  route?: Decision[];
  /** How a step's running mark is claimed when the job may have a twin; without it, the queue's
   * job ids are trusted to keep one copy of each job. */
  claim?: ClaimCheck;
  /** The ticket as the worker just read it (getTicket's own object). */
  read?: Ticket;
}

export interface ClaimCheck {
  /** When the worker asked Redis for the epoch, before it read the ticket (performance.now()): a
   * twin that started before a loss writes its mark within settleMs of this, or stands down. */
  epochNotedAt: number;
  /** Asked once the running mark is written: may another worker hold a copy of this job? */
  mayHaveTwin: () => Promise<boolean>;
  /** Fischer's bound: a mark must land within this long of `epochNotedAt`, and each claimant waits
   * this long before it reads the mark back. */
  settleMs: number;
}

export async function act(
  decision: ActionableDecision,
  ctx: ActContext,
  options: ActOptions,
): Promise<ActOutcome> {
  const { comments } = options;
  if (ctx.dryRun) return dryRun(decision, ctx, comments, options.route ?? []);
  // A gate opening or an escalation moves at once: the worker's read stands for the move's own.
  const atOnce = options.read ? { ...ctx, freshRead: options.read } : ctx;
  switch (decision.kind) {
    case 'transition':
      return moveTo(
        atOnce,
        decision.visit,
        decision.to,
        report.gateOpened(decision.visit, decision.to, decision.reason, ctx.now()),
        decision.approved ? { approved: decision.approved } : undefined,
      );
    case 'hold':
      return holdTicket(decision, ctx, comments);
    case 'requestApproval':
      return requestApproval(decision, ctx);
    case 'escalate':
      return escalate(atOnce, decision.visit, decision.to, 'escalation', decision);
    case 'postInstructions':
      return postInstructions(decision, ctx, options);
    case 'runStep':
      if (decision.redfish) return runRedfish(decision, ctx, options);
      return decision.ipmi ? runIpmi(decision, ctx, options) : runStep(decision, ctx, options);
    case 'checkStep':
      return checkStep(decision, ctx);
    case 'noteHold':
      return noteHold(decision, ctx, comments);
  }
}

/** The bookkeeping a transition writes for the status it enters: a new visit begins there. */
function enter(visit: StepVisit, status: string, now: Date): Bookkeeping {
  return { status, visit: visit.bookkeeping.visit + 1, enteredAt: now.toISOString() };
}

export async function moveTo(
  ctx: ActContext,
  visit: StepVisit,
  to: string,
  comment: ReturnType<typeof report.gateOpened>,
  record?: Partial<Bookkeeping>,
) {
  const fields = ctx.transitionFields?.[to]?.fields;
  const outcome = await ctx.jira.transitionTo(
    visit.key,
    { from: visit.status, to },
    {
      comment,
      bookkeeping: { ...enter(visit, to, ctx.now()), ...record },
      ...(fields ? { fields } : {}),
      ...(ctx.freshRead ? { freshRead: ctx.freshRead } : {}),
    },
  );
  if (outcome === 'refused') ctx.logger.info({ to }, 'transition refused: the ticket moved meanwhile');
  return outcome;
}

async function escalate(
  ctx: ActContext,
  visit: StepVisit,
  to: string,
  purpose: string,
  content: Parameters<typeof report.escalation>[2],
  step?: Parameters<typeof report.escalation>[4],
): Promise<ActOutcome> {
  const outcome = await moveTo(ctx, visit, to, report.escalation(visit, purpose, content, ctx.now(), step));
  return outcome === 'transitioned' ? 'escalated' : outcome;
}

async function postInstructions(
  decision: Extract<ActionableDecision, { kind: 'postInstructions' }>,
  ctx: ActContext,
  { comments, claim }: ActOptions,
): Promise<ActOutcome> {
  const { visit, step } = decision;
  const checkedAt = performance.now();
  if (claim && (await claim.mayHaveTwin())) {
    // A twin may be about to post the same instructions: settle which one posts, then look again.
    const settled = await settleClaim(ctx, visit, await markRunning(ctx, visit, step.name), claim);
    if (settled !== 'ours') return settled;
    comments = (await ctx.jira.getTicket(visit.key, { inputFields: {} }))?.comments ?? comments;
  }
  const alreadyPosted = hasComment(comments, report.commentRef(visit, decision.purpose ?? step.name));
  if (!alreadyPosted) {
    // With claims, a 429 is not waited out here: the job's retry decides again, so the comment lands
    // within one request of the check above, before a twin that settles looks for it.
    const body = report.instructions(decision, ctx.now());
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
  await ctx.jira.setBookkeeping(visit.key, { ...visit.bookkeeping, instructed: true });
  return alreadyPosted ? 'duplicate' : 'instructed';
}

async function runStep(
  decision: Extract<ActionableDecision, { kind: 'runStep' }>,
  ctx: ActContext,
  { lastAttempt, claim }: ActOptions,
): Promise<ActOutcome> {
  const { visit, step, target } = decision;
  // Recorded before anything runs: if this worker dies mid-step, the next plan knows the step began.
  const claimed = await claimStep(ctx, decision, claim);
  if (claimed !== 'ours') return claimed;
  const runs: report.CommandRun[] = [];
  try {
    if (decision.doneWhen) {
      const check = await ctx.runner.run(target, decision.doneWhen.command, {
        timeoutSeconds: decision.timeoutSeconds,
      });
      if (passes(check, 0, decision.doneWhen.output)) {
        const note = 'Its done_when check passed, so the step was already done and was not run again.';
        return await moveTo(
          ctx,
          visit,
          step.next,
          report.stepSucceeded(
            decision,
            [{ command: decision.doneWhen.command, result: check }],
            ctx.now(),
            note,
          ),
        );
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
  return moveTo(ctx, visit, step.next, report.stepSucceeded(decision, runs, ctx.now()));
}

async function runIpmi(
  decision: Extract<ActionableDecision, { kind: 'runStep' }>,
  ctx: ActContext,
  { lastAttempt, claim }: ActOptions,
): Promise<ActOutcome> {
  const { visit, step, ipmi } = decision;
  if (!ipmi) throw new Error('runIpmi called for a step without an ipmi action');
  const command = decision.commands[0] ?? ipmi.action;
  if (!ctx.ipmi) return fail(ctx, decision, [], 'This worker has no IPMI executor, so the step was not run.');
  // Recorded before anything runs, as for SSH steps: a power-cycle is never repeated on a guess.
  const claimed = await claimStep(ctx, decision, claim);
  if (claimed !== 'ours') return claimed;
  let result: Awaited<ReturnType<IpmiExecutor['run']>>;
  try {
    result = await ctx.ipmi.run(ipmi.bmc, ipmi.action, { timeoutSeconds: decision.timeoutSeconds });
  } catch (error) {
    if (error instanceof IpmiUnreachableError) {
      // Nothing reached the BMC: clear the at-most-once mark and let the queue retry first.
      await ctx.jira.setBookkeeping(visit.key, visit.bookkeeping);
      if (!lastAttempt) throw new RetryableStepError(error.message);
      return fail(ctx, decision, [], error.message);
    }
    if (error instanceof IpmiAuthError || error instanceof IpmiPasswordMissingError) {
      ctx.logger.warn({ host: ipmi.bmc.host, bmc: ipmi.bmc.address, err: error }, 'ipmi refused');
      return fail(ctx, decision, [], error.message);
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

/**
 * Writes the step's running mark before anything runs, and settles it when the job may have a twin
 * (Redis lost work in flight: see settleClaim).
 */
export async function claimStep(
  ctx: ActContext,
  decision: Extract<ActionableDecision, { kind: 'runStep' }>,
  claim: ClaimCheck | undefined,
): Promise<'ours' | 'duplicate' | 'contested'> {
  const mark = await markRunning(ctx, decision.visit, decision.step.name);
  if (!claim || !(await claim.mayHaveTwin())) return 'ours';
  return settleClaim(ctx, decision.visit, mark, claim);
}

async function markRunning(ctx: ActContext, visit: StepVisit, step: string) {
  const token = randomUUID();
  await ctx.jira.setBookkeeping(visit.key, {
    ...visit.bookkeeping,
    running: { step, since: ctx.now().toISOString(), claim: token },
  });
  return { token, markedAt: performance.now() };
}

/**
 * Jira has no compare-and-set, so twins are told apart the way Fischer's mutual exclusion settles a
 * shared variable: every claimant writes its mark within `settleMs` of noting the epoch (before it
 * read the ticket and saw no mark), waits `settleMs`, and reads the mark back; only the claimant whose token is still there goes on. One
 * slower than the bound cannot prove it is alone and stops: its mark stays, so a step is treated as
 * interrupted (never run twice on a guess).
 */
async function settleClaim(
  ctx: ActContext,
  visit: StepVisit,
  mark: { token: string; markedAt: number },
  claim: ClaimCheck,
): Promise<'ours' | 'duplicate' | 'contested'> {
  ctx.logger.info(
    { settleMs: claim.settleMs },
    'redis may have lost work in flight: settling the claim in Jira',
  );
  await sleep(claim.settleMs);
  const running = (await ctx.jira.getBookkeeping(visit.key))?.running;
  if (running?.claim !== mark.token) {
    ctx.logger.info({ claimedBy: running?.claim }, 'another worker claimed this step: not run');
    return 'duplicate';
  }
  const elapsedMs = mark.markedAt - claim.epochNotedAt;
  if (elapsedMs > claim.settleMs) {
    ctx.logger.warn(
      { elapsedMs, settleMs: claim.settleMs },
      'claim took longer than its bound, so another worker may run this step: not run here',
    );
    return 'contested';
  }
  return 'ours';
}

async function checkStep(
  decision: Extract<ActionableDecision, { kind: 'checkStep' }>,
  ctx: ActContext,
): Promise<ActOutcome> {
  const { visit, step } = decision;
  let result: CommandResult;
  try {
    result = await ctx.runner.run(decision.target, decision.command, {
      timeoutSeconds: decision.timeoutSeconds,
    });
  } catch (error) {
    if (error instanceof SshConnectError && !decision.final) {
      // A wait step is checked again next round; an unreachable host is not yet a failure.
      ctx.logger.warn({ err: error, host: decision.target.host }, 'check could not reach host');
      return 'pending';
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
    return moveTo(ctx, visit, step.next, report.stepSucceeded(decision, runs, ctx.now()));
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
  if (visit.isNew) {
    await ctx.jira.setBookkeeping(visit.key, { ...visit.bookkeeping, startedAt: decision.startedAt });
  }
  ctx.logger.info({ round: decision.round, deadline: decision.deadline }, 'step still running');
  return 'pending';
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

export async function fail(
  ctx: ActContext,
  decision: Extract<ActionableDecision, { kind: 'runStep' | 'checkStep' }>,
  runs: report.CommandRun[],
  reason: string,
): Promise<ActOutcome> {
  const comment = report.stepFailed(decision, runs, reason, ctx.failureStatus, ctx.now());
  const outcome = await moveTo(ctx, decision.visit, ctx.failureStatus, comment);
  return outcome === 'transitioned' ? 'failed' : outcome;
}

async function sshTrouble(
  error: unknown,
  ctx: ActContext,
  decision: Extract<ActionableDecision, { kind: 'runStep' | 'checkStep' }>,
  runs: report.CommandRun[],
  lastAttempt: boolean,
): Promise<ActOutcome> {
  const { visit, step, target } = decision;
  if (error instanceof HostKeyChangedError || error instanceof HostKeyUnknownError) {
    // The refused key may be the jump host's: name the host whose key it is, as known_hosts does.
    const keyed = target.jump && error.host === target.jump.host ? target.jump : target;
    const via = keyed === target ? '' : ` (the jump host to ${target.host})`;
    ctx.logger.warn({ host: keyed.host, fingerprint: error.fingerprint }, 'host key not trusted');
    const changed = error instanceof HostKeyChangedError;
    const name = error.knownHostsName;
    return escalate(
      ctx,
      visit,
      ctx.failureStatus,
      `hostkey-${step.name}`,
      {
        title: changed ? `Host key of ${keyed.host} changed` : `Host key of ${keyed.host} is not known`,
        reason: `${changed ? 'The host key offered by' : 'No host key is pinned for'} ${keyed.host}${via} (${error.keyType} ${error.fingerprint}). After an RMA the key often changes (board or disk swapped, reimaged), but the bot never accepts a key it cannot verify. Nothing was run.`,
        details: [
          paragraph(
            'Verify the key out of band, on the console or over IPMI SOL, and compare its fingerprint:',
          ),
          codeBlock('$ ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub'),
          paragraph('If it matches, pin the new key in the bot’s known_hosts file (replace the old line):'),
          codeBlock(
            `$ ssh-keygen -R '${name}' -f ${error.knownHostsFile}\n$ ssh-keyscan -p ${keyed.port} -t ed25519 ${keyed.address ?? keyed.host} | sed 's/^[^ ]*/${name}/' >> ${error.knownHostsFile}`,
          ),
        ],
        nextStep: `Once the key is pinned, move the ticket back to ${visit.status}.`,
      },
      step,
    );
  }
  if (isHostTrustRefusal(error)) {
    // A refused host certificate (expired, principal mismatch, unknown CA) or a @revoked key.
    ctx.logger.warn({ host: error.host, fingerprint: error.fingerprint, err: error }, 'host not trusted');
    const content = hostTrustComment(error, target, visit.status);
    return escalate(ctx, visit, ctx.failureStatus, `hostkey-${step.name}`, content, step);
  }
  if (error instanceof SshConnectError) {
    // Nothing ran: clear the at-most-once mark, then let the queue retry before asking a person.
    await ctx.jira.setBookkeeping(visit.key, visit.bookkeeping);
    if (!lastAttempt) throw new RetryableStepError(error.message);
    return fail(ctx, decision, runs, `The bot could not reach ${target.host}: ${error.message}`);
  }
  throw error;
}

function hasComment(comments: TicketComment[], ref: string): boolean {
  return comments.some((comment) => comment.text.includes(ref));
}

async function dryRun(
  decision: ActionableDecision,
  ctx: ActContext,
  comments: TicketComment[],
  route: Decision[],
): Promise<ActOutcome> {
  const lines = [`${decision.visit.status}:`, ...describe(decision).map((line) => `  ${line}`)];
  if (route.length > 0) lines.push('', 'then, if each step succeeds:');
  for (const later of route) {
    const status = 'visit' in later ? later.visit.status : '?';
    lines.push(
      `${status}:`,
      ...(isActionable(later) ? describe(later) : [`nothing: ${later.reason}`]).map((line) => `  ${line}`),
    );
  }
  ctx.logger.info({ plan: lines }, 'dry run: would act');
  if (!hasComment(comments, report.commentRef(decision.visit, `dry-run-${decision.kind}`))) {
    await ctx.jira.addComment(decision.visit.key, report.wouldRun(decision, lines, ctx.now()));
  }
  return 'dry-run';
}

/** One line per action, for dry runs and `runbot plan`. */
export function describe(decision: ActionableDecision): string[] {
  switch (decision.kind) {
    case 'runStep':
      if (decision.redfish)
        return [
          `${decision.redfish.action} ${decision.redfish.bmc.host} over Redfish (BMC https://${decision.redfish.bmc.address}:${decision.redfish.bmc.port}) for ${decision.step.name}`,
          ...decision.commands.map((command) => `  $ ${command}`),
          `  then move to ${decision.step.next}`,
        ];
      if (decision.ipmi)
        return [
          `${decision.ipmi.action} ${decision.ipmi.bmc.host} over IPMI (BMC ${decision.ipmi.bmc.address}:${decision.ipmi.bmc.port}) for ${decision.step.name}`,
          ...decision.commands.map((command) => `  $ ${command}`),
          `  then move to ${decision.step.next}`,
        ];
      return [
        `run ${decision.step.name} on ${decision.target.user}@${decision.target.host}:${decision.target.port}`,
        ...(decision.doneWhen ? [`  skip if: ${decision.doneWhen.command}`] : []),
        ...decision.commands.map((command) => `  $ ${command}`),
        `  then move to ${decision.step.next}`,
      ];
    case 'checkStep':
      return [
        `check ${decision.step.name} on ${decision.target.host} (round ${decision.round})`,
        `  $ ${decision.command}`,
        `  done when: ${decision.doneWhen}; then move to ${decision.step.next}`,
      ];
    case 'postInstructions':
      return [
        `post Action Required for ${decision.step.name} (run on ${decision.where})`,
        ...decision.blocks.flatMap((block) => block.commands.map((command) => `  $ ${command}`)),
      ];
    case 'transition':
      return [`move to ${decision.to}: ${decision.reason}`];
    case 'escalate':
      return [`move to ${decision.to}: ${decision.title} — ${decision.reason}`];
    case 'noteHold':
      return [`comment that ${decision.step.name} waits: ${decision.hold.reason}`];
    case 'hold':
      return [`wait for ${decision.holder}, which holds ${decision.input} ${decision.value} (one comment)`];
    case 'requestApproval':
      return [
        `ask for approval of ${decision.step.name} (move to ${decision.to}; a person moves it to ${decision.approved})`,
        ...decision.plan.map((line) => `  ${line}`),
      ];
  }
}
