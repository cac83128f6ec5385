// Everything the demo and the end-to-end tests run against, on this machine: the Jira sandbox, a
// local redis-server, and the simulated fleet, with the key, known_hosts and inventory files the
// bot needs to reach it. Tickets are seeded through Jira's REST API, the way Jira is used. With
// `jiraUrl`, Jira is a sandbox already running elsewhere (`runbot sandbox`, perhaps behind a proxy).
// Built the one way every environment is (environment.ts).
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { ConfigSchema, PROJECT_ROOT, type Config } from '../config.js';
import { loadDefinitions, type Workflow } from '../definitions/index.js';
import { buildEnvironment } from './environment.js';
import type { Fleet, FleetProfile } from './fleet/index.js';
import type { JiraSandbox, SandboxOptions } from './jira/index.js';
import { startRedis, type RedisInstance } from './redis.js';
import { RedfishSimulator } from './redfish/index.js';

export const DEMO_CREDENTIALS = { email: 'runbot@example.com', apiToken: 'sandbox-token' };
/** The other auth modes the demo sandbox accepts, under `/ex/jira/sandbox-cloud` (docs/jira.md). */
export const DEMO_BEARER_TOKEN = 'sandbox-scoped-token';
export const DEMO_OAUTH_CLIENT = { clientId: 'sandbox-client', clientSecret: 'sandbox-client-secret' };
/** The manager of every site of the simulated fleet. */
export const FLEET_MANAGER = 'manager-0.dev2.internal';
/** The variable holding the simulated BMCs' Redfish password in the demo (set while it runs). */
export const DEMO_BMC_PASSWORD_ENV = 'RUNBOT_DEMO_BMC_PASSWORD';

export interface DemoEnvironment {
  config: Config;
  sandbox: JiraSandbox;
  fleet: Fleet;
  /** The fleet's Redfish BMC (one simulated BMC answers for every host; pinned by fingerprint). */
  bmc: RedfishSimulator;
  redis: RedisInstance;
  workflow: Workflow;
  /** Restore tickets seeded so far, with their host and RMA ticket. */
  tickets: { key: string; host: string; rma: string }[];
  /** Creates a host in the fleet, an RMA ticket and a restore ticket blocked by it. */
  seedTicket(host: string, options?: { rmaDone?: boolean }): Promise<{ key: string; rma: string }>;
  stop(): Promise<void>;
}

export interface DemoEnvironmentOptions {
  profile?: Partial<FleetProfile>;
  env?: Record<string, string>;
  /** Use the sandbox running at this URL (with the demo credentials) instead of starting one. */
  jiraUrl?: string;
  /** Port of the sandbox started here (default any free port). */
  jiraPort?: number;
  /** Jira's behaviour: search lag, page size, injected 429/5xx and latency. */
  jira?: Pick<SandboxOptions, 'searchLagMs' | 'searchPageMax' | 'faults'>;
}

export interface FleetAccessFiles {
  /** The fleet's authorised client key (mode 600). */
  key: string;
  knownHosts: string;
  inventory: string;
}

/** Writes the client key the fleet accepts; known_hosts and the inventory grow as hosts are added. */
export async function writeFleetAccess(
  dir: string,
  fleet: Fleet,
  inventory: string,
): Promise<FleetAccessFiles> {
  const files = { key: path.join(dir, 'id_ed25519'), knownHosts: path.join(dir, 'known_hosts'), inventory };
  await writeFile(files.key, fleet.clientPrivateKey, { mode: 0o600 });
  await chmod(files.key, 0o600);
  return files;
}

/**
 * The inventory and known_hosts of the simulated fleet as hosts join it: one inventory site per
 * host (the fleet tells hosts apart by port, and a site has one), each managed by FLEET_MANAGER.
 */
export function fleetSites(
  fleet: Fleet,
  files: Pick<FleetAccessFiles, 'inventory' | 'knownHosts'>,
  bmc?: { port: number; user: string; fingerprint: string; passwordEnv: string },
) {
  const sites: Record<string, unknown> = {};
  const knownHosts: string[] = [];
  return {
    /** Adds the host to the fleet and its site to the inventory; `write` saves both files. */
    async add(host: string): Promise<void> {
      const port = await fleet.addHost(host, { role: 'any' });
      sites[host.split('.')[0] ?? host] = {
        hosts: `^${host.replaceAll('.', '\\.')}$`,
        manager: FLEET_MANAGER,
        ssh: { user: 'runbot', port, address: '127.0.0.1' },
        ...(bmc
          ? {
              redfish: {
                address: '127.0.0.1',
                port: bmc.port,
                user: bmc.user,
                password_env: bmc.passwordEnv,
                fingerprint: bmc.fingerprint,
              },
            }
          : {}),
      };
      knownHosts.push(fleet.knownHostsLine(host), `[${FLEET_MANAGER}]:${port} ${fleet.hostPublicKey}`);
    },
    async write(): Promise<void> {
      await writeFile(files.inventory, stringify({ sites }));
      await writeFile(files.knownHosts, `${knownHosts.join('\n')}\n`);
    },
  };
}

/** The service's environment for the sandbox and the simulated fleet (the demo's and the fault suite's). */
export function fleetServiceEnv(parts: {
  jiraUrl: string;
  credentials: { email: string; apiToken: string };
  redisUrl: string;
  files: FleetAccessFiles;
}): Record<string, string> {
  return {
    JIRA_URL: parts.jiraUrl,
    JIRA_EMAIL: parts.credentials.email,
    JIRA_API_TOKEN: parts.credentials.apiToken,
    REDIS_URL: parts.redisUrl,
    RUNBOT_HTTP_PORT: '0',
    RUNBOT_INVENTORY: parts.files.inventory,
    RUNBOT_SSH_KEY: parts.files.key,
    RUNBOT_KNOWN_HOSTS: parts.files.knownHosts,
    RUNBOT_POLL_INTERVAL: '0.5',
    // The memtest's 10 min check interval becomes 1 s, its 12 h timeout 72 s.
    RUNBOT_TIME_SCALE: '600',
    RUNBOT_CONCURRENCY: '16',
    RUNBOT_LOG_LEVEL: 'warn',
  };
}

export async function startDemoEnvironment(options: DemoEnvironmentOptions = {}): Promise<DemoEnvironment> {
  return buildEnvironment(async (environment) => {
    const dir = await environment.directory('runbot-demo-');
    const definitions = await loadDefinitions({ root: PROJECT_ROOT });
    const workflow = definitions.workflows.get('rma-restore');
    if (!workflow) throw new Error('the shipped workflow rma-restore is missing');

    const redis = await environment.start(startRedis(), (started) => started.stop());
    const jira = await environment.jira({
      workflow,
      credentials: DEMO_CREDENTIALS,
      ...(options.jiraUrl ? { remoteUrl: options.jiraUrl } : {}),
      ...(options.jiraPort ? { port: options.jiraPort } : {}),
      sandbox: { bearerTokens: [DEMO_BEARER_TOKEN], oauthClients: [DEMO_OAUTH_CLIENT], ...options.jira },
    });
    const fleet = await environment.fleet(options.profile);

    const files = await writeFleetAccess(dir, fleet, path.join(dir, 'inventory.yaml'));
    const bmc = new RedfishSimulator();
    await environment.start(bmc.start(), () => bmc.stop());
    // The worker reads BMC passwords from its environment, by the name the inventory gives.
    environment.processEnv({ [DEMO_BMC_PASSWORD_ENV]: bmc.password });
    const hosts = fleetSites(fleet, files, {
      port: bmc.port,
      user: bmc.user,
      fingerprint: bmc.fingerprint,
      passwordEnv: DEMO_BMC_PASSWORD_ENV,
    });

    const config = ConfigSchema.parse({
      ...fleetServiceEnv({ jiraUrl: jira.url, credentials: DEMO_CREDENTIALS, redisUrl: redis.url, files }),
      ...options.env,
    });

    const tickets: DemoEnvironment['tickets'] = [];
    return {
      config,
      sandbox: jira.sandbox,
      fleet,
      bmc,
      redis,
      workflow,
      tickets,
      async seedTicket(host, seedOptions = {}) {
        await hosts.add(host);
        await hosts.write();
        const { key, rma } = await jira.seedTicket(host, { rmaDone: seedOptions.rmaDone ?? true });
        tickets.push({ key, host, rma });
        return { key, rma };
      },
      stop: () => environment.stop(),
    };
  });
}
