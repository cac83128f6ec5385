// Benchmark 3, planning at 10,000 tickets.
//   A. CPU time per ticket of the pure planner (planTicket) over 10,000 synthetic tickets in varied
//      statuses, median of several passes, against the poll interval it must fit in.
//   B. RSS of a poller process (its own process, the real adapter) after one pollOnce over a Jira
//      sandbox holding 10,000 restore tickets, against the same process before the cycle.
//      BENCH_PLAN_WARM_CYCLES=N measures the cycle after N others in the same process (default 0: the first).
import process from 'node:process';
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  DEPLOYED_ENV,
  DEPLOYED_NODE_FLAGS,
  cpuMs,
  dist,
  heading,
  median,
  mib,
  ratio,
  REPO,
  summary,
} from './support/common.js';
import { hostName, seedRestore } from './support/seed.js';

const TICKETS = Number(process.env.BENCH_PLAN_TICKETS ?? 10_000);
const PASSES = Number(process.env.BENCH_PLAN_PASSES ?? 7);
const SMALL = Number(process.env.BENCH_PLAN_SMALL ?? 100);
const RSS_ROUNDS = Number(process.env.BENCH_PLAN_RSS_ROUNDS ?? 2);
const POLL_INTERVAL_S = 30; // RUNBOT_POLL_INTERVAL's default
const TICKETS_PLANNER_US = { value: NaN };

const { planTicket } = await dist('planner/index.js');
const { loadDefinitions } = await dist('definitions/index.js');
const { PROJECT_ROOT } = await dist('config.js');
const { JiraSandbox } = await dist('sandbox/jira/index.js');
const { restoreProject, RMA_PROJECT, HOST_FIELD } = await dist('sandbox/rma-jira.js');
const { DEMO_CREDENTIALS } = await dist('sandbox/demo-env.js');

const definitions = await loadDefinitions({ root: PROJECT_ROOT });
const workflow = definitions.workflows.get('rma-restore');
const runbook = definitions.runbooks.get(workflow.runbook);
const now = new Date();
const minutesAgo = (minutes) => new Date(now.getTime() - minutes * 60_000).toISOString();

/** A ticket's situation: status, bookkeeping and links, chosen to reach every kind of decision. */
const SITUATIONS = [
  { status: 'Waiting for RMA', rmaDone: false },
  { status: 'Waiting for RMA', rmaDone: true },
  { status: 'Memcheck' },
  {
    status: 'Memcheck Running',
    bookkeeping: { visit: 3, enteredAt: minutesAgo(50), startedAt: minutesAgo(50) },
  },
  {
    status: 'Sync',
    bookkeeping: { visit: 4, enteredAt: minutesAgo(5), running: { step: 'sync', since: minutesAgo(5) } },
  },
  { status: 'Blacklist Removal' },
  { status: 'Second Sync', bookkeeping: { visit: 6, enteredAt: minutesAgo(1) } },
  { status: 'Enable Alerting', bookkeeping: { visit: 7, enteredAt: minutesAgo(90), instructed: true } },
  { status: 'Enable Alerting' },
  { status: 'Rebalance' },
  { status: 'Sync', labels: ['runbot-pause'] },
  { status: 'Sync', host: 'not a host name' },
];

function syntheticTicket(index) {
  const situation = SITUATIONS[index % SITUATIONS.length];
  const rma = `RMA-${index + 1}`;
  return {
    key: `HOT-${index + 1}`,
    status: situation.status,
    project: 'HOT',
    issueType: 'RMA Restore',
    labels: situation.labels ?? [],
    inputs: { host: situation.host ?? hostName(index) },
    links: [
      {
        relation: 'is blocked by',
        key: rma,
        status: situation.rmaDone === false ? 'In Repair' : 'Done',
        statusCategory: situation.rmaDone === false ? 'indeterminate' : 'done',
      },
    ],
    bookkeeping: situation.bookkeeping ? { status: situation.status, ...situation.bookkeeping } : undefined,
  };
}

function plannerCpu() {
  heading(
    `A. planTicket over ${TICKETS} synthetic tickets (${SITUATIONS.length} situations), ${PASSES} passes`,
  );
  const tickets = Array.from({ length: TICKETS }, (_, index) => syntheticTicket(index));
  const plan = (ticket) =>
    planTicket({ ticket, workflow, runbook, inventory: definitions.inventory, now, timeScale: 1 });
  const kinds = {};
  for (const ticket of tickets) {
    const kind = plan(ticket).kind;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  console.log(`decisions: ${JSON.stringify(kinds)}`);
  const passes = [];
  for (let pass = 0; pass < PASSES; pass += 1) {
    const before = cpuMs();
    for (const ticket of tickets) plan(ticket);
    passes.push(cpuMs() - before);
  }
  const perPass = median(passes);
  const perTicketUs = (perPass * 1000) / TICKETS;
  const share = perPass / (POLL_INTERVAL_S * 1000);
  console.log(
    `CPU per pass: median ${perPass.toFixed(1)} ms (passes: ${passes.map((p) => p.toFixed(0)).join(', ')} ms)`,
  );
  console.log(`CPU per ticket planned: ${perTicketUs.toFixed(2)} µs`);
  console.log(
    `a cycle's planning is ${(share * 100).toFixed(3)} % of the ${POLL_INTERVAL_S} s poll interval (limit 100 %)`,
  );
  TICKETS_PLANNER_US.value = perTicketUs;
  return { perTicketUs, perPass, share };
}

async function seededSandbox(count) {
  const sandbox = new JiraSandbox({
    projects: [restoreProject(workflow), RMA_PROJECT],
    customFields: [HOST_FIELD],
    credentials: DEMO_CREDENTIALS,
  });
  const url = await sandbox.start(0, '127.0.0.1');
  for (let index = 0; index < count; index += 1) {
    const situation = SITUATIONS[index % SITUATIONS.length];
    seedRestore(sandbox, workflow, {
      host: situation.host ?? hostName(index),
      status: situation.status,
      rmaDone: situation.rmaDone ?? true,
      labels: situation.labels ?? [],
      ...(situation.bookkeeping
        ? { bookkeeping: { status: situation.status, ...situation.bookkeeping } }
        : {}),
    });
  }
  return { sandbox, url, count };
}

/** One poller process, one pollOnce; its JSON report. */
async function pollInChild(url) {
  const child = path.join(REPO, 'bench', 'support', 'poller-child.js');
  // The sandbox answers from this process while the child runs, so the async execFile.
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...DEPLOYED_NODE_FLAGS.split(' ').filter(Boolean), '--expose-gc', child],
    {
      env: {
        ...process.env,
        ...DEPLOYED_ENV,
        JIRA_URL: url,
        JIRA_EMAIL: DEMO_CREDENTIALS.email,
        JIRA_API_TOKEN: DEMO_CREDENTIALS.apiToken,
      },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

async function pollerRss() {
  heading(
    `B. RSS of a poller process after one pollOnce: ${SMALL} vs ${TICKETS} tickets, ${RSS_ROUNDS} interleaved rounds` +
      (process.env.BENCH_PLAN_WARM_CYCLES
        ? `, after ${process.env.BENCH_PLAN_WARM_CYCLES} warm-up cycles`
        : ''),
  );
  const seeding = performance.now();
  const small = await seededSandbox(SMALL);
  const big = await seededSandbox(TICKETS);
  console.log(
    `seeded ${SMALL} + ${TICKETS} restore tickets (with their RMA tickets) in ${((performance.now() - seeding) / 1000).toFixed(1)} s`,
  );
  try {
    const results = { [SMALL]: [], [TICKETS]: [] };
    for (let round = 0; round < RSS_ROUNDS; round += 1) {
      const order = round % 2 === 0 ? [small, big] : [big, small];
      for (const { url, count } of order) results[count].push(await pollInChild(url));
    }
    const medianOf = (count, field) => median(results[count].map((result) => result[field]));
    for (const count of [SMALL, TICKETS]) {
      const last = results[count].at(-1);
      const searches = last.calls.reduce((total, call) => total + call.count, 0);
      console.log(
        `${String(count).padStart(6)} tickets: ${searches} search calls, ${last.enqueued} jobs; RSS before ${mib(medianOf(count, 'rssBefore'))}, ` +
          `peak ${mib(medianOf(count, 'peak'))}; heap before ${mib(medianOf(count, 'heapBefore'))}, after ${mib(medianOf(count, 'heapAfter'))}, ` +
          `after GC ${mib(medianOf(count, 'heapAfterGc'))}; cycle CPU ${medianOf(count, 'cycleCpuMs').toFixed(0)} ms, wall ${(medianOf(count, 'wallMs') / 1000).toFixed(2)} s`,
      );
    }
    const peakRatio = medianOf(TICKETS, 'peak') / medianOf(SMALL, 'peak');
    const perTicketBytes = (medianOf(TICKETS, 'peak') - medianOf(SMALL, 'peak')) / (TICKETS - SMALL);
    // Per-ticket CPU from the difference, so the first-call costs both sizes pay cancel out.
    const cycleUs =
      ((medianOf(TICKETS, 'cycleCpuMs') - medianOf(SMALL, 'cycleCpuMs')) * 1000) / (TICKETS - SMALL);
    console.log(
      `peak RSS ${TICKETS} / ${SMALL} tickets = ${ratio(peakRatio)} (limit 1.00×: pages are planned and dropped one at a time); ${(perTicketBytes / 1024).toFixed(2)} KiB per extra ticket`,
    );
    console.log(
      `poll CPU per extra ticket ${cycleUs.toFixed(1)} µs (HTTP, JSON, jira.js and zod validation, planning) = ${(cycleUs / TICKETS_PLANNER_US.value).toFixed(1)}× planning alone`,
    );
    return {
      peakRatio,
      perTicketBytes,
      cycleUs,
      peak: medianOf(TICKETS, 'peak'),
      base: medianOf(TICKETS, 'rssBefore'),
    };
  } finally {
    await small.sandbox.stop();
    await big.sandbox.stop();
  }
}

const cpu = plannerCpu();
const rss = await pollerRss();
summary(
  'planning',
  `${cpu.perTicketUs.toFixed(2)} µs CPU per ticket planned (${(cpu.share * 100).toFixed(3)} % of a ${POLL_INTERVAL_S} s interval at ${TICKETS}); ` +
    `poller peak RSS ${mib(rss.peak)} at ${TICKETS} tickets = ${ratio(rss.peakRatio)} its peak at ${SMALL} (+${(rss.perTicketBytes / 1024).toFixed(2)} KiB/ticket); ` +
    `whole poll ${rss.cycleUs.toFixed(1)} µs CPU per ticket = ${(rss.cycleUs / cpu.perTicketUs).toFixed(1)}× planning alone`,
);
