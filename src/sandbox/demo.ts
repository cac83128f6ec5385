// `runbot demo`: the whole service on this machine against the Jira sandbox and the simulated
// fleet. It seeds RMA restore tickets, plays the repair team and the operator, shows the tickets
// move, and prints one summary line at the end.
import { plainText } from '../jira/adf.js';
import { createLogger } from '../logger.js';
import { startService } from '../service/app.js';
import { audit } from './audit.js';
import { startDemoEnvironment, type DemoEnvironment } from './demo-env.js';

export interface DemoOptions {
  tickets: number;
  exitWhenDone: boolean;
  /** Gives up after this long (exit 1). */
  timeoutMs?: number;
  print?: (line: string) => void;
}

const DEMO_HOSTS = (count: number) =>
  Array.from(
    { length: count },
    (_, index) =>
      `container-${101 + Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}.dev2.internal`,
  );

export async function runDemo(options: DemoOptions): Promise<number> {
  const print = options.print ?? ((line: string) => console.log(line));
  const hosts = DEMO_HOSTS(options.tickets);
  // One host's storage sync fails until the operator "fixes" it, so the demo shows a failure comment and a retry.
  const failingSync = hosts.length > 2 ? [hosts[2] ?? ''] : [];
  const env = await startDemoEnvironment({
    profile: { memtestMs: 2500, syncMs: 400, rebalanceMs: 400, failingSync },
  });
  const started = Date.now();
  // Half of the RMAs are already repaired; the repair team finishes the others a few seconds in.
  for (const [index, host] of hosts.entries()) await env.seedTicket(host, { rmaDone: index % 2 === 0 });
  print(`demo: seeded ${hosts.length} RMA restore tickets (${env.tickets.map((t) => t.key).join(', ')})`);
  const logger = createLogger({ level: env.config.RUNBOT_LOG_LEVEL, destination: process.stderr });
  const service = await startService(env.config, { poll: true, work: true, http: true }, logger);
  print(
    `demo: Jira sandbox ${env.config.JIRA_URL}, Redis ${env.config.REDIS_URL}, metrics http://127.0.0.1:${service.httpPort}/metrics`,
  );

  const deadline = started + (options.timeoutMs ?? 300_000);
  let lastLine = '';
  try {
    for (;;) {
      playPeople(env, failingSync, Date.now() - started);
      const line = statusLine(env);
      if (line !== lastLine) print(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${line}`);
      lastLine = line;
      const done = env.tickets.every(
        (ticket) => env.sandbox.snapshot(ticket.key)?.status === env.workflow.done,
      );
      if (done && options.exitWhenDone) break;
      if (Date.now() > deadline) {
        print('demo: gave up waiting for the tickets to finish');
        return 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await service.stop();
  }
  const result = audit(env.sandbox, env.fleet, env.tickets);
  const failed = env.tickets.filter(
    (ticket) => env.sandbox.snapshot(ticket.key)?.status !== env.workflow.done,
  ).length;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  await env.stop();
  print(
    `demo: ${env.tickets.length - failed} done, ${failed} failed, ${result.duplicateSteps} duplicate steps, ${result.duplicateComments} duplicate comments in ${seconds} s`,
  );
  return failed === 0 && result.duplicateSteps === 0 && result.duplicateComments === 0 ? 0 : 1;
}

/** The people around the bot: the repair team closes RMAs; the operator follows Action Required
 * comments and retries a failed sync once its cause is fixed. */
function playPeople(env: DemoEnvironment, failingSync: string[], elapsedMs: number): void {
  for (const ticket of env.tickets) {
    const rma = env.sandbox.snapshot(ticket.rma);
    if (rma && rma.status !== 'Done' && elapsedMs > 3000) env.sandbox.moveAsHuman(ticket.rma, 'Done');
    const restore = env.sandbox.snapshot(ticket.key);
    if (!restore) continue;
    const lastComment = plainText(restore.comments.at(-1)?.body);
    if (restore.status === 'Enable Alerting' && lastComment.includes('Action Required')) {
      env.sandbox.moveAsHuman(ticket.key, 'Rebalance');
    }
    if (restore.status === env.workflow.failure && lastComment.includes('sync failed')) {
      failingSync.splice(failingSync.indexOf(ticket.host), 1);
      env.sandbox.moveAsHuman(ticket.key, 'Sync');
    }
  }
}

function statusLine(env: DemoEnvironment): string {
  const counts = new Map<string, number>();
  for (const ticket of env.tickets) {
    const status = env.sandbox.snapshot(ticket.key)?.status ?? 'missing';
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  const order = [
    env.workflow.gate?.status,
    ...Object.keys(env.workflow.statuses),
    env.workflow.failure,
    env.workflow.done,
  ];
  return order
    .filter((status): status is string => status !== undefined && counts.has(status))
    .map((status) => `${status} ${counts.get(status)}`)
    .join(' · ');
}
