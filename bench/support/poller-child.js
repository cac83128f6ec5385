// The poller process of the planning benchmark: the real Jira adapter and one pollOnce against the
// sandbox named by JIRA_URL, in a process of its own so its RSS is the poller's alone. Jobs are
// counted, not queued (no Redis): the queue's memory lives in redis-server, not here.
// Prints one JSON line: RSS before and after, the peak (VmHWM), CPU and wall time of the cycle.
import process from 'node:process';
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import { cpuMs, dist, rssOf } from './common.js';

const { createJiraAdapter } = await dist('jira/index.js');
const { pollOnce } = await dist('service/poller.js');
const { loadDefinitions } = await dist('definitions/index.js');
const { PROJECT_ROOT } = await dist('config.js');
const { createLogger } = await dist('logger.js');

const logger = createLogger({ level: 'warn', destination: process.stderr });
const definitions = await loadDefinitions({ root: PROJECT_ROOT });
const jira = createJiraAdapter({
  url: process.env.JIRA_URL,
  email: process.env.JIRA_EMAIL,
  apiToken: process.env.JIRA_API_TOKEN,
  logger,
});
const enqueued = { count: 0 };
const deps = {
  jira,
  definitions,
  enqueue: async () => void (enqueued.count += 1),
  now: () => new Date(),
  timeScale: 1,
  logger,
};

// BENCH_PLAN_WARM_CYCLES (default 0): cycles run before the measured one, so it measures a poller
// that has polled before (a service polls for hours: what it learnt on earlier cycles, its JIT, and
// its memories' steady state) rather than its first cycle.
const warmCycles = Number(process.env.BENCH_PLAN_WARM_CYCLES ?? 0);
for (let cycle = 0; cycle < warmCycles; cycle += 1) await pollOnce(deps);
enqueued.count = 0;

// Garbage collected first, so the baseline is the steady state of a started poller.
globalThis.gc?.();
const before = rssOf();
const heapBefore = process.memoryUsage().heapUsed;
const cpuBefore = cpuMs();
const started = performance.now();
// Monotonic µs, the clock of --cpu-prof's timestamps: lets a profile be cut to the cycle.
const cycleStartUs = Number(process.hrtime.bigint() / 1000n);
const report = await pollOnce(deps);
const cycleEndUs = Number(process.hrtime.bigint() / 1000n);
const wallMs = performance.now() - started;
const cycleCpuMs = cpuMs() - cpuBefore;
const after = rssOf();
const heapAfter = process.memoryUsage().heapUsed;
globalThis.gc?.();
const afterGc = rssOf();
const heapAfterGc = process.memoryUsage().heapUsed;

console.log(
  JSON.stringify({
    tickets: report.tickets,
    enqueued: enqueued.count,
    decisions: report.decisions,
    calls: jira.calls(),
    rssBefore: before.rss,
    rssAfter: after.rss,
    rssAfterGc: afterGc.rss,
    peak: after.peak,
    heapBefore,
    heapAfter,
    heapAfterGc,
    wallMs,
    cycleCpuMs,
    cycleStartUs,
    cycleEndUs,
  }),
);
