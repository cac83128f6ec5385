// `runbot status`: where every ticket is, read from Jira (the only state) through the adapter's
// search, drawn as the status table (service/status.ts), and the failure-rate breakers from Redis.
import type { Command } from 'commander';
import { loadConfig, redisSettings, type Config } from '../config.js';
import { loadDefinitions, type Definitions } from '../definitions/index.js';
import { createJiraAdapter, JiraRequestError, type JiraAdapter } from '../jira/index.js';
import { configSecrets, createLogger } from '../logger.js';
import { planTicket, type OpenBreakers, type Ticket } from '../planner/index.js';
import { BreakerStore, createRedis } from '../queue/index.js';
import { planInputFor, workflowContexts, type WorkflowContext } from '../runner/context.js';
import { jiraConnection } from '../service/jira-connection.js';
import { renderStatusTable, statusOrder, statusTable, type TicketView } from '../service/status.js';

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
      planned(context, ticket, world, breakers.open ?? {}),
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
  viewOf: (context: WorkflowContext, ticket: Ticket) => Pick<TicketView, 'held' | 'runningNote'>,
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
      for (const ticket of page.tickets) tickets.push({ ...ticket, ...viewOf(context, ticket) });
      token = page.nextPageToken;
    } while (token);
    const table = statusTable(workflow, definitions, tickets, now);
    table.counts = table.counts.filter(({ status }) => status !== workflow.done);
    lines.push(...renderStatusTable(table));
  }
  return lines;
}

/**
 * What the planner says of this ticket now: why it holds its step back, if it does, and of a step
 * with a running mark, how long the mark holds (a step past it has no worker: it is resumed through
 * its `done_when`, or it goes to a person).
 */
function planned(
  context: WorkflowContext,
  ticket: Ticket,
  world: { definitions: Definitions; now: () => Date; timeScale: number },
  open: OpenBreakers,
): Pick<TicketView, 'held' | 'runningNote'> {
  const decision = planTicket(planInputFor(context, ticket, world, { openBreakers: open }));
  if (decision.kind === 'noteHold') return { held: decision.hold.reason };
  if (decision.kind === 'nothing') {
    return {
      ...(decision.hold ? { held: decision.hold.reason } : {}),
      ...(decision.running ? { runningNote: `until ${utc(decision.running.until)} at most` } : {}),
    };
  }
  if (decision.kind === 'runStep' && decision.resumed)
    return { runningNote: 'its worker went quiet: resumed through done_when next' };
  if (decision.kind === 'escalate') return { runningNote: `to ${decision.to} next: ${decision.title}` };
  return {};
}

/** `2026-12-01 14:05 UTC`: a moment as people read it in the table, rounded up to the minute (so
 * "until … at most" stays true). */
function utc(iso: string): string {
  const minute = 60_000;
  const up = new Date(Math.ceil(Date.parse(iso) / minute) * minute).toISOString();
  return `${up.slice(0, 10)} ${up.slice(11, 16)} UTC`;
}

/** The open breakers from Redis; when Redis does not answer, status still shows what Jira says. */
async function readBreakers(config: Config): Promise<{ open?: OpenBreakers; problem?: string }> {
  const redis = createRedis(redisSettings(config), {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    noReconnect: true,
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
