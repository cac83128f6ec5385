// The status table: where every ticket is, tickets per status in runbook order (like a service
// desk's queue list), the steps running now, and the tickets waiting for a person. `runbot status`
// (src/cli/status.ts) prints it from Jira's search; the demo draws the same table live.
import type { Definitions, Workflow } from '../definitions/index.js';
import type { Bookkeeping } from '../planner/index.js';

/** What the table needs of one ticket. */
export interface TicketView {
  key: string;
  status: string;
  bookkeeping: Bookkeeping | undefined;
  /** Why its step waits though the ticket is ready: a breaker, a freeze, a maintenance window. */
  held?: string;
  /** What the plan says of its running step: how long its mark holds, or that its worker went quiet. */
  runningNote?: string;
}

export interface StatusTable {
  title: string;
  /** Every status of the workflow in runbook order (gate, steps, failure, done), with its count. */
  counts: { status: string; count: number }[];
  running: string[];
  waitingForPeople: string[];
  /** Tickets whose step is held back, with why ("HOT-3 outside maintenance window of dev2 until …"). */
  held: string[];
}

/** The workflow's statuses in the order a ticket walks them. */
export function statusOrder(workflow: Workflow): string[] {
  const order = [
    ...(workflow.gate ? [workflow.gate.status] : []),
    ...Object.keys(workflow.statuses),
    workflow.failure,
    workflow.done,
  ];
  return [...new Set(order)];
}

function seconds(sinceIso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(sinceIso);
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = ms / 1000;
  if (s < 120) return ` ${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 7200) return ` ${Math.round(s / 60)} min`;
  return ` ${(s / 3600).toFixed(1)} h`;
}

/** Builds the table of one workflow from its tickets (any status; unknown ones are listed after). */
export function statusTable(
  workflow: Workflow,
  definitions: Pick<Definitions, 'runbooks'>,
  tickets: TicketView[],
  now: Date,
): StatusTable {
  const steps = definitions.runbooks.get(workflow.runbook)?.runbook.steps ?? {};
  const order = statusOrder(workflow);
  const counts = new Map(order.map((status) => [status, 0]));
  const running: string[] = [];
  const waitingForPeople: string[] = [];
  const held: string[] = [];
  for (const ticket of tickets) {
    if (ticket.held !== undefined) held.push(`${ticket.key} ${ticket.held}`);
    counts.set(ticket.status, (counts.get(ticket.status) ?? 0) + 1);
    const stepName = workflow.statuses[ticket.status]?.step;
    const step = stepName ? steps[stepName] : undefined;
    const book = ticket.bookkeeping?.status === ticket.status ? ticket.bookkeeping : undefined;
    if (ticket.status === workflow.failure) waitingForPeople.push(`${ticket.key} in ${ticket.status}`);
    else if (ticket.status === workflow.approval?.status)
      waitingForPeople.push(`${ticket.key} ${book?.awaiting?.step ?? ''} (approval)`);
    else if (book?.running) {
      const note = ticket.runningNote ? `, ${ticket.runningNote}` : '';
      running.push(`${ticket.key} ${book.running.step}${seconds(book.running.since, now)}${note}`);
    } else if (step?.kind === 'wait' && book?.startedAt)
      running.push(`${ticket.key} ${stepName ?? ''}${seconds(book.startedAt, now)}`);
    else if (step?.kind === 'manual' && book?.instructed)
      waitingForPeople.push(`${ticket.key} ${stepName ?? ''} (Action Required)`);
  }
  return {
    title: `${workflow.name} · ${workflow.jira.project} ${workflow.jira.issue_type} · ${tickets.length} tickets`,
    counts: [...counts].map(([status, count]) => ({ status, count })),
    running,
    waitingForPeople,
    held,
  };
}

const BAR_MAX = 30;

/** The table as lines of text: one row per status with a bar, then what runs and who waits. */
export function renderStatusTable(table: StatusTable): string[] {
  const width = Math.max(...table.counts.map(({ status }) => status.length), 6);
  const most = Math.max(1, ...table.counts.map(({ count }) => count));
  const bar = (count: number) => '█'.repeat(Math.ceil((count / most) * Math.min(BAR_MAX, most)));
  const list = (label: string, items: string[]) => {
    const shown = items.slice(0, 6).join(' · ');
    const more = items.length > 6 ? ` · +${items.length - 6} more` : '';
    return `  ${label} (${items.length})${items.length > 0 ? `: ${shown}${more}` : ''}`;
  };
  return [
    table.title,
    ...table.counts.map(({ status, count }) =>
      `  ${status.padEnd(width)} ${String(count === 0 ? '·' : count).padStart(4)} ${bar(count)}`.trimEnd(),
    ),
    list('running', table.running),
    list('waiting for a person', table.waitingForPeople),
    // Every held ticket in full: each line says why and until when (only when there are some).
    ...(table.held.length > 0
      ? [`  held back (${table.held.length}):`, ...table.held.map((line) => `    ${line}`)]
      : []),
  ];
}

/** The one-line form for logs and CI: the non-empty statuses in runbook order. */
export function statusLine(table: StatusTable): string {
  return table.counts
    .filter(({ count }) => count > 0)
    .map(({ status, count }) => `${status} ${count}`)
    .join(' · ');
}
