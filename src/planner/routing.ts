// Manual steps routed: who the ticket is assigned to when its Action Required comment is posted
// (an account id from the runbook, or the first user of a ticket field such as JSM's request
// participants) and its due date, counted from when the ticket entered the status so every retry
// and every poller computes the same date.
import type { ManualStep } from '../definitions/index.js';
import type { StepVisit } from './decision.js';
import type { Ticket } from './ticket.js';

export interface ManualRouting {
  assignee?: string;
  unassigned?: string;
  dueDate?: string;
}

export function manualRouting(step: ManualStep, ticket: Ticket, visit: StepVisit): ManualRouting {
  const routing: ManualRouting = {};
  if (step.assign && 'account_id' in step.assign) routing.assignee = step.assign.account_id;
  else if (step.assign) {
    const first = ticket.people?.[step.assign.field]?.[0];
    if (first !== undefined) routing.assignee = first;
    else routing.unassigned = `field ${step.assign.field} names nobody, so the ticket was not assigned`;
  }
  if (step.due_in !== undefined) {
    const due = Date.parse(visit.bookkeeping.enteredAt) + step.due_in * 1000;
    routing.dueDate = new Date(due).toISOString().slice(0, 10);
  }
  return routing;
}
