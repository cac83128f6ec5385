// `runbot status`: where every ticket is, read from Jira (the only state) through the adapter's
// search: tickets per status in runbook order (like a service desk's queue list), the steps running
// now, and the tickets waiting for a person. The demo draws the same table live.
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../config.js';
import { loadDefinitions, type Definitions, type Workflow } from '../definitions/index.js';
import { createJiraAdapter, JiraRequestError, type JiraAdapter } from '../jira/index.js';
import { configSecrets, createLogger } from '../logger.js';
import { planTicket, type Bookkeeping, type OpenBreakers, type Ticket } from '../planner/index.js';
import { BreakerStore } from '../queue/index.js';
import { planInputFor, workflowContexts, type WorkflowContext } from './context.js';
import { jiraConnection } from './jira-connection.js';

/** What the table needs of one ticket. */
export interface TicketView {
  key: string;
  status: string;
  bookkeeping: Bookkeeping | undefined;
  /** Why its step waits though the ticket is ready: a breaker, a freeze, a maintenance window. */
  held?: string;
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
function statusOrder(workflow: Workflow): string[] {
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
    else if (book?.running)
      running.push(`${ticket.key} ${book.running.step}${seconds(book.running.since, now)}`);
    else if (step?.kind === 'wait' && book?.startedAt)
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

export async function statusCommand(
  config: Config,
  print: (line: string) => void,
  now = new Date(),
): Promise<number> {
  const definitions = await loadDefinitions({
    root: config.RUNBOT_DEFINITIONS,
    ...(config.RUNBOT_INVENTORY ? { inventory: config.RUNBOT_INVENTORY } : {}),
  });
  const logger = createLogger({ level: 'warn', destination: process.stderr, secrets: configSecrets(config) });
  const jira = createJiraAdapter({ ...jiraConnection(config, logger), logger });
  try {
    const breakers = await readBreakers(config);
    const world = { definitions, now: () => now, timeScale: config.RUNBOT_TIME_SCALE };
    for (const line of await statusLines(definitions, jira, now, (context, ticket) =>
      heldReason(context, ticket, world, breakers.open ?? {}),
    ))
      print(line);
    for (const line of breakerLines(breakers)) print(line);
    return 0;
  } catch (error) {
    // Jira's answer already says what failed and what to check; a stack trace would hide it.
    if (!(error instanceof JiraRequestError)) throw error;
    print(`runbot status: ${error.message}`);
    return 1;
  }
}

async function statusLines(
  definitions: Definitions,
  jira: JiraAdapter,
  now: Date,
  heldOf: (context: WorkflowContext, ticket: Ticket) => string | undefined,
): Promise<string[]> {
  const lines: string[] = [];
  for (const context of workflowContexts(definitions).values()) {
    const { workflow, shape } = context;
    // Every status but Done: Done grows without end, and the open queues are what people follow.
    const statuses = statusOrder(workflow).filter((status) => status !== workflow.done);
    const jql = [
      `project = ${JSON.stringify(workflow.jira.project)}`,
      `issuetype = ${JSON.stringify(workflow.jira.issue_type)}`,
      `status in (${statuses.map((status) => JSON.stringify(status)).join(', ')})`,
    ].join(' AND ');
    const tickets: TicketView[] = [];
    let token: string | undefined;
    do {
      const page = await jira.searchPage(`${jql} ORDER BY key ASC`, shape, token);
      for (const ticket of page.tickets) {
        const held = heldOf(context, ticket);
        tickets.push(held === undefined ? ticket : { ...ticket, held });
      }
      token = page.nextPageToken;
    } while (token);
    const table = statusTable(workflow, definitions, tickets, now);
    table.counts = table.counts.filter(({ status }) => status !== workflow.done);
    lines.push(...renderStatusTable(table));
  }
  return lines;
}

/** Why the planner holds this ticket's step back now, if it does. */
function heldReason(
  context: WorkflowContext,
  ticket: Ticket,
  world: { definitions: Definitions; now: () => Date; timeScale: number },
  open: OpenBreakers,
): string | undefined {
  const decision = planTicket(planInputFor(context, ticket, world, { openBreakers: open }));
  if (decision.kind === 'noteHold') return decision.hold.reason;
  return decision.kind === 'nothing' ? decision.hold?.reason : undefined;
}

/** The open breakers from Redis; when Redis does not answer, status still shows what Jira says. */
async function readBreakers(config: Config): Promise<{ open?: OpenBreakers; problem?: string }> {
  const redis = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return { open: await new BreakerStore(redis, config.RUNBOT_QUEUE_PREFIX).open() };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  } finally {
    redis.disconnect();
  }
}

function breakerLines(breakers: { open?: OpenBreakers; problem?: string }): string[] {
  if (breakers.problem !== undefined)
    return [`breakers: not known (Redis did not answer: ${breakers.problem})`];
  const open = Object.entries(breakers.open ?? {});
  if (open.length === 0) return ['breakers: all closed'];
  return [
    `breakers open (${open.length}), reset with runbot resume --breaker SITE/STEP:`,
    ...open.map(
      ([field, breaker]) =>
        `  ${field} since ${breaker.since}: ${breaker.failures} of the last ${breaker.window} runs failed (${breaker.tickets.join(', ')})`,
    ),
  ];
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show tickets per status, steps running and tickets waiting for a person, from Jira')
    .action(async () => {
      process.exitCode = await statusCommand(loadConfig(), (line) => console.log(line));
    });
}
