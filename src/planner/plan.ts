// The heart of runbot, a pure reconciler: given what Jira says about a ticket now, the one next action.
// No I/O, no clock of its own; everything it needs comes in as arguments.
import {
  siteOf,
  renderCommand,
  renderText,
  templateVariables,
  type Inventory,
  type LoadedRunbook,
  type Step,
  type Workflow,
} from '../definitions/index.js';
import type { SshTarget } from '../executors/types.js';
import type { Decision, StepRef, StepVisit } from './decision.js';
import type { Ticket } from './ticket.js';

export interface PlanInput {
  ticket: Ticket;
  workflow: Workflow;
  runbook: LoadedRunbook;
  inventory: Inventory;
  now: Date;
  /** Divides wait intervals and timeouts (demos and tests run hours-long steps in seconds). */
  timeScale?: number;
}

/** Beyond the commands' own timeouts: connecting, the client-side deadline, and clock skew. */
const RUN_GRACE_SECONDS = 120;

export function planTicket(input: PlanInput): Decision {
  const { ticket, workflow } = input;
  if (ticket.labels.includes(workflow.pause_label)) {
    return { kind: 'nothing', reason: `paused by label ${workflow.pause_label}` };
  }
  const visit = currentVisit(ticket, workflow.name, input.now);
  if (workflow.gate && ticket.status === workflow.gate.status)
    return planGate(ticket, workflow.gate, visit, workflow);

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
  return planStep({ ...input, visit, step, stepRef, ...resolved });
}

/** The visit the ticket is on: the recorded one if the status still matches, else a new one. */
export function currentVisit(ticket: Ticket, workflow: string, now: Date): StepVisit {
  const recorded = ticket.bookkeeping;
  if (recorded && recorded.status === ticket.status) {
    return { key: ticket.key, workflow, status: ticket.status, bookkeeping: recorded, isNew: false };
  }
  return {
    key: ticket.key,
    workflow,
    status: ticket.status,
    bookkeeping: { status: ticket.status, visit: (recorded?.visit ?? 0) + 1, enteredAt: now.toISOString() },
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
  site: { name: string; ssh: Inventory['sites'][string]['ssh'] };
}

/** Ticket fields → checked input values and the site; a bad value escalates, it is never guessed. */
function resolveInputs(input: PlanInput, visit: StepVisit): Resolved | { escalate: Decision } {
  const { ticket, workflow, runbook, inventory } = input;
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(runbook.runbook.inputs)) {
    const field = workflow.fields[name] ?? name;
    const raw = ticket.inputs[name]?.trim() ?? '';
    if (raw === '') {
      return {
        escalate: escalate(
          visit,
          workflow,
          `Field ${field} is empty`,
          `The runbook needs "${name}" from field ${field}, and the ticket has no value there.`,
          `Fill in ${field} and move the ticket back to ${ticket.status}.`,
        ),
      };
    }
    if (!new RegExp(spec.pattern).test(raw)) {
      return {
        escalate: escalate(
          visit,
          workflow,
          `Field ${field} is not a valid ${name}`,
          `The value ${JSON.stringify(raw.slice(0, 200))} does not match the pattern ${spec.pattern} of input "${name}".`,
          `Correct ${field} and move the ticket back to ${ticket.status}.`,
        ),
      };
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
        `No single site of the inventory matches the host ${JSON.stringify(host ?? '')}, so the bot does not know where to run anything.`,
        `Check the host name in the ticket, or add its site to the inventory, then move the ticket back to ${ticket.status}.`,
      ),
    };
  }
  const variables = templateVariables(values, { name: match.name, manager: match.site.manager }, ticket.key);
  return { variables, site: { name: match.name, ssh: match.site.ssh } };
}

interface StepPlan extends PlanInput, Resolved {
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
      const running =
        visit.bookkeeping.running?.step === stepRef.name ? visit.bookkeeping.running : undefined;
      if (running) {
        // Begun in this visit: still running until every command could have timed out; after that
        // the worker that ran it is gone. Only a done_when check may then tell whether to run again.
        const commands = step.commands.length + (step.done_when ? 1 : 0);
        const busyUntil = Date.parse(running.since) + (commands * step.timeout + RUN_GRACE_SECONDS) * 1000;
        if (plan.now.getTime() < busyUntil) {
          return { kind: 'nothing', reason: `${stepRef.name} running since ${running.since}` };
        }
        if (!step.done_when) {
          return escalate(
            visit,
            plan.workflow,
            `Step ${stepRef.name} was interrupted`,
            `The bot started ${stepRef.name} on ${target.host} at ${running.since} but never saw it finish (its worker stopped), and the step has no done_when check to tell whether it completed. It is not run a second time on a guess.`,
            `Check ${target.host}, finish the step by hand if needed, then move the ticket to ${stepRef.next} (or back to ${visit.status} to run it again).`,
          );
        }
      }
      return {
        kind: 'runStep',
        visit,
        step: stepRef,
        target,
        resumed: running !== undefined,
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
      if (plan.now.getTime() > deadline.getTime()) {
        return escalate(
          visit,
          plan.workflow,
          `Step ${stepRef.name} timed out`,
          `${stepRef.name} on ${target.host} did not finish within ${formatSeconds(step.timeout)} (started ${startedAt}).`,
          `Check ${target.host}; move the ticket to ${visit.status} to wait again, or to ${stepRef.next} if it is done.`,
        );
      }
      const intervalMs = (step.interval * 1000) / scale;
      return {
        kind: 'checkStep',
        visit,
        step: stepRef,
        target,
        command: renderCommand(step.check, variables),
        timeoutSeconds: step.check_timeout,
        doneWhen: step.done_when.output,
        ...(step.fail_when ? { failWhen: step.fail_when.output } : {}),
        round: Math.floor((plan.now.getTime() - started) / intervalMs),
        startedAt,
        deadline: deadline.toISOString(),
      };
    }
    case 'manual': {
      if (visit.bookkeeping.instructed)
        return { kind: 'nothing', reason: 'waiting for a person (instructions posted)' };
      return {
        kind: 'postInstructions',
        visit,
        step: stepRef,
        where: target.host,
        title: renderText(step.title, variables),
        blocks: step.instructions.map((block) => ({
          text: renderText(block.text, variables),
          commands: (block.commands ?? []).map((command) => renderCommand(command, variables)),
        })),
      };
    }
  }
}

function sshTarget(host: string, ssh: Resolved['site']['ssh']): SshTarget {
  return { host, port: ssh.port, user: ssh.user, ...(ssh.address ? { address: ssh.address } : {}) };
}

function escalate(
  visit: StepVisit,
  workflow: Workflow,
  title: string,
  reason: string,
  nextStep: string,
): Decision {
  return { kind: 'escalate', visit, to: workflow.failure, title, reason, nextStep };
}

export function formatSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
