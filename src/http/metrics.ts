// Prometheus metrics (prom-client): the golden signals per step and workflow, tickets by status,
// queue depth, Jira calls, and poll cycles. One registry per service instance.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'runbot_process_' });
  return {
    registry,
    jobs: new Counter({
      name: 'runbot_jobs_total',
      help: 'Step jobs processed, by workflow, job kind and outcome',
      labelNames: ['workflow', 'kind', 'outcome'],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'runbot_job_duration_seconds',
      help: 'Time to process one step job, by workflow and job kind',
      labelNames: ['workflow', 'kind'],
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200],
      registers: [registry],
    }),
    ticketsByStatus: new Gauge({
      name: 'runbot_tickets',
      help: 'Tickets the bot owns, by status, as of the last poll cycle',
      labelNames: ['status'],
      registers: [registry],
    }),
    pollDuration: new Histogram({
      name: 'runbot_poll_cycle_duration_seconds',
      help: 'Duration of one poll cycle over all workflows',
      buckets: [0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'runbot_queue_jobs',
      help: 'Jobs in the step queue, by state',
      labelNames: ['state'],
      registers: [registry],
    }),
    jiraCalls: new Gauge({
      name: 'runbot_jira_calls',
      help: 'Jira API calls made since start, by endpoint and outcome',
      labelNames: ['endpoint', 'outcome'],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
