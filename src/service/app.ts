// Wires the real edges (Jira adapter, SSH runner, BullMQ, HTTP) around the poller and the worker.
// `runbot start` runs all roles; `runbot poll` and `runbot work` run one each, so workers scale out.
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { loadDefinitions, type Definitions } from '../definitions/index.js';
import { SshRunner } from '../executors/ssh/index.js';
import { createMetrics, startHttpServer } from '../http/index.js';
import { createJiraAdapter } from '../jira/index.js';
import type { Logger } from '../logger.js';
import { startStepWorker, StepQueue, type StepJob } from '../queue/index.js';
import { runPoller, type CycleReport } from './poller.js';
import { createStepProcessor } from './worker.js';

export interface Roles {
  poll: boolean;
  work: boolean;
  http: boolean;
}

export interface RunningService {
  definitions: Definitions;
  httpPort: number | undefined;
  /** Stops polling, lets running steps finish (workers drain), then closes everything. */
  stop(): Promise<void>;
  /** Resolves on every finished job (tests and the demo watch progress through it). */
  events: { onCycle?: (report: CycleReport) => void; onJob?: (job: StepJob, outcome: string) => void };
}

export async function startService(config: Config, roles: Roles, logger: Logger): Promise<RunningService> {
  const definitions = await loadDefinitions({
    root: config.RUNBOT_DEFINITIONS,
    ...(config.RUNBOT_INVENTORY ? { inventory: config.RUNBOT_INVENTORY } : {}),
  });
  const metrics = createMetrics();
  const jira = createJiraAdapter({
    url: config.JIRA_URL,
    email: config.JIRA_EMAIL,
    apiToken: config.JIRA_API_TOKEN,
    logger,
  });
  const queueSettings = { redisUrl: config.REDIS_URL, prefix: config.RUNBOT_QUEUE_PREFIX };
  const queue = new StepQueue(queueSettings);
  const events: RunningService['events'] = {};
  const now = () => new Date();
  const abort = new AbortController();

  let worker: Worker<StepJob, string> | undefined;
  let runner: SshRunner | undefined;
  if (roles.work) {
    runner = new SshRunner({
      privateKey: config.RUNBOT_SSH_KEY,
      knownHostsFile: config.RUNBOT_KNOWN_HOSTS,
      logger,
    });
    const process = createStepProcessor({
      jira,
      runner,
      definitions,
      now,
      dryRun: config.RUNBOT_DRY_RUN,
      logger,
      timeScale: config.RUNBOT_TIME_SCALE,
      onOutcome: (job, outcome) => {
        metrics.jobs.inc({ workflow: job.workflow, kind: job.kind, outcome });
        events.onJob?.(job, outcome);
      },
    });
    worker = startStepWorker(
      { ...queueSettings, concurrency: config.RUNBOT_CONCURRENCY },
      async (job, attempt) => {
        const timer = metrics.jobDuration.startTimer({ workflow: job.workflow, kind: job.kind });
        try {
          return await process(job, attempt);
        } finally {
          timer();
        }
      },
    );
    worker.on('failed', (job, error) =>
      logger.warn({ ticket: job?.data.key, job: job?.id, err: error }, 'job failed'),
    );
    worker.on('error', (error) => logger.warn({ err: error }, 'worker error'));
  }

  let poller: ReturnType<typeof runPoller> | undefined;
  if (roles.poll) {
    poller = runPoller({
      jira,
      definitions,
      enqueue: (job) => queue.enqueue(job),
      now,
      timeScale: config.RUNBOT_TIME_SCALE,
      logger,
      intervalMs: config.RUNBOT_POLL_INTERVAL * 1000,
      signal: abort.signal,
      onCycle: (report) => {
        metrics.ticketsByStatus.reset();
        for (const [status, count] of Object.entries(report.byStatus))
          metrics.ticketsByStatus.set({ status }, count);
        events.onCycle?.(report);
      },
    });
  }

  const redisProbe = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  redisProbe.on('error', () => undefined);
  const http = roles.http
    ? await startHttpServer(config.RUNBOT_HTTP_PORT, {
        registry: metrics.registry,
        readiness: async () => {
          const missing: string[] = [];
          if (redisProbe.status !== 'ready') await redisProbe.connect().catch(() => undefined);
          if ((await redisProbe.ping().catch(() => '')) !== 'PONG') missing.push('redis');
          return missing;
        },
        onWebhook: () => poller?.wake(),
        beforeMetrics: async () => {
          const depth = await queue.depth().catch(() => ({}));
          for (const [state, count] of Object.entries(depth)) metrics.queueDepth.set({ state }, count);
          metrics.jiraCalls.reset();
          for (const call of jira.calls())
            metrics.jiraCalls.set({ endpoint: call.endpoint, outcome: call.outcome }, call.count);
        },
      })
    : undefined;

  logger.info(
    {
      roles,
      workflows: [...definitions.workflows.keys()],
      dryRun: config.RUNBOT_DRY_RUN,
      httpPort: http?.port,
    },
    'runbot started',
  );

  return {
    definitions,
    httpPort: http?.port,
    events,
    async stop() {
      abort.abort();
      await poller?.done;
      await worker?.close();
      await runner?.close();
      await queue.close();
      await http?.close();
      redisProbe.disconnect();
      logger.info('runbot stopped');
    },
  };
}
