// Who holds each exclusive input value (one restore per host), read from Jira at the two places
// that decide: the poller, from its whole search of the workflow, and the worker, fresh, before a
// ticket leaves the gate. The worker searches only for tickets whose field holds the ticket's value
// (Jira text search, `cf[N] ~ "\"value\""`: a superset, matched exactly here), not the whole
// workflow once per ticket. Its search may lag, so each same-valued ticket it finds is read again
// (GET is consistent): two workers reading the same two tickets pick the same holder.
import type { Workflow } from '../definitions/index.js';
import type { JiraPort } from '../jira/port.js';
import {
  exclusiveHolders,
  exclusiveInputs,
  holderSlot,
  type HolderClaim,
  type InputHolders,
  type Ticket,
} from '../planner/index.js';
import { workflowJql, type WorkflowContext } from './context.js';

/** The holders among one search's tickets; undefined when the runbook has no exclusive input. */
export function batchHolders(
  context: WorkflowContext,
  tickets: readonly HolderClaim[],
): InputHolders | undefined {
  if (exclusiveInputs(context.workflow).length === 0) return undefined;
  return exclusiveHolders(tickets, context.workflow);
}

/**
 * The holders as Jira says now, for a ticket at the gate (the only place a ticket can start);
 * undefined elsewhere or without exclusive inputs. Tickets that entered the workflow's statuses too
 * recently for the search to show them are missed: a newer ticket never outranks this one (its key
 * is higher), and an older one brought back by hand is a person's call (docs/operations.md).
 */
export async function freshHolders(
  jira: JiraPort,
  context: WorkflowContext,
  ticket: Ticket,
): Promise<InputHolders | undefined> {
  const { workflow, shape } = context;
  const inputs = exclusiveInputs(workflow);
  if (inputs.length === 0 || workflow.gate?.status !== ticket.status) return undefined;
  const mine = new Set(inputs.map((input) => holderSlot(input, ticket.inputs[input])));
  const sameValue = (other: Ticket) =>
    other.key !== ticket.key && inputs.some((input) => mine.has(holderSlot(input, other.inputs[input])));
  const candidates: string[] = [];
  let token: string | undefined;
  do {
    const page = await jira.searchPage(holderSearchJql(workflow, ticket), shape, token);
    candidates.push(...page.tickets.filter(sameValue).map((other) => other.key));
    token = page.nextPageToken;
  } while (token);
  const fresh = await Promise.all(candidates.map((key) => jira.getTicket(key, shape)));
  const others = fresh.filter((other): other is Ticket => other !== undefined);
  return exclusiveHolders([ticket, ...others], workflow);
}

/**
 * Values the text search can take as a phrase without escaping (host names, ids), and short enough
 * for a URL: a 32,000-character value in a hostile ticket must not make the search itself fail
 * (Jira answers 431) before the planner can refuse the ticket.
 */
const PLAIN_VALUE = /^[A-Za-z0-9._:@/+-]{1,255}$/;

/**
 * The workflow's JQL narrowed to tickets whose exclusive field holds one of `ticket`'s values. An
 * input read from a non-custom field, or a value the phrase cannot carry as it is, searches the
 * whole workflow instead: never narrower than it should be.
 */
export function holderSearchJql(workflow: Workflow, ticket: Ticket): string {
  const phrases: string[] = [];
  for (const input of exclusiveInputs(workflow)) {
    const id = /^customfield_(\d+)$/.exec(workflow.fields[input] ?? '')?.[1];
    const value = ticket.inputs[input]?.trim() ?? '';
    if (id === undefined || !PLAIN_VALUE.test(value)) return workflowJql(workflow);
    phrases.push(`cf[${id}] ~ "\\"${value}\\""`);
  }
  return workflowJql(workflow, phrases.length === 0 ? [] : [`(${phrases.join(' OR ')})`]);
}
