// The comments the bot leaves on a ticket, in ADF. Each names the runbook version that produced it,
// the visit, and a UTC time, and carries a reference line by which the bot finds its own comment
// again (so a retried job edits nothing and posts nothing twice).
import type { CommandResult } from '../executors/types.js';
import {
  codeBlock,
  doc,
  heading,
  panel,
  paragraph,
  strong,
  code,
  mention,
  type AdfBlock,
  type AdfDocument,
} from '../jira/adf.js';
import type { ActionableDecision, StepRef, StepVisit } from '../planner/index.js';
import { commentRef as refOfComment } from '../jira/comment-ref.js';

const OUTPUT_TAIL = 3000;

export interface CommandRun {
  command: string;
  result: CommandResult;
}

/** The marker of the bot's comment for one visit and purpose; found again in the comment's text. */
export function commentRef(visit: StepVisit, purpose: string): string {
  return refOfComment(visit.key, visit.bookkeeping.visit, purpose);
}

function footer(visit: StepVisit, purpose: string, now: Date, step?: StepRef): AdfBlock {
  const runbook = step ? ` · runbook ${step.runbook}@${step.runbookVersion}` : '';
  return paragraph(
    `runbot · workflow ${visit.workflow}${runbook} · ${visit.key} visit ${visit.bookkeeping.visit} · ${utc(now)} · ${commentRef(visit, purpose)}`,
  );
}

function utc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function runBlocks(runs: CommandRun[], where: string): AdfBlock[] {
  return runs.flatMap(({ command, result }) => {
    const status = result.timedOut ? 'timed out' : `exit ${result.exitCode ?? '?'}`;
    const blocks: AdfBlock[] = [
      paragraph(
        strong(`${where}$ `),
        code(command),
        ` — ${status} in ${(result.durationMs / 1000).toFixed(1)} s`,
      ),
    ];
    const output = tail(result.stdout + (result.stderr ? `\n[stderr]\n${result.stderr}` : ''));
    if (output.trim() !== '') blocks.push(codeBlock(output, 'text'));
    return blocks;
  });
}

function tail(output: string): string {
  const trimmed = output.trimEnd();
  return trimmed.length <= OUTPUT_TAIL ? trimmed : `…\n${trimmed.slice(-OUTPUT_TAIL)}`;
}

export function stepSucceeded(
  decision: Extract<ActionableDecision, { kind: 'runStep' | 'checkStep' }>,
  runs: CommandRun[],
  now: Date,
  note?: string,
): AdfDocument {
  return doc([
    heading(`✅ ${decision.step.name} done on ${decision.target.host}`),
    ...(note ? [paragraph(note)] : []),
    ...runBlocks(runs, decision.target.host),
    paragraph(`Moving to ${decision.step.next}.`),
    footer(decision.visit, decision.step.name, now, decision.step),
  ]);
}

export function stepFailed(
  decision: Extract<ActionableDecision, { kind: 'runStep' | 'checkStep' }>,
  runs: CommandRun[],
  reason: string,
  failureStatus: string,
  now: Date,
): AdfDocument {
  return doc([
    heading(`❌ ${decision.step.name} failed on ${decision.target.host}`),
    panel('error', [paragraph(reason)]),
    ...runBlocks(runs, decision.target.host),
    paragraph(
      strong('What next: '),
      `the ticket is in ${failureStatus}. Fix the cause, then move it back to ${decision.visit.status} to run the step again, or to ${decision.step.next} if you completed the step by hand.`,
    ),
    footer(decision.visit, decision.step.name, now, decision.step),
  ]);
}

export function instructions(
  decision: Extract<ActionableDecision, { kind: 'postInstructions' }>,
  now: Date,
): AdfDocument {
  const routing: AdfBlock[] = [];
  if (decision.assignee !== undefined)
    routing.push(paragraph('Assigned to ', mention(decision.assignee), '.'));
  if (decision.unassigned !== undefined) routing.push(paragraph(`Not assigned: ${decision.unassigned}.`));
  if (decision.dueDate !== undefined) routing.push(paragraph(`Due ${decision.dueDate} (UTC).`));
  return doc([
    heading('Action Required', 2),
    paragraph(strong(decision.title)),
    ...routing,
    ...decision.blocks.flatMap((block) => [
      paragraph(block.text),
      ...(block.commands.length > 0
        ? [codeBlock(block.commands.map((command) => `$ ${command}`).join('\n'))]
        : []),
    ]),
    footer(decision.visit, decision.purpose ?? decision.step.name, now, decision.step),
  ]);
}

export function escalation(
  visit: StepVisit,
  purpose: string,
  content: { title: string; reason: string; nextStep: string; details?: AdfBlock[] },
  now: Date,
  step?: StepRef,
): AdfDocument {
  return doc([
    heading(`Action Required: ${content.title}`, 2),
    panel('warning', [paragraph(content.reason)]),
    ...(content.details ?? []),
    paragraph(strong('What next: '), content.nextStep),
    footer(visit, purpose, now, step),
  ]);
}

export function gateOpened(visit: StepVisit, to: string, reason: string, now: Date): AdfDocument {
  return doc([paragraph(`▶ ${reason}: moving to ${to}.`), footer(visit, 'gate', now)]);
}

export function wouldRun(decision: ActionableDecision, lines: string[], now: Date): AdfDocument {
  return doc([
    heading('Dry run: the bot would do this', 3),
    codeBlock(lines.join('\n'), 'text'),
    footer(decision.visit, `dry-run-${decision.kind}`, now),
  ]);
}

/** Another open ticket holds an exclusive value of this one (e.g. the host): it waits at the gate. */
export function waitingForHolder(
  decision: Extract<ActionableDecision, { kind: 'hold' }>,
  now: Date,
): AdfDocument {
  const { holder, input, value, visit, next } = decision;
  return doc([
    heading(`⏸ Waiting for ${holder}`, 3),
    paragraph(
      `${holder} is open for the same ${input}, `,
      code(value),
      `, and only one ticket at a time works on it. This ticket stays in ${visit.status} and moves on to ${next} by itself once ${holder} is done (or leaves the workflow). Nothing was run.`,
    ),
    paragraph(strong('What next: '), `nothing, unless this ticket duplicates ${holder}: then close it.`),
    footer(visit, `held-${holder}`, now),
  ]);
}

/** A step marked approve: its exact plan, and how a person approves it. */
export function approvalRequested(
  decision: Extract<ActionableDecision, { kind: 'requestApproval' }>,
  failureStatus: string,
  now: Date,
): AdfDocument {
  const { step, visit } = decision;
  return doc([
    heading(`Approval required: ${step.name}`, 2),
    panel('warning', [
      paragraph(
        `Step ${step.name} is marked approve: true. The bot runs exactly this once a person approves it:`,
      ),
    ]),
    codeBlock(decision.plan.join('\n'), 'text'),
    paragraph(
      `Plan sha256 ${decision.hash}. If the plan changes before it runs (the runbook or the inventory changed), the bot asks again.`,
    ),
    paragraph(
      strong('What next: '),
      `check the plan, then move this ticket to ${decision.approved} to run it, or to ${failureStatus} to refuse. On success it moves on to ${step.next}.`,
    ),
    footer(visit, `approval-${step.name}`, now, step),
  ]);
}

/** A step held back by an open failure-rate breaker: why, which tickets failed, how to reset it. */
export function heldByBreaker(
  decision: Extract<ActionableDecision, { kind: 'noteHold' }>,
  now: Date,
): AdfDocument {
  const { hold, step, visit, tickets } = decision;
  const failed = tickets.length > 0 ? ` (${tickets.join(', ')})` : '';
  return doc([
    heading(`⏸ ${step.name} waits: ${hold.reason.split(':')[0] ?? hold.reason}`, 3),
    panel('warning', [
      paragraph(
        `${hold.reason}${failed}, so the bot starts no new ${step.name} in site ${hold.site} until a person has looked. Steps already running finish. This ticket stays in ${visit.status}, is not failed, and goes on by itself once the breaker is reset.`,
      ),
    ]),
    paragraph(strong('What next: '), 'find the cause in the failed tickets, then reset the breaker:'),
    codeBlock(`$ runbot resume --breaker ${hold.site}/${hold.step}`),
    footer(visit, `hold-${step.name}`, now, step),
  ]);
}
