// What must hold at the end of every fault scenario, checked from the outside: on the Jira side
// (statuses, comments) and on the fleet side (which commands each host actually received).
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { plainText } from '../../../src/jira/adf.js';
import { audit } from '../../../src/sandbox/audit.js';
import type { FleetCommand } from '../../../src/sandbox/fleet/index.js';
import { until } from '../poll.js';
import type { FaultEnvironment, FaultTicket } from './env.js';

const REF = /ref runbot\/[A-Z][A-Z0-9]*-\d+\/\d+\/[a-z0-9-]+/;
export const HUMAN_STATUSES = ['Actionable', 'Enable Alerting'];

/** The operator: follows each Action Required comment of the manual step (enable alerting). */
export function playOperator(env: FaultEnvironment, tickets: FaultTicket[] = env.tickets): void {
  for (const ticket of tickets) {
    const snapshot = env.sandbox.snapshot(ticket.key);
    if (snapshot?.status !== 'Enable Alerting') continue;
    if (plainText(snapshot.comments.at(-1)?.body).includes('Action Required')) {
      env.sandbox.moveAsHuman(ticket.key, 'Rebalance');
    }
  }
}

export function statusOf(env: FaultEnvironment, key: string): string | undefined {
  return env.sandbox.snapshot(key)?.status;
}

export function countByStatus(
  env: FaultEnvironment,
  tickets: FaultTicket[] = env.tickets,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { key } of tickets) {
    const status = statusOf(env, key) ?? 'missing';
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

/** Waits (playing the operator) until every ticket is Done or in Actionable. */
export async function settle(
  env: FaultEnvironment,
  options: { timeoutMs: number; tickets?: FaultTicket[]; onTick?: () => void | Promise<void> },
): Promise<void> {
  const tickets = options.tickets ?? env.tickets;
  await until(
    'every ticket Done or Actionable',
    async () => {
      env.processes.assertNoneCrashed();
      playOperator(env, tickets);
      await options.onTick?.();
      return (
        tickets.every(({ key }) => ['Done', 'Actionable'].includes(statusOf(env, key) ?? '')) || undefined
      );
    },
    { timeoutMs: options.timeoutMs, everyMs: 100 },
  ).catch((error: unknown) => {
    const stuck = tickets.filter(({ key }) => !['Done', 'Actionable'].includes(statusOf(env, key) ?? ''));
    throw new Error(
      `${(error as Error).message}; statuses ${JSON.stringify(countByStatus(env, tickets))}\n` +
        stuck
          .slice(0, 3)
          .map((ticket) => explainStuck(env, ticket.key))
          .join('\n'),
    );
  });
}

/** What a ticket that did not settle shows: Jira's view of it and every log line that names it. */
function explainStuck(env: FaultEnvironment, key: string): string {
  const snapshot = env.sandbox.snapshot(key);
  const comments = (snapshot?.comments ?? []).slice(-2).map((c) => plainText(c.body).slice(0, 300));
  const lines = env.processes
    .all()
    .flatMap((entry) => entry.linesWith(`"${key}"`).map((line) => `${entry.name}: ${line}`));
  return [
    `--- ${key}: ${snapshot?.status ?? 'missing'}, property ${JSON.stringify(snapshot?.properties)}`,
    ...comments.map((text) => `comment: ${text}`),
    ...lines.slice(-25),
  ].join('\n');
}

export interface QueueState {
  counts: Record<string, number>;
  /** Failed jobs and why (a stalled job that ran out of retries shows up here). */
  failed: { id: string; reason: string }[];
}

export async function queueState(env: FaultEnvironment): Promise<QueueState> {
  const prefix = env.env.RUNBOT_QUEUE_PREFIX ?? 'runbot';
  // Every BullMQ queue under the prefix (the service may keep one per site): found by their meta keys.
  const client = new Redis(env.redis.url, { maxRetriesPerRequest: 1 });
  let names: string[];
  try {
    const keys = await client.keys(`${prefix}:*:meta`);
    names = keys.map((key) => key.slice(prefix.length + 1, -':meta'.length));
  } finally {
    client.disconnect();
  }
  const counts: Record<string, number> = {};
  const failed: QueueState['failed'] = [];
  for (const name of names) {
    const queue = new Queue(name, { connection: { url: env.redis.url }, prefix });
    try {
      const own = await queue.getJobCounts(
        'active',
        'waiting',
        'delayed',
        'prioritized',
        'failed',
        'completed',
      );
      for (const [state, count] of Object.entries(own)) counts[state] = (counts[state] ?? 0) + count;
      for (const job of await queue.getFailed(0, 100))
        failed.push({ id: job.id ?? '?', reason: job.failedReason });
    } finally {
      await queue.close();
    }
  }
  return { counts, failed };
}

/** Waits until nothing is queued, delayed or running (the processes still up, so they can drain). */
export async function drained(env: FaultEnvironment, timeoutMs = 30_000): Promise<QueueState> {
  return until(
    'the queue to drain',
    async () => {
      const state = await queueState(env);
      const { active = 0, waiting = 0, delayed = 0, prioritized = 0 } = state.counts;
      return active + waiting + delayed + prioritized === 0 ? state : undefined;
    },
    { timeoutMs, everyMs: 200 },
  );
}

/** One line per broken guarantee; an empty list means the scenario kept every promise. */
export function brokenGuarantees(
  env: FaultEnvironment,
  options: { tickets?: FaultTicket[]; humanMoved?: Set<string> } = {},
): string[] {
  const tickets = options.tickets ?? env.tickets;
  const problems: string[] = [];
  const commands = env.fleet.commands();
  for (const ticket of tickets) {
    const snapshot = env.sandbox.snapshot(ticket.key);
    if (!snapshot) {
      problems.push(`${ticket.key}: missing from Jira`);
      continue;
    }
    const texts = snapshot.comments.map((comment) => plainText(comment.body));
    const botTexts = texts.filter((text) => REF.test(text));
    if (snapshot.status !== 'Done' && !HUMAN_STATUSES.includes(snapshot.status)) {
      problems.push(`${ticket.key}: ended in ${snapshot.status}, neither Done nor a human status`);
    }
    if (HUMAN_STATUSES.includes(snapshot.status) && !options.humanMoved?.has(ticket.key)) {
      const last = botTexts.at(-1) ?? '';
      if (!/Action Required|failed on/.test(last)) {
        problems.push(
          `${ticket.key}: in ${snapshot.status} without an explaining comment (last: ${last.slice(0, 120)})`,
        );
      }
    }
    const seen = new Set<string>();
    for (const text of botTexts) {
      const ref = REF.exec(text)?.[0] ?? '';
      if (seen.has(ref)) problems.push(`${ticket.key}: comment ${ref} posted twice`);
      seen.add(ref);
    }
    problems.push(
      ...stepsRunTwice(
        ticket,
        commands.filter((command) => command.subject === ticket.host),
      ),
    );
  }
  const counted = audit(env.sandbox, env.fleet, tickets);
  if (counted.duplicateComments > 0) problems.push(`audit: ${counted.duplicateComments} duplicate comments`);
  return problems;
}

/**
 * Each mutating command of the runbook reaches a host at most once per step visit, unless the step's
 * done_when check stood between the runs and the earlier run never completed. In these scenarios no
 * ticket is handed back, so each status is visited once: storage-rebalance runs at most once,
 * storage-sync at most once before the blacklist removal (sync) and once after it (second-sync).
 * A command cut short by a kill counts too: it was sent. memcheck start and blacklist remove have a
 * done_when check, so they may be sent again only after a run that was cut short (never after one
 * that completed: the check would have passed) and only after their check ran again.
 */
function stepsRunTwice(ticket: FaultTicket, commands: FleetCommand[]): string[] {
  const problems: string[] = [];
  const show = (found: FleetCommand[]) =>
    found.map((c) => `${c.state}@${new Date(c.at).toISOString().slice(11, 23)}`).join(', ');
  const runs = (pattern: RegExp, from = 0, to = Number.POSITIVE_INFINITY) =>
    commands.filter((command) => pattern.test(command.command) && command.at >= from && command.at < to);
  const removal = runs(/blacklist remove/)[0]?.at ?? Number.POSITIVE_INFINITY;
  const once: [string, FleetCommand[]][] = [
    ['storage-sync (sync)', runs(/storage-sync/, 0, removal)],
    ['storage-sync (second-sync)', runs(/storage-sync/, removal)],
    ['storage-rebalance', runs(/storage-rebalance/)],
  ];
  for (const [what, found] of once) {
    if (found.length > 1)
      problems.push(`${ticket.key}: ${what} ran ${found.length} times on ${ticket.host} (${show(found)})`);
  }
  const guarded: [string, RegExp, RegExp][] = [
    ['memcheck start', /memcheck start/, /memcheck status/],
    ['blacklist remove', /blacklist remove/, /blacklist show/],
  ];
  for (const [what, pattern, check] of guarded) {
    const found = runs(pattern);
    for (const [index, run] of found.entries()) {
      const previous = found[index - 1];
      if (!previous) continue;
      const checked = runs(check, previous.at, run.at).length > 0;
      if (previous.state !== 'abandoned' || !checked) {
        problems.push(
          `${ticket.key}: ${what} ran again on ${ticket.host} after a run that ${previous.state === 'abandoned' ? 'was cut short, without its done_when check' : 'completed'} (${show(found)})`,
        );
      }
    }
  }
  return problems;
}

/** Counts for the scenario's summary line (and docs/reliability.md). */
export function summary(env: FaultEnvironment, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const commands = env.fleet.commands();
  const ticketsWhose = (pattern: RegExp) =>
    env.tickets.filter(({ key }) =>
      (env.sandbox.snapshot(key)?.comments ?? []).some((comment) => pattern.test(plainText(comment.body))),
    ).length;
  return {
    tickets: env.tickets.length,
    ...countByStatus(env),
    commands: commands.length,
    abandonedCommands: commands.filter((command) => command.state === 'abandoned').length,
    // A step resumed after an interruption and found done by its done_when check.
    resumedByDoneWhen: ticketsWhose(/was already done and was not run again/),
    // A step without done_when interrupted and handed to a person.
    interrupted: ticketsWhose(/was interrupted/),
    ...extra,
  };
}

/** Waits until at least `count` step commands matching `pattern` (default: storage sync and
 * rebalance, the long ones) run on the fleet. */
export async function commandsInFlight(
  env: FaultEnvironment,
  count: number,
  options: { pattern?: RegExp; timeoutMs?: number } = {},
) {
  const pattern = options.pattern ?? /storage-/;
  return until(
    `${count} step commands matching ${String(pattern)} running on the fleet`,
    () => {
      env.processes.assertNoneCrashed();
      playOperator(env);
      const running = env.fleet
        .commands()
        .filter((command) => command.state === 'running' && pattern.test(command.command));
      return running.length >= count ? running : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 60_000, everyMs: 20 },
  );
}
