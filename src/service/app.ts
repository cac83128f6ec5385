// Wires the real edges (Jira adapter, SSH runner, BullMQ, HTTP) around the poller and the runner.
// `runbot start` runs all roles; `runbot poll` and `runbot work` run one each, so workers scale out.
import { redisSettings, type Config } from '../config.js';
import { loadDefinitions, type Definitions } from '../definitions/index.js';
import { IpmiRunner } from '../executors/ipmi/index.js';
import { RedfishRunner, type RedfishExecutor } from '../executors/redfish/index.js';
import { SshTransports } from '../executors/ssh/index.js';
import type { CommandRunner, IpmiExecutor } from '../executors/types.js';
import {
  createMetrics,
  jiraCheck,
  oldestWaitingAge,
  readiness,
  redisCheck,
  startHttpServer,
  stepObserver,
} from '../http/index.js';
import { createJiraAdapter } from '../jira/index.js';
import { addSecrets, inventorySecrets, type Logger } from '../logger.js';
import {
  BreakerStore,
  createRedis,
  PauseSwitch,
  startStepWorkers,
  StepLimiter,
  StepQueue,
  type StepJob,
  type StepWorkers,
} from '../queue/index.js';
import { runPoller, type CycleReport } from './poller.js';
import { jiraConnection } from './jira-connection.js';
import { claimSettings } from '../runner/claim.js';
import { jobHandler } from '../runner/handler.js';
import { armedBreakers } from '../runner/holds.js';
import { createRunner } from '../runner/runner.js';

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
  events: { onCycle?: (cycle: CycleReport) => void; onJob?: (job: StepJob, outcome: string) => void };
}

/** Executors to use instead of the real ones (tests wrap the real runner to count, for example). */
export interface ServiceOverrides {
  runner?: CommandRunner;
  ipmi?: IpmiExecutor;
  redfish?: RedfishExecutor;
}

export async function startService(
  config: Config,
  roles: Roles,
  logger: Logger,
  overrides: ServiceOverrides = {},
): Promise<RunningService> {
  const definitions = await loadDefinitions({
    root: config.RUNBOT_DEFINITIONS,
    ...(config.RUNBOT_INVENTORY ? { inventory: config.RUNBOT_INVENTORY } : {}),
  });
  // BMC passwords are known once the inventory names their variables: never log them either.
  addSecrets(logger, inventorySecrets(definitions.inventory));
  const sites = workerSites(config, definitions);
  const metrics = createMetrics();
  const connection = jiraConnection(config, logger);
  const jira = createJiraAdapter({
    ...connection,
    internalComments: config.RUNBOT_JIRA_INTERNAL_COMMENTS,
    concurrency: config.JIRA_CONCURRENCY,
    logger,
    // The adapter sleeps only between retries: that is the backoff time.
    sleep: (ms) => {
      metrics.jiraBackoff.inc(ms / 1000);
      return new Promise((resolve) => setTimeout(resolve, ms));
    },
  });
  const observe = stepObserver(metrics, definitions);
  const redisAt = redisSettings(config);
  const queueSettings = { ...redisAt, prefix: config.RUNBOT_QUEUE_PREFIX };
  const queue = new StepQueue(queueSettings);
  const events: RunningService['events'] = {};
  const now = () => new Date();
  const abort = new AbortController();

  let worker: StepWorkers | undefined;
  let runner: CommandRunner | undefined;
  // Caps, the global pause and the breakers live in Redis, shared by every worker process.
  const redis =
    roles.work || roles.poll
      ? createRedis(redisAt, { maxRetriesPerRequest: 3, autoPipelining: true })
      : undefined;
  redis?.on('error', (error) => logger.warn({ err: error }, 'redis error (caps, pause, breakers)'));
  const breakers = redis ? new BreakerStore(redis, config.RUNBOT_QUEUE_PREFIX) : undefined;
  if (roles.work && redis) {
    runner =
      overrides.runner ??
      new SshTransports({
        privateKey: config.RUNBOT_SSH_KEY,
        certificate: config.RUNBOT_SSH_CERT,
        knownHostsFile: config.RUNBOT_KNOWN_HOSTS,
        hostsFile: config.RUNBOT_HOSTS_FILE,
        // Idle a minute of fleet time: between a wait step's checks (10 min) the connection closes.
        idleMs: 60_000 / config.RUNBOT_TIME_SCALE,
        openssh: Object.values(definitions.inventory.sites).some((site) => site.ssh.transport === 'openssh'),
        logger,
      });
    const pause = new PauseSwitch(redis, config.RUNBOT_QUEUE_PREFIX, config.RUNBOT_PAUSE);
    const runJob = createRunner({
      jira,
      runner,
      ipmi: overrides.ipmi ?? new IpmiRunner({ logger }),
      redfish: overrides.redfish ?? new RedfishRunner({ logger }),
      caps: {
        limiter: new StepLimiter(redis, { prefix: config.RUNBOT_QUEUE_PREFIX }),
        ...(config.RUNBOT_MAX_CONCURRENT_STEPS ? { global: config.RUNBOT_MAX_CONCURRENT_STEPS } : {}),
      },
      claims: claimSettings(redis, config.RUNBOT_QUEUE_PREFIX, config.RUNBOT_CLAIM_SETTLE),
      ...(breakers
        ? {
            breakers: {
              store: breakers,
              onOpened: (site: string, step: string) => metrics.breakerTrips.inc({ site, step }),
            },
          }
        : {}),
      definitions,
      now,
      dryRun: config.RUNBOT_DRY_RUN,
      logger,
      timeScale: config.RUNBOT_TIME_SCALE,
      paused: pause.watched(logger),
      onStart: (job, decision) => observe.onStart(job, decision),
    });
    const settings = { ...queueSettings, concurrency: config.RUNBOT_CONCURRENCY, sites };
    worker = startStepWorkers(
      settings,
      jobHandler(runJob, {
        logger,
        // A deferred step (pause, full cap) is tried again within half a poll interval, at most 5 s.
        deferMs: Math.min(5_000, (config.RUNBOT_POLL_INTERVAL * 1000) / 2),
        onOutcome: (job, label) => {
          observe.onOutcome(job, label);
          events.onJob?.(job, label);
        },
        onError: (job) => observe.onError(job),
      }),
    );
    worker.on('failed', (job, error) =>
      logger.warn(
        { ticket: job?.data.key, workflow: job?.data.workflow, job: job?.id, err: error },
        'job failed',
      ),
    );
    worker.on('error', (error) => logger.warn({ err: error }, 'worker error'));
  }

  let poller: ReturnType<typeof runPoller> | undefined;
  if (roles.poll) {
    metrics.pollerStarted();
    poller = runPoller({
      jira,
      definitions,
      enqueue: (job) => queue.enqueue(job),
      ...(breakers && !config.RUNBOT_DRY_RUN ? { openBreakers: () => breakers.open() } : {}),
      now,
      timeScale: config.RUNBOT_TIME_SCALE,
      logger,
      intervalMs: config.RUNBOT_POLL_INTERVAL * 1000,
      minWakeIntervalMs: config.RUNBOT_WEBHOOK_MIN_INTERVAL * 1000,
      signal: abort.signal,
      onCycle: (cycle, seconds) => {
        metrics.pollCycleEnded(seconds, cycle.byStatus);
        events.onCycle?.(cycle);
      },
      onCycleFailed: (seconds) => metrics.pollCycleEnded(seconds, undefined),
    });
  }

  if (roles.http && config.RUNBOT_WEBHOOK_SECRET === undefined)
    logger.warn(
      { endpoint: '/webhook/jira' },
      'RUNBOT_WEBHOOK_SECRET not set: unsigned webhook deliveries are accepted (they only ask for an early poll)',
    );
  let stopping = false;
  const redisProbe = redisCheck(redisAt);
  const http = roles.http
    ? await startHttpServer(config.RUNBOT_HTTP_PORT, {
        registry: metrics.registry,
        readiness: readiness([
          redisProbe.check,
          jiraCheck(connection),
          () =>
            Promise.resolve(definitions.workflows.size > 0 ? undefined : 'definitions: no workflow loaded'),
          () => Promise.resolve(stopping ? 'stopping' : undefined),
        ]),
        webhookSecret: config.RUNBOT_WEBHOOK_SECRET,
        onWebhook: (hint) => {
          // A verified delivery names the issue: the next search reconciles it despite the index lag.
          if (hint.issueId !== undefined) jira.noteChanged(hint.issueId);
          poller?.wake();
        },
        beforeMetrics: async () => {
          const depth = await queue.depth().catch(() => ({}));
          for (const [state, count] of Object.entries(depth)) metrics.queueDepth.set({ state }, count);
          const queues = [undefined, ...sites].map((site) => queue.queueFor(site));
          metrics.queueOldestAge.set(await oldestWaitingAge(queues).catch(() => 0));
          metrics.syncJiraCalls(jira.calls());
          const open = await breakers?.open().catch(() => undefined);
          if (open) metrics.showBreakers(armedBreakers(definitions), open);
        },
      })
    : undefined;

  logger.info(
    {
      roles,
      ...(roles.work ? { sites, paused: config.RUNBOT_PAUSE } : {}),
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
      stopping = true;
      abort.abort();
      await poller?.done;
      const drained = worker ? await drain(worker, config.RUNBOT_SHUTDOWN_GRACE * 1000, logger) : true;
      // Closing the SSH connections under a running step would make it fail and report; leave it be.
      if (drained) await runner?.close();
      redis?.disconnect();
      await queue.close();
      await http?.close();
      redisProbe.close();
      logger.info('runbot stopped');
    },
  };
}

/**
 * Lets running steps finish for up to `graceMs`; true when they did. After that the caller exits
 * without waiting (BullMQ's close cannot be hurried once begun). A step cut short is not lost: it
 * recorded in Jira that it began, its job's lock expires and the job is picked up again, and the
 * fresh plan resumes it (done_when) or hands it to a person; it is never run twice on a guess.
 */
async function drain(
  worker: { close(force?: boolean): Promise<void> },
  graceMs: number,
  logger: Logger,
): Promise<boolean> {
  const closed = worker.close().then(() => 'drained' as const);
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace over'>((resolve) => {
    timer = setTimeout(() => resolve('grace over'), graceMs);
  });
  const first = await Promise.race([closed, graceOver]);
  clearTimeout(timer);
  if (first === 'drained') return true;
  logger.warn({ graceSeconds: graceMs / 1000 }, 'shutdown grace over: closing with steps still running');
  return false;
}

/** The sites this worker takes work from: RUNBOT_SITES (`runbot work --site`), else every site. */
function workerSites(config: Config, definitions: Definitions): string[] {
  const known = Object.keys(definitions.inventory.sites);
  if (config.RUNBOT_SITES === undefined) return known;
  const unknown = config.RUNBOT_SITES.filter((site) => !known.includes(site));
  if (unknown.length > 0) {
    throw new Error(
      `RUNBOT_SITES: ${unknown.join(', ')} not in the inventory (sites: ${known.join(', ') || 'none'}); fix --site or the inventory`,
    );
  }
  return config.RUNBOT_SITES;
}
