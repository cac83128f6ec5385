// Benchmark: scaling out workers. The same batch of N restore tickets goes through the whole RMA
// runbook with one `runbot poll` and 1, 2, then 4 `runbot work` processes on one Redis, each worker
// process with the same RUNBOT_CONCURRENCY C, so the slots double with each step. Each run gets a
// fresh Jira sandbox, simulated fleet and redis-server (this process hosts the sandbox and the
// fleet, as in batch-restore.js); the operator is played here. Printed per run: the batch's wall
// time, tickets/s, the speed-up over one worker process, the fleet's lower bound for that many
// slots, and the duplicate steps and comments the audit finds (src/sandbox/audit.ts: a step command
// a host received more often than the bot reported running it; the same bot comment twice).
//
// The hosts sit in a few sites (`node-NNNNN.dcK.internal`, one site per domain with its manager,
// reached by name through the hosts file); every worker process takes work from every site's queue. The steps that hold a worker slot
// (two storage syncs and a rebalance) are made long enough, by the time scale, for the slots to be
// the bottleneck: then throughput follows the slots if no process sits on jobs it cannot run.
import process from 'node:process';
import console from 'node:console';
import { dist, heading, ratio, summary } from './support/common.js';
import { cpuSecondsOf, seedBatch, startRunbot, stopRunbot, watchBatch } from './support/batch.js';

const N = Number(process.env.BENCH_SCALING_TICKETS ?? 96);
const SITES = Number(process.env.BENCH_SCALING_SITES ?? 4);
const CONCURRENCY = Number(process.env.BENCH_SCALING_CONCURRENCY ?? 4);
const WORKERS = (process.env.BENCH_SCALING_WORKERS ?? '1,2,4').split(',').map(Number);
const SCALE = Number(process.env.BENCH_SCALING_TIME_SCALE ?? 1200); // 20 min of the real fleet → 1 s here
const POLL_INTERVAL_S = Number(process.env.BENCH_POLL_INTERVAL ?? 0.5);
const TIMEOUT_S = Number(process.env.BENCH_SCALING_TIMEOUT ?? 400);
const OPERATOR_EVERY_MS = 100;

/** Real durations of the RMA runbook's steps on the fleet (seconds), before scaling (batch-restore.js). */
const REAL = { memtest: 3 * 3600, sync: 30 * 60, rebalance: 3600, checkInterval: 10 * 60 };
const scaled = (seconds) => seconds / SCALE;
const profile = {
  memtestMs: scaled(REAL.memtest) * 1000,
  syncMs: scaled(REAL.sync) * 1000,
  rebalanceMs: scaled(REAL.rebalance) * 1000,
};

const { startDemoEnvironment } = await dist('sandbox/demo-env.js');
const { audit } = await dist('sandbox/audit.js');

/** The lower bound, in seconds, with `slots` worker slots in all (as batch-restore.js computes it). */
function lowerBound(slots) {
  const pickups = 8; // statuses the poller must notice: gate, Memcheck, … Rebalance
  const checkGrain = Math.max(scaled(REAL.checkInterval), POLL_INTERVAL_S);
  const criticalPath =
    scaled(REAL.memtest) +
    2 * scaled(REAL.sync) +
    scaled(REAL.rebalance) +
    checkGrain +
    pickups * POLL_INTERVAL_S;
  const slotWork = 2 * scaled(REAL.sync) + scaled(REAL.rebalance);
  const throughput = (N * slotWork) / slots;
  return { criticalPath, slotWork, throughput, bound: Math.max(criticalPath, throughput) };
}

/** One batch with `workers` worker processes; returns its figures. */
async function runBatch(workers) {
  const env = await startDemoEnvironment({ profile });
  const processes = [];
  const settings = {
    RUNBOT_POLL_INTERVAL: String(POLL_INTERVAL_S),
    RUNBOT_TIME_SCALE: String(SCALE),
    RUNBOT_CONCURRENCY: String(CONCURRENCY),
  };
  try {
    await seedBatch(env, { tickets: N, sites: SITES });
    processes.push(startRunbot('poll', env.config, settings));
    for (let i = 0; i < workers; i += 1) processes.push(startRunbot('work', env.config, settings));
    const { done, failed, wall } = await watchBatch(env, {
      processes,
      timeoutS: TIMEOUT_S,
      everyMs: OPERATOR_EVERY_MS,
    });
    const cpu = (role) =>
      processes.filter((p) => p.role === role).reduce((total, p) => total + cpuSecondsOf(p.child.pid), 0);
    const workerCpu = cpu('work');
    const pollerCpu = cpu('poll');
    await Promise.all(processes.map(stopRunbot));
    const found = audit(env.sandbox, env.fleet, env.tickets);
    return {
      workers,
      finished: done + failed === N,
      done,
      failed,
      wall,
      rate: done / wall,
      bound: lowerBound(workers * CONCURRENCY),
      duplicateSteps: found.duplicateSteps,
      duplicateComments: found.duplicateComments,
      workerCpu,
      pollerCpu,
    };
  } finally {
    await Promise.all(processes.map(stopRunbot));
    await env.stop();
  }
}

heading(
  `worker scaling: ${N} tickets over ${SITES} sites, one poller and ${WORKERS.join(', ')} worker processes of RUNBOT_CONCURRENCY ${CONCURRENCY}, poll every ${POLL_INTERVAL_S} s, time scale ${SCALE}`,
);
console.log(
  `scaled durations: memtest ${(profile.memtestMs / 1000).toFixed(2)} s, storage-sync ${(profile.syncMs / 1000).toFixed(2)} s (×2), rebalance ${(profile.rebalanceMs / 1000).toFixed(2)} s; ` +
    `slot work ${lowerBound(1).slotWork.toFixed(2)} s per ticket, one ticket's critical path ${lowerBound(1).criticalPath.toFixed(1)} s`,
);
const results = [];
for (const workers of WORKERS) {
  const result = await runBatch(workers);
  results.push(result);
  const base = results[0];
  console.log(
    `${workers} worker process${workers === 1 ? '' : 'es'} (${workers * CONCURRENCY} slots): ` +
      `${result.finished ? '' : `NOT FINISHED in ${TIMEOUT_S} s, `}${result.done}/${N} done, ${result.failed} to the failure queue, in ${result.wall.toFixed(1)} s = ${result.rate.toFixed(2)} tickets/s` +
      ` (${ratio(result.rate / base.rate)} one process's); bound ${result.bound.bound.toFixed(1)} s → wall ${ratio(result.wall / result.bound.bound)} the bound; ` +
      `duplicate steps ${result.duplicateSteps}, duplicate comments ${result.duplicateComments}; ` +
      `CPU workers ${((result.workerCpu * 1000) / N).toFixed(0)} ms/ticket, poller ${((result.pollerCpu * 1000) / N).toFixed(0)} ms/ticket`,
  );
}
const duplicates = results.reduce((total, r) => total + r.duplicateSteps, 0);
summary(
  'worker-scaling',
  results
    .map(
      (r) =>
        `${r.workers}w ${r.rate.toFixed(2)} t/s (${ratio(r.rate / results[0].rate)})${r.finished ? '' : ' unfinished'}`,
    )
    .join(', ') + `; ${N} tickets, C=${CONCURRENCY} per process; duplicate steps ${duplicates}`,
);
