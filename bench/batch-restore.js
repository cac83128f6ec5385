// Benchmark 4, batch restore: a rack comes back from repair and N tickets go through the whole RMA
// runbook at once. The service runs as `runbot start` in a process of its own (its RSS and CPU are
// its own) against the Jira sandbox and the simulated fleet in this process, with real step
// durations divided by RUNBOT_TIME_SCALE. The operator is played here: each Action Required comment
// is followed by moving the ticket on.
// Compared with the fleet's own lower bound at the configured concurrency C:
//   per ticket, the critical path = Σ step durations + one poll interval per status the poller
//   must notice; the worker-slot work = Σ durations of steps that hold a worker (ssh steps);
//   bound = max(critical path, N × work / C).
// Stops at BENCH_BATCH_TIMEOUT (270 s, to keep `npm run bench` under 10 minutes on 2 cores); if the
// batch is not through by then, the finishing rate so far is extrapolated, and says so.
import process from 'node:process';
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import { setTimeout, clearTimeout } from 'node:timers';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeCalls, dist, DIST, heading, mib, ratio, rssOf, sum, summary } from './support/common.js';
import { hostName, peek, seedRestore } from './support/seed.js';

const N = Number(process.env.BENCH_BATCH_TICKETS ?? 1000);
const SCALE = Number(process.env.BENCH_TIME_SCALE ?? 600); // 10 min of the real fleet → 1 s here
const CONCURRENCY = Number(process.env.BENCH_BATCH_CONCURRENCY ?? 128);
const POLL_INTERVAL_S = Number(process.env.BENCH_POLL_INTERVAL ?? 0.5);
const TIMEOUT_S = Number(process.env.BENCH_BATCH_TIMEOUT ?? 270);
const OPERATOR_EVERY_MS = 100;

/** Real durations of the RMA runbook's steps on the fleet (seconds), before scaling. */
const REAL = {
  memtest: 3 * 3600, // `memcheck start --passes 2` on a large server
  sync: 30 * 60, // storage-sync of one node (twice: Sync and Second Sync)
  rebalance: 3600, // storage-rebalance onto the restored node
  checkInterval: 10 * 60, // memcheck-wait's interval in runbooks/rma-restore.yaml
};
const scaled = (seconds) => seconds / SCALE;
const profile = {
  memtestMs: scaled(REAL.memtest) * 1000,
  syncMs: scaled(REAL.sync) * 1000,
  rebalanceMs: scaled(REAL.rebalance) * 1000,
};

const { fleetSites, startDemoEnvironment } = await dist('sandbox/demo-env.js');
const { audit } = await dist('sandbox/audit.js');
const { plainText } = await dist('jira/adf.js');

/** The lower bound, in seconds, from the fleet's durations, the poll interval and C. */
function lowerBound() {
  // Statuses the poller must notice before anything happens: Waiting for RMA (gate), Memcheck,
  // Memcheck Running, Sync, Blacklist Removal, Second Sync, Enable Alerting, Rebalance.
  const pickups = 8;
  // The memtest is seen done at the first check after it ends: checks come with polls, at most
  // one per check interval, so the wait adds up to max(interval, poll interval) beyond the memtest.
  const checkGrain = Math.max(scaled(REAL.checkInterval), POLL_INTERVAL_S);
  const fleet = scaled(REAL.memtest) + 2 * scaled(REAL.sync) + scaled(REAL.rebalance);
  const criticalPath = fleet + checkGrain + pickups * POLL_INTERVAL_S;
  const slotWork = 2 * scaled(REAL.sync) + scaled(REAL.rebalance);
  const throughput = (N * slotWork) / CONCURRENCY;
  return { fleet, criticalPath, slotWork, throughput, bound: Math.max(criticalPath, throughput) };
}

/**
 * What the demo environment's seedTicket does, in bulk: a fleet host per ticket, one inventory site
 * per domain, pinned host keys and the hosts file, and the tickets written to the
 * sandbox's store. seedTicket rewrites the inventory and known_hosts per ticket and creates tickets
 * through HTTP: 45 s at 1,000 tickets, a quarter of the budget, measuring nothing.
 */
async function seedBatch(env, count) {
  const hosts = fleetSites(env.fleet, {
    inventory: env.config.RUNBOT_INVENTORY,
    knownHosts: env.config.RUNBOT_KNOWN_HOSTS,
    hosts: env.config.RUNBOT_HOSTS_FILE,
  });
  for (let index = 0; index < count; index += 1) {
    const host = hostName(index);
    await hosts.add(host);
    // The rack is back: every RMA is repaired, so every ticket can start at once.
    const { key, rma } = seedRestore(env.sandbox, env.workflow, {
      host,
      status: 'Waiting for RMA',
      rmaDone: true,
    });
    env.tickets.push({ key, host, rma });
  }
  await hosts.write();
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
function cpuSecondsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

function startServiceProcess(config) {
  const env = {
    PATH: process.env.PATH,
    JIRA_URL: config.JIRA_URL,
    JIRA_EMAIL: config.JIRA_EMAIL,
    JIRA_API_TOKEN: config.JIRA_API_TOKEN,
    REDIS_URL: config.REDIS_URL,
    RUNBOT_HTTP_PORT: '0',
    RUNBOT_INVENTORY: config.RUNBOT_INVENTORY,
    RUNBOT_SSH_KEY: config.RUNBOT_SSH_KEY,
    RUNBOT_KNOWN_HOSTS: config.RUNBOT_KNOWN_HOSTS,
    RUNBOT_HOSTS_FILE: config.RUNBOT_HOSTS_FILE,
    RUNBOT_POLL_INTERVAL: String(POLL_INTERVAL_S),
    RUNBOT_TIME_SCALE: String(SCALE),
    RUNBOT_CONCURRENCY: String(CONCURRENCY),
    RUNBOT_LOG_LEVEL: 'warn',
    RUNBOT_LOG_PRETTY: 'false',
  };
  // BENCH_PROFILE_DIR: also write the service's CPU profile there (node --cpu-prof).
  const profiling = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  // BENCH_SERVICE_FLAGS: node flags for the service, e.g. --max-old-space-size=384 (how much of
  // the peak RSS is garbage V8 had not needed to collect yet).
  profiling.push(...(process.env.BENCH_SERVICE_FLAGS ?? '').split(' ').filter(Boolean));
  const child = spawn(process.execPath, [...profiling, path.join(DIST, 'cli.js'), 'start'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = [];
  const keep = (chunk) => {
    tail.push(chunk.toString());
    if (tail.length > 50) tail.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { child, tail };
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM'); // drains: running steps finish
  const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 45_000);
  await exited;
  clearTimeout(timer);
}

function statusCounts(env) {
  const counts = {};
  for (const ticket of env.tickets) {
    const status = peek(env.sandbox, ticket.key)?.status ?? 'missing';
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

heading(
  `batch restore: ${N} tickets, RUNBOT_CONCURRENCY ${CONCURRENCY}, poll every ${POLL_INTERVAL_S} s, time scale ${SCALE}`,
);
console.log(
  `real durations: memtest ${REAL.memtest / 3600} h, storage-sync ${REAL.sync / 60} min (×2), rebalance ${REAL.rebalance / 3600} h, check interval ${REAL.checkInterval / 60} min; ` +
    `scaled: ${(profile.memtestMs / 1000).toFixed(2)} s, ${(profile.syncMs / 1000).toFixed(2)} s, ${(profile.rebalanceMs / 1000).toFixed(2)} s, ${scaled(REAL.checkInterval).toFixed(3)} s`,
);
const env = await startDemoEnvironment({ profile });
// Ctrl-C ends the run early but still stops the service, redis-server and the fleet.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => (interrupted = true));
let service;
try {
  const seeding = performance.now();
  await seedBatch(env, N);
  const seedSeconds = (performance.now() - seeding) / 1000;
  console.log(
    `seeded ${N} tickets (RMAs done), fleet hosts and inventory sites in ${seedSeconds.toFixed(1)} s`,
  );
  const callsBefore = env.sandbox.requestCounts();
  const harnessCpuBefore = process.cpuUsage();
  const redisCpuBefore = cpuSecondsOf(env.redis.pid);

  service = startServiceProcess(env.config);
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let peakRss = 0;
  let lastReport = 0;
  let done = 0;
  let failed = 0;
  const doneAt = [];
  while (done + failed < N) {
    if (service.child.exitCode !== null)
      throw new Error(`bench: runbot start exited ${service.child.exitCode}:\n${service.tail.join('')}`);
    if (elapsed() > TIMEOUT_S || interrupted) break;
    done = 0;
    failed = 0;
    for (const ticket of env.tickets) {
      const issue = peek(env.sandbox, ticket.key);
      if (issue?.status === env.workflow.failure) failed += 1;
      if (issue?.status === env.workflow.done) {
        done += 1;
        if (!ticket.doneAt) {
          ticket.doneAt = elapsed();
          doneAt.push(ticket.doneAt);
        }
      } else if (issue?.status === 'Enable Alerting' && issue.properties.runbot?.instructed === true) {
        env.sandbox.moveAsHuman(ticket.key, 'Rebalance'); // the operator enabled alerting
      }
    }
    try {
      peakRss = Math.max(peakRss, rssOf(service.child.pid).peak);
    } catch {
      // The service just exited: let its exit event arrive; the check at the loop's top reports it.
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    if (elapsed() - lastReport >= 10) {
      lastReport = elapsed();
      console.log(`${elapsed().toFixed(0).padStart(5)} s  ${JSON.stringify(statusCounts(env))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, OPERATOR_EVERY_MS));
  }
  const finished = done + failed === N;
  // The last ticket to reach Done (or the failure queue): the batch's wall time.
  const wall = finished ? elapsed() : elapsed();
  const serviceCpu = cpuSecondsOf(service.child.pid);
  const harnessCpu = process.cpuUsage(harnessCpuBefore);
  const redisCpu = cpuSecondsOf(env.redis.pid) - redisCpuBefore;
  peakRss = Math.max(peakRss, rssOf(service.child.pid).peak);
  await stopChild(service.child);

  const calls = Object.fromEntries(
    Object.entries(env.sandbox.requestCounts())
      .map(([endpoint, count]) => [endpoint, count - (callsBefore[endpoint] ?? 0)])
      .filter(([, count]) => count > 0),
  );
  const searches = Object.entries(calls)
    .filter(([endpoint]) => endpoint.includes('/search/'))
    .reduce((total, [, count]) => total + count, 0);
  const perTicket = Object.fromEntries(
    Object.entries(calls).map(([endpoint, count]) => [endpoint, count / N]),
  );
  const bound = lowerBound();
  const found = audit(env.sandbox, env.fleet, env.tickets);

  // Steps running at the deadline finish while the service drains; count again after it stopped.
  console.log(`status after the service stopped: ${JSON.stringify(statusCounts(env))}`);
  console.log(
    `tickets done ${done}/${N}, to the failure queue ${failed}; duplicate steps ${found.duplicateSteps}, duplicate comments ${found.duplicateComments}`,
  );
  if (failed > 0) {
    // Why they failed: the first line of the bot's last comment on each.
    const reasons = {};
    for (const ticket of env.tickets) {
      const snapshot = env.sandbox.snapshot(ticket.key);
      if (snapshot?.status !== env.workflow.failure) continue;
      const reason = plainText(snapshot.comments.at(-1)?.body).split('\n')[0].slice(0, 80);
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    console.log(`why tickets failed: ${JSON.stringify(reasons)}`);
  }
  console.log(
    `lower bound: one ticket's critical path ${bound.criticalPath.toFixed(1)} s (fleet ${bound.fleet.toFixed(1)} s + memtest check grain + 8 poll pickups × ${POLL_INTERVAL_S} s); ` +
      `worker-slot work ${bound.slotWork.toFixed(2)} s/ticket × ${N} / ${CONCURRENCY} = ${bound.throughput.toFixed(1)} s; bound ${bound.bound.toFixed(1)} s`,
  );
  let result;
  const sorted = [...doneAt].sort((a, b) => a - b);
  if (finished) {
    const wallRatio = wall / bound.bound;
    result = `${N} tickets in ${wall.toFixed(1)} s vs bound ${bound.bound.toFixed(1)} s (C=${CONCURRENCY}) = ${ratio(wallRatio)}${failed > 0 ? ` — ${failed} FAILED to the failure queue` : ''}`;
    console.log(`wall ${wall.toFixed(1)} s = ${ratio(wallRatio)} the bound`);
    if (sorted.length > 0)
      console.log(
        `first ticket done at ${sorted[0].toFixed(1)} s (${ratio(sorted[0] / bound.criticalPath)} one ticket's critical path), median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} s`,
      );
  } else {
    // Honest extrapolation: the rate tickets reached Done at, since the first one did.
    const rate = sorted.length > 1 ? (sorted.length - 1) / (sorted.at(-1) - sorted[0]) : 0;
    const extrapolated = rate > 0 ? sorted[0] + (N - 1) / rate : Infinity;
    result = `${N} tickets NOT finished in ${TIMEOUT_S} s (${done} done, ${failed} failed); extrapolated ${extrapolated.toFixed(0)} s vs bound ${bound.bound.toFixed(1)} s (C=${CONCURRENCY}) = ${ratio(extrapolated / bound.bound)}`;
    console.log(
      `NOT FINISHED within ${TIMEOUT_S} s: at the rate tickets reached Done (${rate.toFixed(1)}/s) all ${N} would take ~${extrapolated.toFixed(0)} s (extrapolated)`,
    );
  }
  console.log(
    `Jira calls ${sum(calls)} = ${(sum(calls) / N).toFixed(1)} per ticket (${(searches / N).toFixed(1)} of them searches); per ticket: ${describeCalls(perTicket)}`,
  );
  const harnessSeconds = (harnessCpu.user + harnessCpu.system) / 1e6;
  console.log(
    `CPU: service ${serviceCpu.toFixed(1)} s (${((serviceCpu * 1000) / N).toFixed(0)} ms/ticket), Jira sandbox + fleet (this process) ${harnessSeconds.toFixed(1)} s, redis ${redisCpu.toFixed(1)} s; ` +
      `together ${(serviceCpu + harnessSeconds + redisCpu).toFixed(0)} of the ${(wall * 2).toFixed(0)} CPU-s 2 cores offer in ${wall.toFixed(0)} s`,
  );
  console.log(`service peak RSS ${mib(peakRss)}`);
  summary(
    'batch-restore',
    `${result}; ${(sum(calls) / N).toFixed(1)} Jira calls/ticket (${(searches / N).toFixed(1)} searches); service peak RSS ${mib(peakRss)}`,
  );
} finally {
  if (service) await stopChild(service.child);
  await env.stop();
}
