// The world a fault test runs in: the Jira sandbox (in this process, so the test can play the
// people around the bot), a restartable redis-server, the simulated fleet, and definitions copied
// from the shipped RMA runbook with short SSH timeouts. The bot itself runs as separate processes
// (processes.ts) configured only through the environment, like a deployment.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadDefinitions, type Workflow } from '../../../src/definitions/index.js';
import { buildEnvironment } from '../../../src/sandbox/environment.js';
import type { Fleet, FleetProfile } from '../../../src/sandbox/fleet/index.js';
import type { JiraSandbox, SandboxOptions } from '../../../src/sandbox/jira/index.js';
import {
  FLEET_MANAGER,
  fleetServiceEnv,
  fleetSites,
  writeFleetAccess,
} from '../../../src/sandbox/demo-env.js';
import { RunbotProcesses } from './processes.js';
import { startRestartableRedis, type RestartableRedis } from './redis.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
export const CREDENTIALS = { email: 'runbot@example.com', apiToken: 'faults-token' };
export const MANAGER = FLEET_MANAGER;
/** SSH step timeout in the fixture runbook. The planner treats a step as possibly still running for
 * commands × timeout + 120 s after it began, so this bounds how long an interrupted step waits. */
export const FIXTURE_SSH_TIMEOUT = '3s';

export interface FaultTicket {
  key: string;
  host: string;
  rma: string;
}

export interface FaultEnvironment {
  dir: string;
  jiraUrl: string;
  sandbox: JiraSandbox;
  fleet: Fleet;
  redis: RestartableRedis;
  workflow: Workflow;
  /** The service's configuration, as environment variables for `node dist/cli.js work|poll`. */
  env: Record<string, string>;
  processes: RunbotProcesses;
  tickets: FaultTicket[];
  /** Restore tickets for `count` fresh hosts named `<prefix>-NN.dev2.internal`; their RMAs are
   * repaired unless `rmaDone` is false (then the test closes them: the gate opens on its cue). */
  seedTickets(prefix: string, count: number, options?: { rmaDone?: boolean }): Promise<FaultTicket[]>;
  /** Adds a fleet host to its domain's inventory site (dev2 for `*.dev2.internal`), reached by name. */
  addHost(host: string): Promise<void>;
  stop(): Promise<void>;
}

export interface FaultEnvironmentOptions {
  profile?: Partial<FleetProfile>;
  sandbox?: Partial<Pick<SandboxOptions, 'searchLagMs' | 'faults'>>;
  /** Extra service environment (e.g. RUNBOT_CONCURRENCY). */
  env?: Record<string, string>;
  /** More issue types in the restore project (tickets of a type no workflow covers). */
  extraIssueTypes?: string[];
  /** Put something between the bot and the sandbox (a fault-injecting proxy); gets the sandbox URL. */
  jiraFront?: (sandboxUrl: string) => Promise<{ url: string; stop(): Promise<void> }>;
}

/** The shipped runbook with every SSH step's timeout shortened, and the shipped workflow. */
async function writeFixtureDefinitions(dir: string): Promise<void> {
  const runbook = parse(await readFile(path.join(REPO_ROOT, 'runbooks/rma-restore.yaml'), 'utf8')) as {
    steps: Record<string, { kind: string; timeout?: string }>;
  };
  for (const step of Object.values(runbook.steps))
    if (step.kind === 'ssh') step.timeout = FIXTURE_SSH_TIMEOUT;
  await mkdir(path.join(dir, 'runbooks'), { recursive: true });
  await mkdir(path.join(dir, 'workflows'), { recursive: true });
  await writeFile(path.join(dir, 'runbooks/rma-restore.yaml'), stringify(runbook));
  await writeFile(
    path.join(dir, 'workflows/rma-restore.yaml'),
    await readFile(path.join(REPO_ROOT, 'workflows/rma-restore.yaml'), 'utf8'),
  );
  await writeFile(path.join(dir, 'workflows/inventory.yaml'), stringify({ sites: {} }));
}

export async function startFaultEnvironment(
  options: FaultEnvironmentOptions = {},
): Promise<FaultEnvironment> {
  return buildEnvironment(async (environment) => {
    const dir = await environment.directory('runbot-faults-');
    await writeFixtureDefinitions(dir);
    const workflow = (await loadDefinitions({ root: dir })).workflows.get('rma-restore');
    if (!workflow) throw new Error('fixture definitions lack the rma-restore workflow');

    const redis = await environment.start(startRestartableRedis(), (started) => started.close());
    const jira = await environment.jira({
      workflow,
      credentials: CREDENTIALS,
      ...(options.extraIssueTypes ? { extraIssueTypes: options.extraIssueTypes } : {}),
      ...(options.sandbox ? { sandbox: options.sandbox } : {}),
    });
    const { sandbox } = jira;
    const jiraUrl = options.jiraFront
      ? (await environment.start(options.jiraFront(jira.url), (front) => front.stop())).url
      : jira.url;
    const fleet = await environment.fleet({
      memtestMs: 800,
      syncMs: 400,
      rebalanceMs: 300,
      ...options.profile,
    });

    const files = await writeFleetAccess(dir, fleet, path.join(dir, 'workflows/inventory.yaml'));
    await writeFile(files.knownHosts, '');

    const env: Record<string, string> = {
      ...fleetServiceEnv({ jiraUrl, credentials: CREDENTIALS, redisUrl: redis.url, files }),
      RUNBOT_DEFINITIONS: dir,
      ...options.env,
    };
    const processes = new RunbotProcesses(env);
    environment.defer(() => processes.stopAll());

    const hosts = fleetSites(fleet, files);
    const tickets: FaultTicket[] = [];

    return {
      dir,
      jiraUrl: jira.url,
      sandbox,
      fleet,
      redis,
      workflow,
      env,
      processes,
      tickets,
      async addHost(host) {
        await hosts.add(host);
        await hosts.write();
      },
      async seedTickets(prefix, count, seedOptions = {}) {
        const names = Array.from(
          { length: count },
          (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}.dev2.internal`,
        );
        for (const host of names) await hosts.add(host);
        await hosts.write();
        const seeded: FaultTicket[] = [];
        // Seeding is what people do in Jira: straight to the sandbox, never through an injected fault.
        for (const host of names)
          seeded.push({ host, ...(await jira.seedTicket(host, { rmaDone: seedOptions.rmaDone ?? true })) });
        tickets.push(...seeded);
        return seeded;
      },
      // A server that will not stop does not fail the teardown: every cleanup still runs.
      stop: () => environment.stop().catch(() => undefined),
    };
  });
}
