// One open ticket per exclusive input value (e.g. one restore per host), decided from what Jira's
// search shows, so every poller and worker that reads the same tickets picks the same holder:
// a ticket past the gate (in a step status) before one at the gate, then the lowest key (the oldest
// ticket). Pure: the caller passes the batch in, the planner gets the holders as data.
import type { Workflow } from '../definitions/index.js';
import type { Decision, StepVisit } from './decision.js';
import type { Ticket } from './ticket.js';

/** Holder ticket key by exclusive input and value (see holderSlot). */
export type InputHolders = ReadonlyMap<string, string>;

/** The inputs the workflow holds exclusively (`exclusive.inputs`). */
export function exclusiveInputs(workflow: Workflow): string[] {
  return workflow.exclusive?.inputs ?? [];
}

/** The slot a ticket's value takes; undefined for an empty value (that ticket is refused anyway). */
export function holderSlot(input: string, raw: string | undefined): string | undefined {
  const value = raw?.trim().toLowerCase() ?? '';
  return value === '' ? undefined : `${input}\u0000${value}`;
}

/** Jira keys in creation order: by project, then by number (HOT-9 before HOT-10). */
export function compareKeys(a: string, b: string): number {
  const [projectA = '', numberA = ''] = a.split('-');
  const [projectB = '', numberB = ''] = b.split('-');
  if (projectA !== projectB) return projectA < projectB ? -1 : 1;
  return Number(numberA) - Number(numberB);
}

/**
 * Who holds each exclusive value among these tickets (one workflow's search, or the worker's fresh
 * reads): only tickets at the gate or in a step status take part; a ticket in the failure or done
 * status, or anywhere else, holds nothing. Tickets at the gate keep their place in line whether or
 * not their RMA is done, so two readers that see the same statuses never both let a ticket start.
 */
/** What holding an exclusive value depends on: the ticket's key, status and input values. */
export type HolderClaim = Pick<Ticket, 'key' | 'status' | 'inputs'>;

export function exclusiveHolders(tickets: readonly HolderClaim[], workflow: Workflow): InputHolders {
  const inputs = exclusiveInputs(workflow);
  const rank = (ticket: HolderClaim) =>
    ticket.status in workflow.statuses ? 0 : workflow.gate?.status === ticket.status ? 1 : undefined;
  const best = new Map<string, { key: string; rank: number }>();
  for (const ticket of tickets) {
    const ticketRank = rank(ticket);
    if (ticketRank === undefined) continue;
    for (const input of inputs) {
      const slot = holderSlot(input, ticket.inputs[input]);
      if (slot === undefined) continue;
      const held = best.get(slot);
      const wins =
        !held ||
        ticketRank < held.rank ||
        (ticketRank === held.rank && compareKeys(ticket.key, held.key) < 0);
      if (wins) best.set(slot, { key: ticket.key, rank: ticketRank });
    }
  }
  return new Map([...best].map(([slot, { key }]) => [slot, key]));
}

/**
 * The gate would let the ticket start: does another ticket hold one of its exclusive values? Then
 * it waits (one comment naming the holder) or, with `on_conflict: fail`, goes to the failure status.
 */
export function holdAtGate(
  ticket: Ticket,
  workflow: Workflow,
  holders: InputHolders,
  visit: StepVisit,
  start: Extract<Decision, { kind: 'transition' }>,
): Decision {
  for (const input of exclusiveInputs(workflow)) {
    const holder = holders.get(holderSlot(input, ticket.inputs[input]) ?? '');
    if (holder === undefined || holder === ticket.key) continue;
    const value = ticket.inputs[input]?.trim() ?? '';
    if (workflow.exclusive?.on_conflict === 'fail') {
      return {
        kind: 'escalate',
        visit,
        to: workflow.failure,
        title: `${value} is being worked on by ${holder}`,
        reason: `Ticket ${holder} is open for the same ${input} (${value}), and only one ticket at a time may work on it (exclusive: on_conflict: fail). Nothing was run.`,
        nextStep: `Close this ticket if it duplicates ${holder}; or, once ${holder} is Done, move this ticket back to ${ticket.status}.`,
      };
    }
    if (visit.bookkeeping.heldBy === holder) {
      return { kind: 'nothing', reason: `waiting for ${holder}, which holds ${input} ${value}` };
    }
    return { kind: 'hold', visit, holder, input, value, next: start.to };
  }
  return start;
}
