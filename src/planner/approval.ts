// Approval before destructive steps: a step marked `approve: true` runs only a plan a person has
// approved. The status is the step here too: the bot posts the exact plan and moves the ticket to
// the workflow's approval status; a person's move to the `approved` status is the "go"; the bot then
// moves it back to the step's status, recording the plan's hash. A plan that differs from the one
// approved (the runbook or the inventory changed meanwhile) is put up for approval again.
import { createHash } from 'node:crypto';
import type { Step, Workflow } from '../definitions/index.js';
import type { Decision, RunStep, StepVisit } from './decision.js';
import type { Ticket } from './ticket.js';

/** What a step would do, line by line: the target and the exact commands (shown to the approver). */
function planLines(decision: RunStep): string[] {
  const { target } = decision;
  if (decision.transport === 'ipmi') {
    const { bmc, action } = decision.ipmi;
    return [
      `${action} ${bmc.host} through its BMC ${bmc.address}:${bmc.port}`,
      ...decision.commands.map((c) => `$ ${c}`),
    ];
  }
  const via = target.jump ? ` via ${target.jump.user}@${target.jump.host}:${target.jump.port}` : '';
  return [
    `on ${target.user}@${target.host}:${target.port}${via}`,
    ...(decision.transport === 'ssh' && decision.doneWhen
      ? [`skip if this passes: $ ${decision.doneWhen.command}`]
      : []),
    ...decision.commands.map((command) => `$ ${command}`),
  ];
}

/** sha256 of the step name and its plan lines: equal plans, equal hashes. */
export function planHash(decision: RunStep): string {
  return createHash('sha256')
    .update(JSON.stringify([decision.step.name, ...planLines(decision)]))
    .digest('hex');
}

/** In the approval statuses: wait for the person, or take the approved plan back to its step. */
export function planApprovalStatus(
  ticket: Ticket,
  workflow: Workflow,
  visit: StepVisit,
): Decision | undefined {
  const approval = workflow.approval;
  if (!approval) return undefined;
  const recorded = ticket.bookkeeping;
  const awaiting = recorded?.status === approval.status ? recorded.awaiting : undefined;
  if (ticket.status === approval.status) {
    return {
      kind: 'nothing',
      reason: awaiting
        ? `waiting for a person to approve ${awaiting.step} (move to ${approval.approved})`
        : `in ${approval.status}, but no plan of the bot waits there`,
    };
  }
  if (ticket.status !== approval.approved) return undefined;
  if (!awaiting) {
    return {
      kind: 'escalate',
      visit,
      to: workflow.failure,
      title: `${approval.approved}, but no plan waits for approval`,
      reason: `The ticket was moved to ${approval.approved}, but the bot did not put a plan up for approval in this ticket's last visit of ${approval.status}, so there is nothing to approve. Nothing was run.`,
      nextStep: `Move the ticket to the status of the step to run; the bot posts its plan for approval there.`,
    };
  }
  return {
    kind: 'transition',
    visit,
    to: awaiting.status,
    reason: `plan of ${awaiting.step} approved (sha256 ${awaiting.hash.slice(0, 12)})`,
    approved: { step: awaiting.step, hash: awaiting.hash },
  };
}

/** A step marked approve runs only the plan approved in this visit; any other plan asks first. */
export function requireApproval(decision: Decision, step: Step, workflow: Workflow): Decision {
  if (decision.kind !== 'runStep' || !('approve' in step) || step.approve !== true) return decision;
  const hash = planHash(decision);
  const approved = decision.visit.bookkeeping.approved;
  if (approved?.step === decision.step.name && approved.hash === hash) return decision;
  // Validation refuses a workflow whose runbook has approve steps but that names no approval
  // statuses; should one get through, the step goes to a person rather than run unapproved.
  if (!workflow.approval) {
    return {
      kind: 'escalate',
      visit: decision.visit,
      to: workflow.failure,
      title: `Step ${decision.step.name} needs approval`,
      reason: `Step ${decision.step.name} is marked approve: true, but workflow ${workflow.name} names no approval statuses. Nothing was run.`,
      nextStep: `Add approval: { status, approved } to the workflow, or run the step by hand and move the ticket to ${decision.step.next}.`,
    };
  }
  return {
    kind: 'requestApproval',
    visit: decision.visit,
    step: decision.step,
    ...(decision.site ? { site: decision.site } : {}),
    to: workflow.approval.status,
    approved: workflow.approval.approved,
    plan: planLines(decision),
    hash,
  };
}
