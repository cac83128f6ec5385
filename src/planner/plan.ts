// The heart of runbot, a pure reconciler: given what Jira says about a ticket now, the one next action.
// No I/O, no clock of its own; everything it needs comes in as arguments. Over 300 lines on purpose:
// the gate, the inputs, the step kinds and the route are one reading of a ticket, top to bottom; the
// BMC steps (ipmi.ts, redfish.ts), approval, holds and routing have their own files.
import {
  inputFormatProblem,
  siteOf,
  renderCommand,
  renderText,
  templateVariables,
  unsafeValueReason,
  type Inventory,
  type LoadedRunbook,
  type Step,
  type Workflow,
  type SshTarget,
} from '../definitions/index.js';
import { planApprovalStatus, requireApproval } from './approval.js';
import { entered } from './bookkeeping.js';
import type { Decision, StepRef, StepVisit } from './decision.js';
import { planIpmi } from './ipmi.js';
import { planRedfish } from './redfish.js';
import { heldBack, type OpenBreakers } from './holds.js';
import { holdAtGate, type InputHolders } from './exclusive.js';
import { manualRouting } from './routing.js';
import type { Ticket } from './ticket.js';
import { nonAsciiNote } from './lookalikes.js';
import { guardTransitionFields } from './transition-fields.js';

export interface PlanInput {
  ticket: Ticket;
  workflow: Workflow;
  runbook: LoadedRunbook;
  inventory: Inventory;
  now: Date;
  /** Divides wait intervals and timeouts (demos and tests run hours-long steps in seconds). */
  timeScale?: number;
  /** Failure-rate breakers open now, by `site/step` (read from Redis at the edge); default none. */
  openBreakers?: OpenBreakers;
  /** Who holds each exclusive input value (exclusiveHolders over the workflow's tickets); without
   * it the gate does not check exclusivity (`runbot plan`, dry-run routes). */
  holders?: InputHolders;
  /** Jira's display names of fields by id, so comments say "Service Hosts", not customfield_10042. */
  fieldNames?: Record<string, string>;
}

/** Beyond the commands' own timeouts: connecting, the client-side deadline, and clock skew. */
const RUN_GRACE_SECONDS = 120;

export function planTicket(input: PlanInput): Decision {
  const decision = planUnguarded(input);
  const { ticket, workflow, runbook } = input;
  const binding = workflow.statuses[ticket.status];
  const stepRef: StepRef = {
    name: binding?.step ?? 'gate',
    runbook: runbook.runbook.name,
    runbookVersion: runbook.version,
    next: binding?.next ?? workflow.gate?.next ?? workflow.done,
  };
  return guardTransitionFields(decision, { transitions: ticket.transitions, workflow, stepRef });
}

function planUnguarded(input: PlanInput): Decision {
  const { ticket, workflow } = input;
  if (ticket.labels.includes(workflow.pause_label)) {
    return { kind: 'nothing', reason: `paused by label ${workflow.pause_label}` };
  }
  const visit = currentVisit(ticket, workflow.name, input.now);
  if (workflow.gate && ticket.status === workflow.gate.status) {
    // A bad ticket is told so at the gate, in one comment, before the restore starts.
    const resolved = resolveInputs(input, visit);
    if ('escalate' in resolved) return resolved.escalate;
    const opened = planGate(ticket, workflow.gate, visit, workflow);
    if (opened.kind !== 'transition' || !input.holders) return opened;
    return holdAtGate(ticket, workflow, input.holders, visit, opened);
  }
  const approval = planApprovalStatus(ticket, workflow, visit);
  if (approval) return approval;

  const binding = workflow.statuses[ticket.status];
  if (!binding) return { kind: 'nothing', reason: `status "${ticket.status}" runs no step` };
  const step = input.runbook.runbook.steps[binding.step];
  // Validation guarantees the step exists; a missing one means definitions changed under us.
  if (!step) return { kind: 'nothing', reason: `step "${binding.step}" is not in the runbook` };

  const resolved = resolveInputs(input, visit);
  if ('escalate' in resolved) return resolved.escalate;
  const stepRef: StepRef = {
    name: binding.step,
    runbook: input.runbook.runbook.name,
    runbookVersion: input.runbook.version,
    next: binding.next,
  };
  const decision = requireApproval(planStep({ ...input, visit, step, stepRef, ...resolved }), step, workflow);
  // Breakers, freezes and maintenance windows hold new starts back (src/planner/holds.ts).
  return heldBack(decision, visit, input.inventory, input.openBreakers ?? {}, input.now);
}

/** The visit the ticket is on: the recorded one if the status still matches, else a new one. */
function currentVisit(ticket: Ticket, workflow: string, now: Date): StepVisit {
  const recorded = ticket.bookkeeping;
  if (recorded && recorded.status === ticket.status) {
    return { key: ticket.key, workflow, status: ticket.status, bookkeeping: recorded, isNew: false };
  }
  return {
    key: ticket.key,
    workflow,
    status: ticket.status,
    bookkeeping: entered(recorded, ticket.status, now),
    isNew: true,
  };
}

function planGate(
  ticket: Ticket,
  gate: NonNullable<Workflow['gate']>,
  visit: StepVisit,
  workflow: Workflow,
): Decision {
  const linked = ticket.links.filter((link) => link.relation === gate.link);
  if (linked.length === 0) {
    return escalate(
      visit,
      workflow,
      'No linked RMA ticket',
      `The ticket has no "${gate.link}" link, so the bot cannot tell whether the repair is finished.`,
      `Link the RMA ticket ("${gate.link}") and move this ticket back to ${gate.status}.`,
    );
  }
  const pending = linked.filter((link) => link.statusCategory !== 'done');
  if (pending.length > 0) {
    return {
      kind: 'nothing',
      reason: `waiting for ${pending.map((link) => `${link.key} (${link.status})`).join(', ')}`,
    };
  }
  return {
    kind: 'transition',
    visit,
    to: gate.next,
    reason: `${linked.map((link) => link.key).join(', ')} done`,
  };
}

interface Resolved {
  variables: Record<string, string>;
  site: {
    name: string;
    ssh: Inventory['sites'][string]['ssh'];
    ipmi: Inventory['sites'][string]['ipmi'];
    redfish: Inventory['sites'][string]['redfish'];
  };
}

/** Ticket fields → checked input values and the site; a bad value escalates, it is never guessed. */
function resolveInputs(input: PlanInput, visit: StepVisit): Resolved | { escalate: Decision } {
  const { ticket, workflow, runbook, inventory } = input;
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(runbook.runbook.inputs)) {
    const fieldId = workflow.fields[name] ?? name;
    const shown = input.fieldNames?.[fieldId];
    // People know the field by its name in Jira; the id stays once, for whoever edits the workflow.
    const field = shown ?? fieldId;
    const fieldRef = shown ? `${shown} (${fieldId})` : fieldId;
    const raw = ticket.inputs[name]?.trim() ?? '';
    if (raw === '') {
      return {
        escalate: escalate(
          visit,
          workflow,
          `Field ${field} is empty`,
          `The runbook needs "${name}" from field ${fieldRef}, and the ticket has no value there.`,
          `Fill in ${field} and move the ticket back to ${ticket.status}.`,
        ),
      };
    }
    const unsafe = unsafeValueReason(raw);
    const badFormat = unsafe || !spec.format ? undefined : inputFormatProblem(spec.format, raw);
    /** The field's value is not one the input takes: `why` says how, in the ticket's words. */
    const invalid = (why: string) => ({
      escalate: escalate(
        visit,
        workflow,
        `Field ${field} is not a valid ${name}`,
        withNote(why, nonAsciiNote(raw)),
        `Correct ${field} and move the ticket back to ${ticket.status}.`,
      ),
    });
    if (badFormat) {
      return invalid(
        `The value ${JSON.stringify(raw.slice(0, 200))}${raw.length > 200 ? '…' : ''} of field ${fieldRef} ${badFormat} (format: ${spec.format}) for input "${name}". Nothing was run.`,
      );
    }
    const pattern = runbook.inputPatterns.get(name);
    if (unsafe || (pattern !== undefined && !pattern.test(raw))) {
      return invalid(
        `The value ${JSON.stringify(raw.slice(0, 200))} of field ${fieldRef} ${unsafe ?? `does not match the pattern ${spec.pattern ?? ''}`} of input "${name}".`,
      );
    }
    values[name] = raw;
  }
  const host = values.host;
  const match = host === undefined ? undefined : siteOf(inventory, host);
  if (host === undefined || !match) {
    return {
      escalate: escalate(
        visit,
        workflow,
        'Host not in the inventory',
        withNote(
          `No single site of the inventory matches the host ${JSON.stringify((host ?? '').slice(0, 200))}, so the bot does not know where to run anything.`,
          nonAsciiNote(host ?? ''),
        ),
        `Check the host name in the ticket, or add its site to the inventory, then move the ticket back to ${ticket.status}.`,
      ),
    };
  }
  const variables = templateVariables(values, { name: match.name, manager: match.site.manager }, ticket.key);
  return {
    variables,
    site: { name: match.name, ssh: match.site.ssh, ipmi: match.site.ipmi, redfish: match.site.redfish },
  };
}

export interface StepPlan extends PlanInput, Resolved {
  visit: StepVisit;
  step: Step;
  stepRef: StepRef;
}

function planStep(plan: StepPlan): Decision {
  const { step, stepRef, visit, variables } = plan;
  const target = sshTarget(renderText(step.target, variables), plan.site.ssh);
  const scale = plan.timeScale ?? 1;
  switch (step.kind) {
    case 'ssh': {
      const commands = step.commands.length + (step.done_when ? 1 : 0);
      const running = runningState(plan, target.host, commands * step.timeout, step.done_when !== undefined);
      if ('decision' in running) return running.decision;
      return {
        kind: 'runStep',
        transport: 'ssh',
        visit,
        step: stepRef,
        site: plan.site.name,
        target,
        resumed: running.resumed,
        commands: step.commands.map((command) => renderCommand(command, variables)),
        timeoutSeconds: step.timeout,
        expect: {
          exit: step.expect?.exit ?? 0,
          ...(step.expect?.output ? { output: step.expect.output } : {}),
        },
        ...(step.done_when
          ? {
              doneWhen: {
                command: renderCommand(step.done_when.command, variables),
                ...(step.done_when.output ? { output: step.done_when.output } : {}),
              },
            }
          : {}),
      };
    }
    case 'wait': {
      const startedAt = visit.bookkeeping.startedAt ?? visit.bookkeeping.enteredAt;
      const started = Date.parse(startedAt);
      const deadline = new Date(started + (step.timeout * 1000) / scale);
      // Past the deadline one last check decides: time spent queued must not fail a finished step.
      const final = plan.now.getTime() > deadline.getTime();
      const intervalMs = (step.interval * 1000) / scale;
      const round = Math.floor((plan.now.getTime() - started) / intervalMs);
      return {
        kind: 'checkStep',
        visit,
        step: stepRef,
        site: plan.site.name,
        target,
        command: renderCommand(step.check, variables),
        timeoutSeconds: step.check_timeout,
        doneWhen: step.done_when.output,
        ...(step.fail_when ? { failWhen: step.fail_when.output } : {}),
        round,
        nextRoundAt: new Date(started + (round + 1) * intervalMs).toISOString(),
        final,
        startedAt,
        deadline: deadline.toISOString(),
      };
    }
    case 'ipmi':
      return planIpmi(plan, step);
    case 'redfish':
      return planRedfish(plan, step);
    case 'manual': {
      if (visit.bookkeeping.instructed)
        return { kind: 'nothing', reason: 'waiting for a person (instructions posted)' };
      return {
        kind: 'postInstructions',
        visit,
        step: stepRef,
        site: plan.site.name,
        where: target.host,
        title: renderText(step.title, variables),
        blocks: step.instructions.map((block) => ({
          text: renderText(block.text, variables),
          commands: (block.commands ?? []).map((command) => renderCommand(command, variables)),
        })),
        ...manualRouting(step, plan.ticket, visit),
      };
    }
  }
}

/**
 * A step begun in this visit is still running until every command could have timed out; after
 * that the worker that ran it is gone, and only a step that can tell it is done (done_when, or an
 * action that is safe to repeat) is run again.
 */
export function runningState(
  plan: StepPlan,
  host: string,
  budgetSeconds: number,
  safeToRepeat: boolean,
): { resumed: boolean } | { decision: Decision } {
  const { visit, stepRef } = plan;
  const running = visit.bookkeeping.running?.step === stepRef.name ? visit.bookkeeping.running : undefined;
  if (!running) return { resumed: false };
  const busyUntil = Date.parse(running.since) + (budgetSeconds + RUN_GRACE_SECONDS) * 1000;
  if (plan.now.getTime() < busyUntil) {
    const until = new Date(busyUntil).toISOString();
    const mark = { step: stepRef.name, status: visit.status, visit: visit.bookkeeping.visit, until };
    return {
      decision: { kind: 'nothing', reason: `${stepRef.name} running since ${running.since}`, running: mark },
    };
  }
  if (safeToRepeat) return { resumed: true };
  return {
    decision: escalate(
      visit,
      plan.workflow,
      `Step ${stepRef.name} was interrupted`,
      `The bot started ${stepRef.name} on ${host} at ${running.since} but never saw it finish (its worker stopped), and the step has no done_when check to tell whether it completed. It is not run a second time on a guess.`,
      `Check ${host}, finish the step by hand if needed, then move the ticket to ${stepRef.next} (or back to ${visit.status} to run it again).`,
    ),
  };
}

function sshTarget(host: string, ssh: Resolved['site']['ssh']): SshTarget {
  const jump = ssh.jump
    ? {
        host: ssh.jump.host,
        port: ssh.jump.port,
        user: ssh.jump.user ?? ssh.user,
        ...(ssh.jump.address ? { address: ssh.jump.address } : {}),
      }
    : undefined;
  return {
    host,
    port: ssh.port,
    user: ssh.user,
    ...(ssh.address ? { address: ssh.address } : {}),
    ...(jump ? { jump } : {}),
    ...(ssh.transport === 'openssh' ? { transport: 'openssh' as const } : {}),
  };
}

export function escalate(
  visit: StepVisit,
  workflow: Workflow,
  title: string,
  reason: string,
  nextStep: string,
): Decision {
  return { kind: 'escalate', visit, to: workflow.failure, title, reason, nextStep };
}

function withNote(text: string, note: string | undefined): string {
  return note ? `${text} ${note}` : text;
}

/**
 * What the bot would do in each later status if every step succeeded: the decision for a fresh
 * visit of each status along `next`, until the done status (dry runs show the whole route).
 */
export function planRoute(input: PlanInput): Decision[] {
  const { ticket, workflow } = input;
  const nextOf = (status: string) =>
    workflow.gate && status === workflow.gate.status ? workflow.gate.next : workflow.statuses[status]?.next;
  const route: Decision[] = [];
  const seen = new Set([ticket.status]);
  for (
    let status = nextOf(ticket.status);
    status !== undefined && !seen.has(status);
    status = nextOf(status)
  ) {
    if (status === workflow.done || !(status in workflow.statuses)) break;
    seen.add(status);
    // The ticket's transitions are those of its current status: a later status's are not known.
    const later = { ...ticket, status, bookkeeping: undefined, transitions: undefined };
    route.push(planTicket({ ...input, ticket: later }));
  }
  return route;
}
