// `runbot demo`: the whole service on this machine against the Jira sandbox and the simulated
// fleet. It seeds RMA restore tickets, plays the repair team and the operator, shows the tickets
// move (a live table on a terminal, a line per change otherwise), sums up what happened, and ends
// with one line counting what must never happen.
import type { Writable } from 'node:stream';
import { loadDefinitions } from '../definitions/index.js';
import { PROJECT_ROOT } from '../config.js';
import { plainText } from '../jira/adf.js';
import { configSecrets, createLogger } from '../logger.js';
import { startService, type RunningService } from '../service/app.js';
import { audit } from './audit.js';
import { startDemoEnvironment, type DemoEnvironment } from './demo-env.js';
import { liveDisplay, watchDemo } from './status-table.js';

export interface DemoOptions {
  tickets: number;
  /** Run against the Jira sandbox already serving at this URL (`runbot sandbox`) instead of starting one. */
  jiraUrl?: string;
  exitWhenDone: boolean;
  /** Gives up after this long (exit 1). */
  timeoutMs?: number;
  /** Where the lines go; stdout by default. */
  print?: (line: string) => void;
  /** Redraw the table in place (ANSI); default: when printing to a terminal. */
  tty?: boolean;
  /** Where the service's JSON logs go (stderr by default), at RUNBOT_LOG_LEVEL (warn). */
  logDestination?: Writable;
  logLevel?: string;
  /** Called with the running service once every ticket is done, before it stops (tests read /metrics). */
  beforeStop?: (service: RunningService) => Promise<void>;
}

/**
 * The demo fleet: step durations of a real restore scaled down 600 times like the workflow's intervals
 * (RUNBOT_TIME_SCALE): a 1 h memtest takes 6 s, a 10 min storage sync 1 s, a 15 min rebalance 1.5 s.
 */
const PROFILE = { memtestMs: 6_000, syncMs: 1_000, rebalanceMs: 1_500 };
/** When the repair team closes the RMAs that were not repaired at the start. */
const REPAIR_AFTER_MS = 3_000;
/** How long the operator takes to notice a ticket waiting for them. */
const OPERATOR_DELAY_MS = 1_500;

const DEMO_HOSTS = (count: number) =>
  Array.from(
    { length: count },
    (_, index) =>
      `container-${101 + Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}.dev2.internal`,
  );

export async function runDemo(options: DemoOptions): Promise<number> {
  const print = options.print ?? ((line: string) => console.log(line));
  const tty = options.tty ?? (options.print === undefined && process.stdout.isTTY === true);
  const hosts = DEMO_HOSTS(options.tickets);
  // A few faults so a newcomer sees failure comments and the operator's retries: the storage sync of
  // the third and sixth hosts fails until the operator fixes the replica set and hands the ticket back.
  const failingSync = hosts.filter((_, index) => index % 6 === 2 || index % 6 === 5);
  const env = await startDemoEnvironment({
    profile: { ...PROFILE, failingSync },
    ...(options.jiraUrl ? { jiraUrl: options.jiraUrl } : {}),
  });
  const started = Date.now();
  // Half of the RMAs are already repaired; the repair team finishes the others a few seconds in.
  for (const [index, host] of hosts.entries()) await env.seedTicket(host, { rmaDone: index % 2 === 0 });
  print(`demo: seeded ${hosts.length} RMA restore tickets (${env.tickets.map((t) => t.key).join(', ')})`);
  const logger = createLogger({
    level: options.logLevel ?? env.config.RUNBOT_LOG_LEVEL,
    destination: options.logDestination ?? process.stderr,
    secrets: configSecrets(env.config),
  });
  const service = await startService(env.config, { poll: true, work: true, http: true }, logger);
  print(
    `demo: Jira sandbox ${env.config.JIRA_URL}, Redis ${env.config.REDIS_URL}, metrics http://127.0.0.1:${service.httpPort}/metrics`,
  );
  const definitions = await loadDefinitions({ root: PROJECT_ROOT });
  const watch = watchDemo(env.sandbox, env.workflow, definitions, env.tickets);
  const display = liveDisplay((text) => {
    if (tty) process.stdout.write(text);
    else for (const line of text.trimEnd().split('\n')) print(line);
  }, tty);

  const playPeople = people(env, failingSync);
  const deadline = started + (options.timeoutMs ?? 300_000);
  let steps = '';
  try {
    for (;;) {
      const elapsed = Date.now() - started;
      // Look first, then let the people act on what was seen: their moves show at the next look.
      const events = watch.look(elapsed);
      const moves = playPeople(elapsed);
      watch.record(elapsed, moves);
      display.show(elapsed, watch.table(elapsed), [...events, ...moves]);
      const done = env.tickets.every(
        (ticket) => env.sandbox.snapshot(ticket.key)?.status === env.workflow.done,
      );
      if (done && options.exitWhenDone) break;
      if (Date.now() > deadline) {
        print('demo: gave up waiting for the tickets to finish');
        return 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 250)); // the redraw rate
    }
    await options.beforeStop?.(service);
    steps = await stepSummary(service.httpPort);
  } finally {
    await service.stop();
  }
  const result = audit(env.sandbox, env.fleet, env.tickets);
  const failed = env.tickets.filter(
    (ticket) => env.sandbox.snapshot(ticket.key)?.status !== env.workflow.done,
  ).length;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  await env.stop();
  const { tally } = watch;
  print(
    `demo: summary: ${tally.comments} bot comments (${tally.actionRequired} Action Required, ${tally.failures} failures), ${tally.handedBack} tickets handed back by the operator`,
  );
  if (steps) print(`demo: ${steps}`);
  print(
    `demo: ${env.tickets.length - failed} done, ${failed} failed, ${result.duplicateSteps} duplicate steps, ${result.duplicateComments} duplicate comments in ${seconds} s`,
  );
  return failed === 0 && result.duplicateSteps === 0 && result.duplicateComments === 0 ? 0 : 1;
}

/** Steps started (and failed) per step and the Jira calls, read from the service's own /metrics. */
async function stepSummary(port: number | undefined): Promise<string> {
  if (port === undefined) return '';
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sum = (pattern: RegExp) => {
    const totals = new Map<string, number>();
    for (const match of text.matchAll(pattern))
      totals.set(match[1] ?? '', (totals.get(match[1] ?? '') ?? 0) + Number(match[2]));
    return totals;
  };
  const started = sum(/^runbot_steps_started_total\{[^}]*step="([^"]+)"[^}]*\} (\d+)/gm);
  const failed = sum(/^runbot_steps_failed_total\{[^}]*step="([^"]+)"[^}]*\} (\d+)/gm);
  // Endpoint labels hold path templates with braces: match to the last one.
  const calls = [...sum(/^runbot_jira_calls_total()\{.*\} (\d+)$/gm).values()].reduce((a, b) => a + b, 0);
  const limited = /^runbot_jira_rate_limited_total (\d+)/m.exec(text)?.[1] ?? '0';
  const perStep = [...started]
    .map(([step, count]) => `${step} ${count}${failed.get(step) ? ` (${failed.get(step)} failed)` : ''}`)
    .join(', ');
  return `steps run: ${perStep}; ${calls} Jira calls (${limited} rate-limited)`;
}

/** The people around the bot: the repair team closes RMAs; the operator follows Action Required
 * comments, and fixes a failed sync, then hands the ticket back to Sync. The operator takes a moment
 * (OPERATOR_DELAY_MS) to react, so the table shows tickets waiting for a person. */
function people(env: DemoEnvironment, failingSync: string[]) {
  const noticed = new Map<string, number>();
  /** True once the ticket has waited in this state long enough for the operator to act. */
  const operatorReady = (key: string, state: string, now: number) => {
    const id = `${key} ${state}`;
    const since = noticed.get(id) ?? now;
    noticed.set(id, since);
    return now - since >= OPERATOR_DELAY_MS;
  };
  return (elapsedMs: number): string[] => {
    const events: string[] = [];
    for (const ticket of env.tickets) {
      const rma = env.sandbox.snapshot(ticket.rma);
      if (rma && rma.status !== 'Done' && elapsedMs > REPAIR_AFTER_MS) {
        env.sandbox.moveAsHuman(ticket.rma, 'Done');
        events.push(`${ticket.rma} repair team: repaired, Done`);
      }
      const restore = env.sandbox.snapshot(ticket.key);
      if (!restore) continue;
      const lastComment = plainText(restore.comments.at(-1)?.body);
      const state = `${restore.status} ${restore.comments.length}`;
      if (restore.status === 'Enable Alerting' && lastComment.includes('Action Required')) {
        if (!operatorReady(ticket.key, state, elapsedMs)) continue;
        env.sandbox.moveAsHuman(ticket.key, 'Rebalance');
        events.push(`${ticket.key} operator: ran the Action Required commands, moves it to Rebalance`);
      }
      if (restore.status === env.workflow.failure && lastComment.includes('sync failed')) {
        if (!operatorReady(ticket.key, state, elapsedMs)) continue;
        // The fleet reads the same array, so removing the host clears its fault.
        if (failingSync.includes(ticket.host)) failingSync.splice(failingSync.indexOf(ticket.host), 1);
        env.sandbox.moveAsHuman(ticket.key, 'Sync');
        events.push(`${ticket.key} operator: fixed the storage replica set, hands it back to Sync`);
      }
    }
    return events;
  };
}
