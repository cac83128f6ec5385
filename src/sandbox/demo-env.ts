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
/** The manager of the simulated fleet's site dev2 (hosts `*.dev2.internal`); site D's is `manager-0.D`. */
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
  /** The address map (RUNBOT_HOSTS_FILE) through which the inventory's names reach the fleet. */
  hosts: string;
}

/** Writes the client key the fleet accepts; known_hosts, the hosts file and the inventory grow as hosts are added. */
export async function writeFleetAccess(
  dir: string,
  fleet: Fleet,
  inventory: string,
): Promise<FleetAccessFiles> {
  const files = {
    key: path.join(dir, 'id_ed25519'),
    knownHosts: path.join(dir, 'known_hosts'),
    inventory,
    hosts: path.join(dir, 'hosts'),
  };
  await writeFile(files.key, fleet.clientPrivateKey, { mode: 0o600 });
  await chmod(files.key, 0o600);
  await writeFile(files.hosts, '');
  return files;
}

export interface FleetSitesOptions {
  bmc?: { port: number; user: string; fingerprint: string; passwordEnv: string };
  /** One inventory site per host, each its own queue (the old shape, for a test that needs it). */
  sitePerHost?: boolean;
}

interface FleetSite {
  name: string;
  domain: string;
  manager: string;
  /** Short names of the site's hosts, in the order they joined. */
  hosts: string[];
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The inventory, hosts file and known_hosts of the simulated fleet as hosts join it, laid out like
 * a deployment's: one site per domain (`db-1.dev2.internal` is in site `dev2`), managed by
 * `manager-0.<domain>`, every host reached by name on the fleet's one port, its address from the
 * hosts file. A site's `hosts` pattern lists the hosts added, so any other name is outside it.
 */
export function fleetSites(
  fleet: Fleet,
  files: Pick<FleetAccessFiles, 'inventory' | 'knownHosts' | 'hosts'>,
  options: FleetSitesOptions = {},
) {
  const sites = new Map<string, FleetSite>();
  const names = new Set<string>();
  const knownHosts: string[] = [];
  const hostsLines: string[] = [];
  const join = async (host: string, role: 'server' | 'manager'): Promise<void> => {
    await fleet.addHost(host, { role });
    knownHosts.push(fleet.knownHostsLine(host));
    hostsLines.push(fleet.hostsLine(host));
  };
  const siteName = (wanted: string): string => {
    let name = wanted;
    for (let n = 2; names.has(name); n += 1) name = `${wanted}-${n}`;
    names.add(name);
    return name;
  };
  const siteOf = async (host: string): Promise<FleetSite> => {
    const dot = host.indexOf('.');
    if (dot <= 0) throw new Error(`fleet host ${host}: expected a fully qualified name (host.domain)`);
    const short = host.slice(0, dot);
    const domain = host.slice(dot + 1);
    const key = options.sitePerHost ? host : domain;
    let site = sites.get(key);
    if (!site) {
      const manager = `manager-0.${domain}`;
      if (!sites.has(domain) && ![...sites.values()].some((other) => other.manager === manager)) {
        await join(manager, 'manager');
      }
      site = {
        name: siteName(options.sitePerHost ? short : (domain.split('.')[0] ?? domain)),
        domain,
        manager,
        hosts: [],
      };
      sites.set(key, site);
    }
    return site;
  };
  const inventory = (): Record<string, unknown> =>
    Object.fromEntries(
      [...sites.values()].map((site) => [
        site.name,
        {
          hosts: `^(?:${site.hosts.map(escapeRegExp).join('|')})\\.${escapeRegExp(site.domain)}$`,
          manager: site.manager,
          ssh: { user: 'runbot', port: fleet.portOf(site.manager) },
          ...(options.bmc
            ? {
                redfish: {
                  address: '127.0.0.1',
                  port: options.bmc.port,
                  user: options.bmc.user,
                  password_env: options.bmc.passwordEnv,
                  fingerprint: options.bmc.fingerprint,
                },
              }
            : {}),
        },
      ]),
    );
  return {
    /** Adds the host (and its site's manager) to the fleet and to the files; `write` saves them. */
    async add(host: string): Promise<void> {
      const site = await siteOf(host);
      const short = host.slice(0, host.indexOf('.'));
      if (site.hosts.includes(short)) return;
      await join(host, 'server');
      site.hosts.push(short);
    },
    async write(): Promise<void> {
      await writeFile(files.inventory, stringify({ sites: inventory() }));
      await writeFile(files.knownHosts, `${knownHosts.join('\n')}\n`);
      await writeFile(files.hosts, `${hostsLines.join('\n')}\n`);
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
    RUNBOT_HOSTS_FILE: parts.files.hosts,
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
      bmc: {
        port: bmc.port,
        user: bmc.user,
        fingerprint: bmc.fingerprint,
        passwordEnv: DEMO_BMC_PASSWORD_ENV,
      },
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
