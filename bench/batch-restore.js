// Benchmark 4, batch restore: racks come back from repair and N tickets go through the whole RMA
// runbook at once, their hosts spread over BENCH_BATCH_SITES sites (default 4) of the simulated
// fleet, each site a domain with its manager, reached by name through the hosts file. The service runs as `runbot start` in a process of its own (its RSS and CPU are
// its own) against the Jira sandbox and the simulated fleet in this process, with real step
// durations divided by RUNBOT_TIME_SCALE. The operator is played here: each Action Required comment
// is followed by moving the ticket on.
//
// Compared with the fleet's own lower bound at the configured concurrency C (runbooks/rma-restore.yaml,
// workflows/rma-restore.yaml). Every job holds a worker slot while it runs, but only three steps
// spend fleet time in one: Sync and Second Sync (storage-sync, 30 min each) and Rebalance (1 h), so
// the slot work is w = 12 s per ticket at the default scale; the gate, memcheck-start, the memtest's
// checks, blacklist removal and the manual step's comment take no fleet time. A pickup is the poller
// noticing a status (one poll interval P, as the bound has always counted it); the memtest (18 s)
// runs on the host from memcheck-start on and is seen done at the first check after it ends, checks
// coming with polls at most once per check interval I, so it adds g = max(I, P) (the check grain);
// the Memcheck Running pickup happens while the memtest runs, inside g, not after it.
//   Old bound ("fleet bound"): max(critical path, N × w / C), the critical path counting 8 pickups
//     in series: Σ step durations + g + 8 P = 35 s; N × w / C = 93.8 s at 1,000 tickets, C = 128.
//   Tighter bound ("pipeline bound"), still a lower bound of what the fleet and the runbook allow:
//     no slot work of any ticket can start before that ticket has been picked up at the gate (P),
//     in Memcheck (P), has run its memtest (18 s) and seen it end (g), and been picked up in Sync
//     (P): the pre-slot path R = 3 P + memtest + g = 20.5 s. All N × w of slot work lies after R, on
//     C slots, and nothing that takes fleet time follows the last slot step (Rebalance's move to
//     Done is a Jira call, and Jira latency and the bot's CPU are not counted). So
//     bound = max(critical path, R + N × w / C) = 114.3 s at 1,000 tickets, C = 128; the critical
//     path counted correctly is 7 pickups in series (Memcheck Running's is inside g): 34.5 s.
//   Both are printed with their ratios; the SUMMARY line uses the pipeline bound and names it.
//   What neither counts: the operator's reaction (the harness moves a ticket on within 100 ms),
//   Jira's latency, the CPU of the service, Redis and the harness.
// Besides the bounds it prints the ramp-up (when the gate emptied, every memtest had started and the
// first ticket reached Sync, counted each second) and the service's poll cycles from its /metrics
// (each 10 s line: cycles in those 10 s and their mean duration): a pickup waits for the cycle.
// Knobs: BENCH_BATCH_TICKETS (1000), BENCH_BATCH_SITES (4), BENCH_BATCH_CONCURRENCY (the service's
// RUNBOT_CONCURRENCY, 128), BENCH_JIRA_CONCURRENCY (its JIRA_CONCURRENCY, Jira calls in flight;
// unset: the service's default, 4), BENCH_TIME_SCALE (600), BENCH_POLL_INTERVAL (0.5 s),
// BENCH_PROFILE_DIR, BENCH_SERVICE_FLAGS (below).
// Stops at BENCH_BATCH_TIMEOUT (270 s, to keep `npm run bench` under 10 minutes on 2 cores); if the
// batch is not through by then, the finishing rate so far is extrapolated, and says so.
import process from 'node:process';
import console from 'node:console';
import { readdirSync, readlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEPLOYED_NODE_FLAGS,
  describeCalls,
  dist,
  heading,
  mib,
  ratio,
  rssOf,
  sum,
  summary,
} from './support/common.js';
import {
  cpuSecondsOf,
  seedBatch,
  startRunbot,
  statusCounts,
  stopRunbot,
  watchBatch,
} from './support/batch.js';

const N = Number(process.env.BENCH_BATCH_TICKETS ?? 1000);
const SITES = Number(process.env.BENCH_BATCH_SITES ?? 4);
const SCALE = Number(process.env.BENCH_TIME_SCALE ?? 600); // 10 min of the real fleet → 1 s here
const CONCURRENCY = Number(process.env.BENCH_BATCH_CONCURRENCY ?? 128);
const POLL_INTERVAL_S = Number(process.env.BENCH_POLL_INTERVAL ?? 0.5);
const TIMEOUT_S = Number(process.env.BENCH_BATCH_TIMEOUT ?? 270);
// BENCH_JIRA_CONCURRENCY: the service's JIRA_CONCURRENCY (Jira calls in flight; unset: the service's default, 4).
const JIRA_CONCURRENCY = process.env.BENCH_JIRA_CONCURRENCY;
const OPERATOR_EVERY_MS = 100;
// BENCH_FRESH_REDIS=1: the batch meets a Redis the service has never used (see "a Redis in use" below).
const FRESH_REDIS = process.env.BENCH_FRESH_REDIS === '1';

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

const { startDemoEnvironment } = await dist('sandbox/demo-env.js');
const { audit } = await dist('sandbox/audit.js');
const { plainText } = await dist('jira/adf.js');
const { RedisEpoch } = await dist('runner/claim.js');
const { Redis } = await import('ioredis');

/**
 * A Redis in use: a deployment's Redis has served jobs long before a batch of repairs comes back,
 * so its claim epoch (src/runner/claim.ts) is old. A new or lost epoch makes every claimed job of
 * the next 2 × RUNBOT_CLAIM_SETTLE settle its claim in Jira (a 5 s wait and a read), since twins of
 * lost jobs may run: a cost of a first start or a Redis loss, not of a batch. So the epoch is made
 * here as the service makes it (the product's own RedisEpoch), already past its young window.
 */
async function epochInUse(redisUrl, prefix) {
  const redis = new Redis(redisUrl);
  try {
    const epoch = new RedisEpoch(redis, { prefix, youngMs: 1 });
    // Young for 1 ms; a read that keeps saying young is a Redis that does not answer.
    for (let tries = 0; (await epoch.read()).young; tries += 1) {
      if (tries >= 1000) throw new Error(`redis at ${redisUrl}: the claim epoch stays young`);
      await sleep(1);
    }
  } finally {
    redis.disconnect();
  }
}

/** The lower bounds, in seconds, from the fleet's durations, the poll interval and C (header). */
function lowerBound() {
  // The memtest is seen done at the first check after it ends: checks come with polls, at most
  // one per check interval, so the wait adds up to max(interval, poll interval) beyond the memtest.
  const checkGrain = Math.max(scaled(REAL.checkInterval), POLL_INTERVAL_S);
  const fleet = scaled(REAL.memtest) + 2 * scaled(REAL.sync) + scaled(REAL.rebalance);
  const slotWork = 2 * scaled(REAL.sync) + scaled(REAL.rebalance);
  const throughput = (N * slotWork) / CONCURRENCY;
  // Old: 8 pickups in series (Waiting for RMA, Memcheck, Memcheck Running, Sync, Blacklist
  // Removal, Second Sync, Enable Alerting, Rebalance).
  const oldCriticalPath = fleet + checkGrain + 8 * POLL_INTERVAL_S;
  const old = Math.max(oldCriticalPath, throughput);
  // Pipeline: Memcheck Running's pickup overlaps the memtest (inside the check grain), so 7 pickups
  // in series; before any slot work, the gate's, Memcheck's and Sync's pickups, the memtest and
  // its grain; after the last slot step, nothing that takes fleet time.
  const criticalPath = fleet + checkGrain + 7 * POLL_INTERVAL_S;
  const preSlot = 3 * POLL_INTERVAL_S + scaled(REAL.memtest) + checkGrain;
  const afterSlots = 0;
  const pipeline = preSlot + throughput + afterSlots;
  return {
    fleet,
    slotWork,
    throughput,
    oldCriticalPath,
    old,
    criticalPath,
    preSlot,
    afterSlots,
    bound: Math.max(criticalPath, pipeline),
  };
}

/** When the batch's front cleared the gate and memcheck-start, and reached the first slot step. */
function rampUp() {
  const at = {};
  const before = new Set(['Waiting for RMA', 'Memcheck', 'Memcheck Running']);
  return {
    note(elapsed, counts) {
      if (at.gateEmpty === undefined && !counts['Waiting for RMA']) at.gateEmpty = elapsed;
      if (at.allStarted === undefined && !counts['Waiting for RMA'] && !counts.Memcheck)
        at.allStarted = elapsed;
      if (at.firstSync === undefined && Object.keys(counts).some((status) => !before.has(status)))
        at.firstSync = elapsed;
    },
    shown: (name) => (at[name] === undefined ? 'never' : `${at[name].toFixed(0)} s`),
  };
}

/** A TCP port free now on 127.0.0.1 (for the service's /metrics). */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The service's poll cycles from its /metrics: `sample()` reads the cycle-duration histogram's sum
 * and count; `since()` gives the cycles and their mean duration since the previous sample.
 */
function pollCycles(port) {
  let last = { sum: 0, count: 0 };
  let latest = { cycles: 0, mean: 0 };
  const value = (text, name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    async sample() {
      try {
        const text = await (await globalThis.fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const now = {
          sum: value(text, 'runbot_poll_cycle_duration_seconds_sum'),
          count: value(text, 'runbot_poll_cycle_duration_seconds_count'),
        };
        const cycles = now.count - last.count;
        latest = { cycles, mean: cycles > 0 ? (now.sum - last.sum) / cycles : 0 };
        last = now;
      } catch {
        // The service is starting or stopping: keep the last figure.
      }
    },
    shown: () => `${latest.cycles} poll cycles, mean ${latest.mean.toFixed(2)} s`,
    total: () => last,
  };
}

/**
 * The jobs the service's worker processed, by decision kind and outcome (runbot_jobs_total), e.g.
 * `checkStep pending`: what each ticket cost in BullMQ jobs, the stale ones included.
 */
async function jobsByKind(port) {
  try {
    const text = await (await globalThis.fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const counts = {};
    for (const [, labels, value] of text.matchAll(/^runbot_jobs_total\{([^}]*)\} (\S+)$/gm)) {
      const label = (name) => new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1];
      const key = `${label('decision')} ${label('outcome')}`;
      counts[key] = (counts[key] ?? 0) + Number(value);
    }
    return counts;
  } catch {
    return undefined; // the service stopped answering: the line says so
  }
}

/** Sockets a process holds open (SSH connections to the fleet, Redis, Jira), from /proc/PID/fd. */
function socketsOf(pid) {
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets += 1;
    } catch {
      // closed between the listing and the read
    }
  }
  return sockets;
}

function startServiceProcess(config, metricsPort) {
  // BENCH_PROFILE_DIR: also write the service's CPU profile there (node --cpu-prof).
  const flags = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  // BENCH_SERVICE_FLAGS: node flags for the service; by default the image's (Dockerfile:
  // NODE_OPTIONS and the ENTRYPOINT's node flags), so the figures are the shipped service's.
  flags.push(...(process.env.BENCH_SERVICE_FLAGS ?? DEPLOYED_NODE_FLAGS).split(' ').filter(Boolean));
  return startRunbot(
    'start',
    config,
    {
      RUNBOT_POLL_INTERVAL: String(POLL_INTERVAL_S),
      RUNBOT_TIME_SCALE: String(SCALE),
      RUNBOT_CONCURRENCY: String(CONCURRENCY),
      RUNBOT_HTTP_PORT: String(metricsPort),
      ...(JIRA_CONCURRENCY ? { JIRA_CONCURRENCY } : {}),
    },
    flags,
  );
}

heading(
  `batch restore: ${N} tickets over ${SITES} sites, RUNBOT_CONCURRENCY ${CONCURRENCY}, JIRA_CONCURRENCY ${JIRA_CONCURRENCY ?? '4 (default)'}, poll every ${POLL_INTERVAL_S} s, time scale ${SCALE}`,
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
  const seedSeconds = await seedBatch(env, { tickets: N, sites: SITES });
  console.log(
    `seeded ${N} tickets (RMAs done), their fleet hosts, ${SITES} inventory sites and their managers in ${seedSeconds.toFixed(1)} s`,
  );
  if (!FRESH_REDIS) await epochInUse(env.config.REDIS_URL, env.config.RUNBOT_QUEUE_PREFIX ?? 'runbot');
  console.log(
    FRESH_REDIS
      ? 'redis: fresh (BENCH_FRESH_REDIS=1): claimed jobs settle their claims for the first 10 s'
      : 'redis: in use before the batch (its claim epoch is old, as in a running deployment)',
  );
  const callsBefore = env.sandbox.requestCounts();
  const harnessCpuBefore = process.cpuUsage();
  const loadBefore = loadavg()[0];
  const redisCpuBefore = cpuSecondsOf(env.redis.pid);

  const metricsPort = await freePort();
  const polls = pollCycles(metricsPort);
  service = startServiceProcess(env.config, metricsPort);
  let peakRss = 0;
  let peakSockets = 0;
  let lastReport = 0;
  let lastSockets = 0;
  let lastRamp = 0;
  const ramp = rampUp();
  const watched = await watchBatch(env, {
    processes: [service],
    timeoutS: TIMEOUT_S,
    everyMs: OPERATOR_EVERY_MS,
    stop: () => interrupted,
    onTick: (elapsed) => {
      try {
        peakRss = Math.max(peakRss, rssOf(service.child.pid).peak);
        if (elapsed - lastSockets >= 1) {
          lastSockets = elapsed;
          peakSockets = Math.max(peakSockets, socketsOf(service.child.pid));
        }
      } catch {
        // The service just exited: the next round's check reports it.
      }
      if (elapsed - lastRamp >= 1) {
        lastRamp = elapsed;
        ramp.note(elapsed, statusCounts(env));
      }
      if (elapsed - lastReport >= 10) {
        lastReport = elapsed;
        // With the poll cycles of these 10 s, printed once the service's /metrics answered.
        const line = `${elapsed.toFixed(0).padStart(5)} s  ${JSON.stringify(statusCounts(env))}`;
        void polls.sample().then(() => console.log(`${line}  (${polls.shown()})`));
      }
    },
  });
  const { done, failed, wall, doneAt } = watched;
  // The last ticket to reach Done (or the failure queue): the batch's wall time.
  const finished = watched.finished;
  await polls.sample();
  const jobs = await jobsByKind(metricsPort);
  const serviceCpu = cpuSecondsOf(service.child.pid);
  const harnessCpu = process.cpuUsage(harnessCpuBefore);
  const redisCpu = cpuSecondsOf(env.redis.pid) - redisCpuBefore;
  peakRss = Math.max(peakRss, rssOf(service.child.pid).peak);
  await stopRunbot(service);

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
  const cycles = polls.total();
  console.log(
    `poll cycles: ${cycles.count}, mean ${(cycles.count > 0 ? cycles.sum / cycles.count : 0).toFixed(2)} s each (+ the ${POLL_INTERVAL_S} s interval between them: a pickup waits for that)`,
  );
  console.log(
    `ramp-up (counted each second): gate empty at ${ramp.shown('gateEmpty')}, every memtest started at ${ramp.shown('allStarted')}, ` +
      `first ticket in Sync at ${ramp.shown('firstSync')} (a ticket can be there at ${bound.preSlot.toFixed(1)} s, the pre-slot path)`,
  );
  console.log(
    `old fleet bound: critical path ${bound.oldCriticalPath.toFixed(1)} s (fleet ${bound.fleet.toFixed(1)} s + memtest check grain + 8 poll pickups × ${POLL_INTERVAL_S} s); ` +
      `worker-slot work ${bound.slotWork.toFixed(2)} s/ticket × ${N} / ${CONCURRENCY} = ${bound.throughput.toFixed(1)} s; bound ${bound.old.toFixed(1)} s`,
  );
  console.log(
    `pipeline bound: pre-slot path ${bound.preSlot.toFixed(1)} s (3 pickups + memtest + check grain) + slot work ${bound.throughput.toFixed(1)} s + ${bound.afterSlots.toFixed(1)} s after the last slot step = ` +
      `${(bound.preSlot + bound.throughput + bound.afterSlots).toFixed(1)} s; critical path ${bound.criticalPath.toFixed(1)} s (7 pickups in series); bound ${bound.bound.toFixed(1)} s`,
  );
  let result;
  const sorted = [...doneAt].sort((a, b) => a - b);
  if (finished) {
    const wallRatio = wall / bound.bound;
    result = `${N} tickets over ${SITES} sites in ${wall.toFixed(1)} s vs pipeline bound ${bound.bound.toFixed(1)} s (C=${CONCURRENCY}) = ${ratio(wallRatio)} (old fleet bound ${bound.old.toFixed(1)} s: ${ratio(wall / bound.old)})${failed > 0 ? ` — ${failed} FAILED to the failure queue` : ''}`;
    console.log(
      `wall ${wall.toFixed(1)} s = ${ratio(wallRatio)} the pipeline bound (${ratio(wall / bound.old)} the old fleet bound)`,
    );
    if (sorted.length > 0)
      console.log(
        `first ticket done at ${sorted[0].toFixed(1)} s (${ratio(sorted[0] / bound.criticalPath)} one ticket's critical path), median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} s`,
      );
  } else {
    // Honest extrapolation: the rate tickets reached Done at, since the first one did.
    const rate = sorted.length > 1 ? (sorted.length - 1) / (sorted.at(-1) - sorted[0]) : 0;
    const extrapolated = rate > 0 ? sorted[0] + (N - 1) / rate : Infinity;
    result = `${N} tickets NOT finished in ${TIMEOUT_S} s (${done} done, ${failed} failed); extrapolated ${extrapolated.toFixed(0)} s vs pipeline bound ${bound.bound.toFixed(1)} s (C=${CONCURRENCY}) = ${ratio(extrapolated / bound.bound)} (old fleet bound ${bound.old.toFixed(1)} s: ${ratio(extrapolated / bound.old)})`;
    console.log(
      `NOT FINISHED within ${TIMEOUT_S} s: at the rate tickets reached Done (${rate.toFixed(1)}/s) all ${N} would take ~${extrapolated.toFixed(0)} s (extrapolated)`,
    );
  }
  console.log(
    `Jira calls ${sum(calls)} = ${(sum(calls) / N).toFixed(1)} per ticket (${(searches / N).toFixed(1)} of them searches); per ticket: ${describeCalls(perTicket)}`,
  );
  console.log(
    jobs === undefined
      ? 'jobs per ticket: the service did not answer /metrics'
      : `jobs per ticket (${(sum(jobs) / N).toFixed(1)}): ${Object.entries(jobs)
          .sort(([, a], [, b]) => b - a)
          .map(([kind, count]) => `${kind} ${(count / N).toFixed(2)}`)
          .join(', ')}`,
  );
  const harnessSeconds = (harnessCpu.user + harnessCpu.system) / 1e6;
  console.log(
    `CPU: service ${serviceCpu.toFixed(1)} s (${((serviceCpu * 1000) / N).toFixed(0)} ms/ticket), Jira sandbox + fleet (this process) ${harnessSeconds.toFixed(1)} s, redis ${redisCpu.toFixed(1)} s; ` +
      `together ${(serviceCpu + harnessSeconds + redisCpu).toFixed(0)} of the ${(wall * 2).toFixed(0)} CPU-s 2 cores offer in ${wall.toFixed(0)} s; ` +
      `load average (1 min) ${loadBefore.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`,
  );
  console.log(
    `service peak RSS ${mib(peakRss)}; most sockets open at once ${peakSockets} (SSH to the fleet, Redis, Jira)`,
  );
  summary(
    'batch-restore',
    `${result}; ${(sum(calls) / N).toFixed(1)} Jira calls/ticket (${(searches / N).toFixed(1)} searches); service peak RSS ${mib(peakRss)}`,
  );
} finally {
  if (service) await stopRunbot(service);
  await env.stop();
}
