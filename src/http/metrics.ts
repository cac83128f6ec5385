// Prometheus metrics (prom-client), one registry per service instance. The golden signals per step
// kind and workflow (traffic: started; errors: failed; latency: duration), saturation (queue depth,
// age of the oldest waiting job), Jira calls by endpoint and outcome with 429s and backoff time,
// poll cycles and their lag, tickets by status, and manual steps by kind (what to automate next).
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Definitions } from '../definitions/index.js';
import type { ActionableDecision } from '../planner/index.js';
import type { StepJob } from '../queue/index.js';

/** Seconds; from sub-second gate moves to hours-long memtests. */
const STEP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800, 7200];

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'runbot_' });
  const registers = [registry];
  const stepLabels = ['workflow', 'kind', 'step'] as const;
  let lastCycleEnd: number | undefined;

  const metrics = {
    registry,
    stepsStarted: new Counter({
      name: 'runbot_steps_started_total',
      help: 'Step jobs a worker began acting on (after its fresh re-plan), by workflow, step kind and step',
      labelNames: stepLabels,
      registers,
    }),
    stepsSucceeded: new Counter({
      name: 'runbot_steps_succeeded_total',
      help: 'Step jobs that did what they were for (moved the ticket on, posted instructions)',
      labelNames: stepLabels,
      registers,
    }),
    stepsFailed: new Counter({
      name: 'runbot_steps_failed_total',
      help: 'Step jobs that failed: the ticket went to the failure status, was escalated, or the job threw',
      labelNames: stepLabels,
      registers,
    }),
    stepDuration: new Histogram({
      name: 'runbot_step_duration_seconds',
      help: 'Time one step job took, from its fresh re-plan to its outcome, by workflow, step kind and step',
      labelNames: stepLabels,
      buckets: STEP_BUCKETS,
      registers,
    }),
    jobs: new Counter({
      name: 'runbot_jobs_total',
      help: 'Jobs processed, by workflow, decision kind and detailed outcome (stale and duplicate included)',
      labelNames: ['workflow', 'decision', 'outcome'],
      registers,
    }),
    manualSteps: new Counter({
      name: 'runbot_manual_steps_total',
      help: 'Work handed to a person, by workflow, step and reason (runbook: an Action Required step; failure; escalation)',
      labelNames: ['workflow', 'step', 'reason'],
      registers,
    }),
    ticketsByStatus: new Gauge({
      name: 'runbot_tickets',
      help: 'Tickets in the statuses the bot owns, by status, as of the last poll cycle',
      labelNames: ['status'],
      registers,
    }),
    pollDuration: new Histogram({
      name: 'runbot_poll_cycle_duration_seconds',
      help: 'Duration of one poll cycle over all workflows',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    }),
    pollCycles: new Counter({
      name: 'runbot_poll_cycles_total',
      help: 'Poll cycles, by outcome (ok, failed)',
      labelNames: ['outcome'],
      registers,
    }),
    pollLag: new Gauge({
      name: 'runbot_poll_lag_seconds',
      help: 'Seconds since the last poll cycle completed, or since polling began when none has (how stale the view of Jira may be)',
      registers,
      collect() {
        if (lastCycleEnd !== undefined) this.set((Date.now() - lastCycleEnd) / 1000);
      },
    }),
    queueDepth: new Gauge({
      name: 'runbot_queue_jobs',
      help: 'Jobs in the step queue, by state',
      labelNames: ['state'],
      registers,
    }),
    queueOldestAge: new Gauge({
      name: 'runbot_queue_oldest_job_age_seconds',
      help: 'Age of the oldest job waiting for a worker (0 when none waits)',
      registers,
    }),
    jiraCalls: new Counter({
      name: 'runbot_jira_calls_total',
      help: 'Jira API calls (each attempt), by endpoint and outcome (ok, 429, 5xx, 4xx, network)',
      labelNames: ['endpoint', 'outcome'],
      registers,
    }),
    jiraRateLimited: new Counter({
      name: 'runbot_jira_rate_limited_total',
      help: 'Jira answers 429 Too Many Requests',
      registers,
    }),
    jiraBackoff: new Counter({
      name: 'runbot_jira_backoff_seconds_total',
      help: 'Time spent waiting before retrying Jira calls (Retry-After or exponential backoff)',
      registers,
    }),
    breakerOpen: new Gauge({
      name: 'runbot_breaker_open',
      help: 'Failure-rate breaker of a site and step: 1 open (new starts held back), 0 closed; read from Redis at each scrape',
      labelNames: ['site', 'step'],
      registers,
    }),
    breakerTrips: new Counter({
      name: 'runbot_breaker_trips_total',
      help: 'Times a failure-rate breaker opened, by site and step (counted by the worker whose run opened it)',
      labelNames: ['site', 'step'],
      registers,
    }),
  };

  // Counters fed from cumulative totals kept by the adapter: add what is new since the last scrape.
  const seen = new Map<string, number>();
  const addDelta = (counter: Counter, labels: Record<string, string>, id: string, total: number) => {
    const delta = total - (seen.get(id) ?? 0);
    if (delta > 0) counter.inc(labels, delta);
    seen.set(id, total);
  };

  return {
    ...metrics,
    /** This process polls from now: until a cycle succeeds, the lag counts from here (so a poller
     * that never reaches Jira shows a growing lag, not 0). */
    pollerStarted() {
      lastCycleEnd ??= Date.now();
    },
    /** A poll cycle ended after `seconds`; `byStatus` is undefined when it failed. */
    pollCycleEnded(seconds: number, byStatus: Record<string, number> | undefined) {
      metrics.pollCycles.inc({ outcome: byStatus ? 'ok' : 'failed' });
      if (!byStatus) return;
      lastCycleEnd = Date.now();
      metrics.pollDuration.observe(seconds);
      metrics.ticketsByStatus.reset();
      for (const [status, count] of Object.entries(byStatus)) metrics.ticketsByStatus.set({ status }, count);
    },
    /** Every breaker the inventory arms (`site/step`) at 0, the open ones at 1. */
    showBreakers(armed: readonly string[], open: Readonly<Record<string, unknown>>) {
      metrics.breakerOpen.reset();
      for (const field of new Set([...armed, ...Object.keys(open)])) {
        const [site = '', step = ''] = field.split('/');
        metrics.breakerOpen.set({ site, step }, field in open ? 1 : 0);
      }
    },
    /** Brings the Jira call counters up to the adapter's cumulative counts. */
    syncJiraCalls(calls: { endpoint: string; outcome: string; count: number }[]) {
      let rateLimited = 0;
      for (const call of calls) {
        const labels = { endpoint: call.endpoint, outcome: call.outcome };
        addDelta(metrics.jiraCalls, labels, `${call.endpoint} ${call.outcome}`, call.count);
        if (call.outcome === '429') rateLimited += call.count;
      }
      addDelta(metrics.jiraRateLimited, {}, '429', rateLimited);
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** The step kind of a job's decision, as the runbook names it; gate moves and escalations have their own. */
function stepKindOf(decision: string): string {
  switch (decision) {
    case 'runStep':
      return 'ssh';
    case 'checkStep':
      return 'wait';
    case 'postInstructions':
      return 'manual';
    case 'transition':
    case 'hold':
      return 'gate';
    case 'noteHold':
      return 'hold';
    default:
      return 'escalation';
  }
}

const SUCCEEDED = new Set(['transitioned', 'instructed']);
const FAILED = new Set(['failed', 'escalated']);
const HANDED_TO_PEOPLE: Record<string, string> = {
  instructed: 'runbook',
  failed: 'failure',
  escalated: 'escalation',
  'awaiting-approval': 'approval',
};

type StepLabels = { workflow: string; kind: string; step: string };

/**
 * The worker's hooks that feed the step families. A job's labels come from its fresh decision and
 * the runbook (step name and kind); `pending`, `stale`, `refused` and `duplicate` outcomes are neither
 * success nor failure and show only in runbot_jobs_total.
 */
export function stepObserver(metrics: Metrics, definitions: Definitions) {
  const running = new WeakMap<StepJob, { labels: StepLabels; end: () => void }>();
  const labelsOf = (job: StepJob, decision: ActionableDecision): StepLabels => {
    if (!('step' in decision) || decision.kind === 'noteHold') {
      const kind = stepKindOf(decision.kind);
      return { workflow: job.workflow, kind, step: 'step' in decision ? decision.step.name : kind };
    }
    const runbook = definitions.runbooks.get(definitions.workflows.get(job.workflow)?.runbook ?? '');
    const kind = runbook?.runbook.steps[decision.step.name]?.kind ?? stepKindOf(decision.kind);
    return { workflow: job.workflow, kind, step: decision.step.name };
  };
  const finish = (job: StepJob) => {
    const started = running.get(job);
    running.delete(job);
    started?.end();
    return started?.labels;
  };
  return {
    onStart(job: StepJob, decision: ActionableDecision) {
      const labels = labelsOf(job, decision);
      metrics.stepsStarted.inc(labels);
      running.set(job, { labels, end: metrics.stepDuration.startTimer(labels) });
    },
    onOutcome(job: StepJob, outcome: string) {
      metrics.jobs.inc({ workflow: job.workflow, decision: job.kind, outcome });
      const labels = finish(job);
      if (!labels) return;
      if (SUCCEEDED.has(outcome)) metrics.stepsSucceeded.inc(labels);
      if (FAILED.has(outcome)) metrics.stepsFailed.inc(labels);
      const reason = HANDED_TO_PEOPLE[outcome];
      if (reason) metrics.manualSteps.inc({ workflow: labels.workflow, step: labels.step, reason });
    },
    /** The job threw (a retryable SSH error or a bug): the queue retries it. */
    onError(job: StepJob) {
      metrics.jobs.inc({ workflow: job.workflow, decision: job.kind, outcome: 'error' });
      const labels = finish(job);
      if (labels) metrics.stepsFailed.inc(labels);
    },
  };
}

/**
 * When a waiting job last became due, the latest moment its fields tell (a job put back delayed
 * keeps the timestamp of its first add, possibly hours old):
 * - `timestamp`: its add, for a job not run yet;
 * - `dueAt`: a wait step's check job put back for its next round, when that round was due;
 * - `deferredUntil`: a job deferred for long (a window, a freeze, a running mark), when it ended;
 * - `processedOn`, its last attempt's start, earlier than the due moment by at most: a short
 *   deferral's seconds (the pause, a cap, a breaker); for a job retried after a failed attempt, that
 *   attempt's run and its backoff (2 s, then 4 s: queue.ts), the backoff's end being when it is due
 *   again (BullMQ moves it to delayed itself, so no field of ours can note that end without a write
 *   in the failure path); for a job taken back from a stalled worker, the attempt's run until the
 *   stall was detected (BullMQ keeps `processedOn` from that attempt's start). So a long attempt that
 *   failed or stalled counts its run as waiting: an over-count, on the safe side of the alert.
 * A job made due early (promoted) may name a moment still to come: it counts as not having waited;
 * so does, for up to its deferral, a job whose `deferredUntil` was noted but whose move to delayed
 * failed (its lock lost: another worker has it).
 */
function waitingSince(job: {
  timestamp: number;
  processedOn?: number;
  data?: { dueAt?: number; deferredUntil?: number };
}): number {
  return Math.max(job.timestamp, job.processedOn ?? 0, job.data?.dueAt ?? 0, job.data?.deferredUntil ?? 0);
}

/** Seconds the oldest job waiting in any of these queues has waited; 0 when none waits. */
export async function oldestWaitingAge(queues: Pick<Queue, 'getJobs'>[]): Promise<number> {
  const oldest = await Promise.all(
    queues.map(async (queue) => {
      const [first] = await queue.getJobs(['waiting', 'prioritized'], 0, 0, true);
      return first && waitingSince(first);
    }),
  );
  const first = Math.min(...oldest.filter((at): at is number => at !== undefined));
  return Number.isFinite(first) ? Math.max(0, (Date.now() - first) / 1000) : 0;
}
