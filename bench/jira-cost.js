// Benchmark 1, Jira cost: calls the bot makes, counted by the real adapter (calls()), against the
// fewest calls the design allows.
//   A. one poll cycle over 1,000 idle tickets vs the number of search pages, ceil(1000 / 100);
//   B. calls per completed step, by step kind, with tickets walked through the whole RMA runbook by
//      the real poller (pollOnce) and the real worker processor against the sandbox and the
//      simulated fleet (real SshRunner). Jobs run one at a time, so each call is attributed exactly.
import process from 'node:process';
import console from 'node:console';
import { Buffer } from 'node:buffer';
import { setTimeout } from 'node:timers';
import {
  callTotals,
  describeCalls,
  diffTotals,
  dist,
  heading,
  quietLogger,
  ratio,
  sum,
  summary,
} from './support/common.js';
import { hostName, peek, seedRestore } from './support/seed.js';

const IDLE_TICKETS = Number(process.env.BENCH_IDLE_TICKETS ?? 1000);
const WALKED_TICKETS = Number(process.env.BENCH_WALKED_TICKETS ?? 20);
const PAGE_SIZE = 100; // the adapter's maxResults (src/jira/adapter.ts PAGE_SIZE)

const { createJiraAdapter } = await dist('jira/index.js');
const { pollOnce } = await dist('service/poller.js');
const { createRunner } = await dist('runner/runner.js');
const { outcomeLabel } = await dist('runner/outcome.js');
const { jobId } = await dist('queue/index.js');
const { loadDefinitions } = await dist('definitions/index.js');
const { PROJECT_ROOT } = await dist('config.js');
const { JiraSandbox } = await dist('sandbox/jira/index.js');
const { restoreProject, RMA_PROJECT, HOST_FIELD } = await dist('sandbox/rma-jira.js');
const { startDemoEnvironment, DEMO_CREDENTIALS } = await dist('sandbox/demo-env.js');
const { SshRunner } = await dist('executors/ssh/index.js');

const logger = await quietLogger();

function adapterFor(url) {
  return createJiraAdapter({ url, ...DEMO_CREDENTIALS, logger });
}

/** The project type of a ticket's project, as Jira's GET issue names it. */
async function projectType(url, key) {
  const auth = Buffer.from(`${DEMO_CREDENTIALS.email}:${DEMO_CREDENTIALS.apiToken}`).toString('base64');
  const response = await globalThis.fetch(`${url}/rest/api/3/issue/${key}?fields=project`, {
    headers: { authorization: `Basic ${auth}` },
  });
  if (!response.ok) throw new Error(`bench: GET issue ${key} answered ${response.status}`);
  const issue = await response.json();
  return issue.fields?.project?.projectTypeKey;
}

async function idlePollCycle() {
  heading(`A. one poll cycle, ${IDLE_TICKETS} idle tickets`);
  const definitions = await loadDefinitions({ root: PROJECT_ROOT });
  const workflow = definitions.workflows.get('rma-restore');
  const sandbox = new JiraSandbox({
    projects: [restoreProject(workflow), RMA_PROJECT],
    customFields: [HOST_FIELD],
    credentials: DEMO_CREDENTIALS,
  });
  const url = await sandbox.start(0, '127.0.0.1');
  // Idle: half wait for an RMA still open, half wait for a person after the Action Required comment.
  for (let index = 0; index < IDLE_TICKETS; index += 1) {
    const host = hostName(index);
    if (index % 2 === 0) {
      seedRestore(sandbox, workflow, { host, status: 'Waiting for RMA', rmaDone: false });
    } else {
      const bookkeeping = {
        status: 'Enable Alerting',
        visit: 6,
        enteredAt: new Date().toISOString(),
        instructed: true,
      };
      seedRestore(sandbox, workflow, { host, status: 'Enable Alerting', bookkeeping });
    }
  }
  const jira = adapterFor(url);
  const jobs = [];
  const report = await pollOnce({
    jira,
    definitions,
    enqueue: async (job) => void jobs.push(job),
    now: () => new Date(),
    timeScale: 1,
    logger,
  });
  const calls = callTotals(jira.calls());
  await sandbox.stop();
  const minimum = Math.ceil(IDLE_TICKETS / PAGE_SIZE);
  const made = sum(calls);
  console.log(`tickets seen ${report.tickets}, jobs enqueued ${jobs.length} (idle: expected 0)`);
  console.log(`calls ${made} (${describeCalls(calls)}); minimum ${minimum} search pages of ${PAGE_SIZE}`);
  console.log(`ratio to minimum ${ratio(made / minimum)}`);
  return { made, minimum, enqueued: jobs.length, seen: report.tickets };
}

/** The fewest calls per completed step the design allows, and why (see docs/benchmarks.md). */
const DESIGN_MINIMUM = {
  gate: {
    calls: 2,
    exclusive: 1,
    why:
      'GET issue?expand=transitions (consistent re-read + transition id) + POST transition; ' +
      'an exclusive workflow (the shipped one) + 1 search for the host’s holders',
  },
  ssh: {
    calls: 4,
    serviceDesk: 1,
    why:
      'GET re-read + PUT running marker + GET issue?expand=transitions (fresh, after the step ran) + POST transition; ' +
      'in a service project (the sandbox’s) + POST comment: the report is its own internal comment, posted before that GET, ' +
      'which brings the comments and so is its read-back too',
  },
  wait: {
    calls: 2,
    perRound: 1,
    serviceDesk: 1,
    why:
      '1 GET re-read per check round (light: fields and bookkeeping; the first in full), then a full GET with the transitions before the move (after the check, so a person’s move wins) + POST transition; ' +
      'in a service project + POST comment (the report, as for ssh)',
  },
  manual: { calls: 3, why: 'GET re-read + POST comment + PUT instructed (the transition is the person’s)' },
};

async function walkedSteps() {
  heading(`B. calls per completed step, ${WALKED_TICKETS} tickets through the RMA runbook`);
  // Realistic shape, seconds instead of hours: a short memtest so the wait step takes a few rounds.
  const env = await startDemoEnvironment({ profile: { memtestMs: 1500, syncMs: 0, rebalanceMs: 0 } });
  try {
    for (let index = 0; index < WALKED_TICKETS; index += 1) await env.seedTicket(hostName(index));
    const definitions = await loadDefinitions({ root: PROJECT_ROOT, inventory: env.config.RUNBOT_INVENTORY });
    const jira = adapterFor(env.config.JIRA_URL);
    const runner = new SshRunner({
      privateKey: env.config.RUNBOT_SSH_KEY,
      knownHostsFile: env.config.RUNBOT_KNOWN_HOSTS,
      // The fleet's names resolve through the hosts file the sandbox writes, as in a deployment.
      hostsFile: env.config.RUNBOT_HOSTS_FILE,
      logger,
    });
    const timeScale = env.config.RUNBOT_TIME_SCALE;
    const now = () => new Date();
    const processStep = createRunner({
      jira,
      runner,
      definitions,
      now,
      dryRun: false,
      logger,
      timeScale,
    });
    const byStatus = new Map(); // status → { kind, visits:Set, jobs, calls:{}, outcomes:{} }
    const seen = new Set(); // job ids BullMQ would still hold (completed jobs are kept for an hour)
    const dueAgain = new Map(); // job id → when a job put back for its next round (`again`) is due
    const pollCalls = {};
    let cycles = 0;
    const started = Date.now();
    const workflow = env.workflow;
    // In a service project a report that quotes commands is posted as its own internal comment (src/jira/moves.ts).
    const serviceDesk = (await projectType(env.config.JIRA_URL, env.tickets[0].key)) === 'service_desk';
    console.log(
      `project type: ${serviceDesk ? 'service_desk (reports as internal comments)' : 'not a service project'}`,
    );
    const allDone = () => env.tickets.every((t) => peek(env.sandbox, t.key)?.status === workflow.done);
    while (!allDone()) {
      if (Date.now() - started > 60_000) throw new Error('bench: walked tickets did not finish within 60 s');
      const jobs = [];
      const before = callTotals(jira.calls());
      await pollOnce({
        jira,
        definitions,
        enqueue: async (job) => void jobs.push(job),
        now,
        timeScale,
        logger,
      });
      cycles += 1;
      for (const [endpoint, count] of Object.entries(diffTotals(callTotals(jira.calls()), before)))
        pollCalls[endpoint] = (pollCalls[endpoint] ?? 0) + count;
      for (const job of jobs) {
        const id = jobId(job);
        if (seen.has(id) && !((dueAgain.get(id) ?? Infinity) <= Date.now())) continue;
        seen.add(id);
        dueAgain.delete(id);
        const callsBefore = callTotals(jira.calls());
        const result = await processStep(job, { number: 1, last: true });
        if (result.kind === 'again') dueAgain.set(id, Date.now() + result.delayMs);
        const outcome =
          result.kind === 'done' || result.kind === 'again' || result.kind === 'stale'
            ? outcomeLabel(result)
            : result.kind;
        const calls = diffTotals(callTotals(jira.calls()), callsBefore);
        const entry = byStatus.get(job.status) ?? {
          kinds: new Set(),
          visits: new Set(),
          jobs: 0,
          calls: {},
          outcomes: {},
        };
        entry.kinds.add(job.kind);
        entry.visits.add(`${job.key}/${job.visit}`);
        entry.jobs += 1;
        entry.outcomes[outcome] = (entry.outcomes[outcome] ?? 0) + 1;
        for (const [endpoint, count] of Object.entries(calls))
          entry.calls[endpoint] = (entry.calls[endpoint] ?? 0) + count;
        byStatus.set(job.status, entry);
      }
      // The operator: follows each Action Required comment by moving the ticket on.
      for (const ticket of env.tickets) {
        const issue = peek(env.sandbox, ticket.key);
        if (issue?.status === 'Enable Alerting' && issue.properties.runbot?.instructed === true)
          env.sandbox.moveAsHuman(ticket.key, 'Rebalance');
      }
      // A poll cycle's pause (the service's RUNBOT_POLL_INTERVAL, here 0.1 s).
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await runner.close();

    const kindOf = (status) => {
      if (status === workflow.gate?.status) return 'gate';
      const step = definitions.runbooks.get(workflow.runbook)?.runbook.steps[
        workflow.statuses[status]?.step ?? ''
      ];
      return step?.kind ?? 'other';
    };
    const rows = [];
    for (const [status, entry] of byStatus) {
      const kind = kindOf(status);
      const visits = entry.visits.size;
      const perVisit = sum(entry.calls) / visits;
      const rounds = entry.jobs / visits;
      const min = DESIGN_MINIMUM[kind];
      const minimum =
        min.calls +
        (kind === 'wait' ? rounds * min.perRound : 0) +
        (kind === 'gate' && workflow.exclusive ? min.exclusive : 0) +
        (serviceDesk ? (min.serviceDesk ?? 0) : 0);
      const perVisitCalls = Object.fromEntries(Object.entries(entry.calls).map(([e, c]) => [e, c / visits]));
      rows.push({
        status,
        kind,
        visits,
        jobs: entry.jobs,
        perVisit,
        minimum,
        perVisitCalls,
        outcomes: entry.outcomes,
      });
    }
    for (const row of rows) {
      const roundText = row.kind === 'wait' ? ` (${(row.jobs / row.visits).toFixed(1)} check rounds)` : '';
      console.log(
        `${row.status.padEnd(18)} ${row.kind.padEnd(6)} ${row.perVisit.toFixed(2)} calls/visit vs min ${row.minimum.toFixed(1)}${roundText} = ${ratio(row.perVisit / row.minimum)}; ${describeCalls(row.perVisitCalls)}; outcomes ${JSON.stringify(row.outcomes)}`,
      );
    }
    const searches = sum(pollCalls);
    console.log(
      `poll: ${cycles} cycles, ${searches} search calls (${(searches / cycles).toFixed(2)} per cycle for ${WALKED_TICKETS} tickets)`,
    );
    for (const [kind, min] of Object.entries(DESIGN_MINIMUM))
      console.log(`design minimum, ${kind}: ${min.why}`);
    return rows;
  } finally {
    await env.stop();
  }
}

const idle = await idlePollCycle();
const rows = await walkedSteps();
const pick = (kind) => rows.filter((row) => row.kind === kind);
const mean = (list, field) =>
  list.reduce((a, row) => a + row[field] * row.visits, 0) / list.reduce((a, row) => a + row.visits, 0);
const ssh = pick('ssh');
const manual = pick('manual');
const gate = pick('gate');
const wait = pick('wait');
summary(
  'jira-cost',
  `idle poll ${idle.made} calls / ${idle.minimum} pages = ${ratio(idle.made / idle.minimum)}; ` +
    `automated step ${mean(ssh, 'perVisit').toFixed(2)} / ${mean(ssh, 'minimum')} = ${ratio(mean(ssh, 'perVisit') / mean(ssh, 'minimum'))}; ` +
    `manual step ${mean(manual, 'perVisit').toFixed(2)} / ${mean(manual, 'minimum')} = ${ratio(mean(manual, 'perVisit') / mean(manual, 'minimum'))}; ` +
    `gate ${mean(gate, 'perVisit').toFixed(2)} / ${mean(gate, 'minimum')} = ${ratio(mean(gate, 'perVisit') / mean(gate, 'minimum'))}; ` +
    `wait step ${mean(wait, 'perVisit').toFixed(2)} / ${mean(wait, 'minimum').toFixed(1)} = ${ratio(mean(wait, 'perVisit') / mean(wait, 'minimum'))}`,
);
