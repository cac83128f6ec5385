// The world a fault test runs in: the Jira sandbox (in this process, so the test can play the
// people around the bot), a restartable redis-server, the simulated fleet, and definitions copied
// from the shipped RMA runbook with short SSH timeouts. The bot itself runs as separate processes
// (processes.ts) configured only through the environment, like a deployment.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadDefinitions, type Workflow } from '../../../src/definitions/index.js';
import { startFleet, type Fleet, type FleetProfile } from '../../../src/sandbox/fleet/index.js';
import { JiraSandbox, type SandboxOptions } from '../../../src/sandbox/jira/index.js';
import { HOST_FIELD, restoreProject, RMA_PROJECT } from '../../../src/sandbox/rma-jira.js';
import {
  FLEET_MANAGER,
  fleetServiceEnv,
  fleetSites,
  writeFleetAccess,
} from '../../../src/sandbox/demo-env.js';
import { jiraSeeder } from '../../../src/sandbox/seed.js';
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
  /** Adds a fleet host and an inventory site for it (one site per host: the fleet tells hosts by port). */
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
  const dir = await mkdtemp(path.join(tmpdir(), 'runbot-faults-'));
  const cleanups: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    await writeFixtureDefinitions(dir);
    const workflow = (await loadDefinitions({ root: dir })).workflows.get('rma-restore');
    if (!workflow) throw new Error('fixture definitions lack the rma-restore workflow');

    const redis = await startRestartableRedis();
    cleanups.push(() => redis.close());
    const sandbox = new JiraSandbox({
      projects: [
        {
          ...restoreProject(workflow),
          issueTypes: [workflow.jira.issue_type, ...(options.extraIssueTypes ?? [])],
        },
        RMA_PROJECT,
      ],
      customFields: [HOST_FIELD],
      credentials: CREDENTIALS,
      ...options.sandbox,
    });
    const sandboxUrl = await sandbox.start(0, '127.0.0.1');
    cleanups.push(() => sandbox.stop());
    let jiraUrl = sandboxUrl;
    if (options.jiraFront) {
      const front = await options.jiraFront(sandboxUrl);
      cleanups.push(() => front.stop());
      jiraUrl = front.url;
    }
    const fleet = await startFleet({
      profile: { memtestMs: 800, syncMs: 400, rebalanceMs: 300, ...options.profile },
    });
    cleanups.push(() => fleet.stop());

    const files = await writeFleetAccess(dir, fleet, path.join(dir, 'workflows/inventory.yaml'));
    await writeFile(files.knownHosts, '');

    const env: Record<string, string> = {
      ...fleetServiceEnv({ jiraUrl, credentials: CREDENTIALS, redisUrl: redis.url, files }),
      RUNBOT_DEFINITIONS: dir,
      ...options.env,
    };
    const processes = new RunbotProcesses(env);
    cleanups.push(() => processes.stopAll());

    const hosts = fleetSites(fleet, files);
    // Seeding is what people do in Jira: straight to the sandbox, never through an injected fault.
    const seeder = jiraSeeder(sandboxUrl, CREDENTIALS);
    const tickets: FaultTicket[] = [];

    return {
      dir,
      jiraUrl: sandboxUrl,
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
        for (const host of names) {
          const { key, rma } = await seeder.restoreTicket(workflow, host);
          if (seedOptions.rmaDone ?? true) sandbox.moveAsHuman(rma, 'Done');
          seeded.push({ key, host, rma });
        }
        tickets.push(...seeded);
        return seeded;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
