// The world the service tests run against, built one way: a temporary definitions directory
// (a runbook, a workflow, an inventory), the Jira sandbox with the restore and RMA projects, and —
// when asked — a real OpenSSH sshd and a real redis-server, a Config wired to all of them, and the
// service's own poller and worker. Built the one way every environment is
// (src/sandbox/environment.ts): everything started here stops in `stop()`, newest first, and a world
// that fails half-way through starting stops what it had started before it throws.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigSchema, type Config } from '../../src/config.js';
import { loadDefinitions, type Workflow } from '../../src/definitions/index.js';
import { plainText } from '../../src/jira/adf.js';
import { createLogger } from '../../src/logger.js';
import { BOOKKEEPING_PROPERTY, type Bookkeeping } from '../../src/planner/index.js';
import { buildEnvironment, type Environment } from '../../src/sandbox/environment.js';
import type { JiraSandbox } from '../../src/sandbox/jira/index.js';
import { startRedis, type RedisInstance } from '../../src/sandbox/redis.js';
import { HOST_FIELD } from '../../src/sandbox/rma-jira.js';
import type { Credentials } from '../../src/sandbox/seed.js';
import {
  startService,
  type Roles,
  type RunningService,
  type ServiceOverrides,
} from '../../src/service/app.js';
import { definitionsDir } from './definitions.js';
import { until } from './poll.js';
import { startSshd, type Sshd, type SshdOptions } from './sshd.js';

/** What a definition file may name: the world's directories and its sshd. */
export interface WorldParts {
  root: string;
  /** An empty directory the runbook's commands write their traces into (on the sshd side). */
  work: string;
  sshd: Sshd | undefined;
}

/** A file's text, or a function of the world's parts for text that names ports and paths. */
export type Text = string | ((parts: WorldParts) => string);

export interface WorldOptions {
  /** The runbook's and the workflow's name (`runbooks/<name>.yaml`, `workflows/<name>.yaml`). */
  name: string;
  /**
   * The runbook's steps, as YAML mappings from the step's name (written under `steps:`); the
   * runbook's name and its one input, `host`, are the same in every test world.
   */
  steps?: Text;
  /**
   * The workflow's own lines (`gate:`, `statuses:`); its name, runbook, Jira project (HOT, RMA
   * Restore), host field and `failure: Actionable` / `done: Done` are the same in every test world.
   */
  workflow?: Text;
  /** `workflows/inventory.yaml`. */
  inventory?: Text;
  /** Further files, by path under the definitions root (a known_hosts file, a second workflow). */
  files?: Record<string, Text>;
  /** Start from a copy of the shipped definitions (then `name` is the shipped workflow to use). */
  shipped?: boolean;
  /** Start a real sshd with these options; its key and known_hosts go into the Config. */
  sshd?: SshdOptions;
  /** Start a real redis-server (default true); without it the Config names no Redis. */
  redis?: boolean;
  /** Config variables on top of the world's (they win). */
  env?: Record<string, string> | ((parts: WorldParts) => Record<string, string>);
  /** Variables set in this process while the world runs: the BMC passwords the inventory names. */
  processEnv?: Record<string, string>;
  /** The roles of the service started with the world (default poll and work); false starts none. */
  roles?: Roles | false;
  /** Level of the services' logger (default warn). */
  logLevel?: 'warn' | 'silent';
}

export interface World extends WorldParts {
  redis: RedisInstance | undefined;
  sandbox: JiraSandbox;
  jiraUrl: string;
  credentials: Credentials;
  /** The variables the Config was parsed from (a spawned `runbot start` gets the same). */
  env: Record<string, string>;
  config: Config;
  workflow: Workflow;
  /** The services started so far, the world's own first. */
  services: RunningService[];
  /** Starts another service on this world's Config (with changes), stopped with the world. */
  startService(
    roles?: Roles,
    options?: { config?: Partial<Config>; overrides?: ServiceOverrides },
  ): Promise<RunningService>;
  /** An RMA ticket and a restore ticket for `host` blocked by it, through Jira's REST API. */
  seed(host: string, options?: { rmaDone?: boolean }): Promise<{ key: string; rma: string }>;
  /** Writes the ticket's bookkeeping through Jira's REST API, as the bot keeps it (a past the bot left). */
  setBookkeeping(key: string, bookkeeping: Bookkeeping): Promise<void>;
  /** The ticket's comments as plain text, oldest first. */
  comments(key: string): string[];
  /** The text of a file the steps wrote under `work`, undefined while there is none. */
  workFile(name: string): string | undefined;
  /** The ticket's status in the sandbox (undefined for a ticket it does not hold). */
  status(key: string): string | undefined;
  /** How many searches Jira has answered: one per poll cycle. */
  searches(): number;
  /** Resolves once Jira has answered `count` more searches: `count` more poll cycles have run. */
  pollCycles(count: number): Promise<void>;
  stop(): Promise<void>;
}

const POLL_AND_WORK: Roles = { poll: true, work: true, http: false };

/** An inventory site's `ssh:` value for the sshd on loopback. */
export function sshOf(sshd: Sshd | undefined): string {
  if (!sshd) throw new Error('world: the inventory names the sshd, but the world has none: pass `sshd: {}`');
  return `{ user: ${sshd.user}, port: ${sshd.port}, address: 127.0.0.1 }`;
}

/**
 * An inventory site as YAML under `sites:`: NAME holds the hosts ending in `.NAME.internal`, its
 * manager is manager-0.NAME.internal, the bot logs in as runbot; `more` adds keys (`ipmi`, `redfish`,
 * `breaker`) or replaces these (`ssh: sshOf(sshd)`).
 */
export function inventorySite(name: string, more: Record<string, string> = {}): string {
  const keys = {
    hosts: `'\\.${name}\\.internal$'`,
    manager: `manager-0.${name}.internal`,
    ssh: '{ user: runbot }',
    ...more,
  };
  const lines = Object.entries(keys).map(([key, value]) => `    ${key}: ${value}`);
  return `  ${name}:\n${lines.join('\n')}\n`;
}

/** Indents YAML two spaces, to nest it under a key; a leading newline (after a backtick) is dropped. */
const nested = (yaml: string) =>
  yaml
    .replace(/^\n/, '')
    .trimEnd()
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');

const runbookFile = (name: string, steps: string) => `name: ${name}
inputs:
  host: { pattern: '^[a-z0-9.-]+$' }
steps:
${nested(steps)}
`;

const workflowFile = (name: string, own: string) => `name: ${name}
runbook: ${name}
jira: { project: HOT, issue_type: RMA Restore }
fields: { host: ${HOST_FIELD.id} }
${own.trimEnd()}
failure: Actionable
done: Done
${own.includes('transitions:') ? '' : 'transitions: { Done: { fields: { resolution: { name: Done } } } }\n'}`;

export async function startWorld(options: WorldOptions): Promise<World> {
  return buildEnvironment((environment) => build(options, environment));
}

async function build(options: WorldOptions, environment: Environment): Promise<World> {
  const { name } = options;
  let root: string;
  if (options.shipped) {
    root = await definitionsDir();
    environment.defer(() => rm(root, { recursive: true, force: true }));
  } else root = await environment.directory(`runbot-${name}-`);
  const work = path.join(root, 'work');
  await mkdir(work);

  const sshd = options.sshd
    ? await environment.start(startSshd(options.sshd), (started) => started.stop())
    : undefined;
  const parts: WorldParts = { root, work, sshd };
  const text = (value: Text) => (typeof value === 'string' ? value : value(parts));
  const files: Record<string, Text> = { ...options.files };
  const { steps, workflow: own } = options;
  if (steps) files[`runbooks/${name}.yaml`] = () => runbookFile(name, text(steps));
  if (own) files[`workflows/${name}.yaml`] = () => workflowFile(name, text(own));
  if (options.inventory) files['workflows/inventory.yaml'] = options.inventory;
  for (const [file, value] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text(value));
  }

  environment.processEnv(options.processEnv ?? {});

  const redis =
    (options.redis ?? true) ? await environment.start(startRedis(), (started) => started.stop()) : undefined;

  const workflow = (await loadDefinitions({ root })).workflows.get(name);
  if (!workflow) throw new Error(`world: workflow ${name} missing from ${root}/workflows`);
  const credentials = { email: 'runbot@example.com', apiToken: `${name}-test-token` };
  const jira = await environment.jira({ workflow, credentials });
  const { sandbox, url: jiraUrl } = jira;

  const env: Record<string, string> = {
    JIRA_URL: jiraUrl,
    JIRA_EMAIL: credentials.email,
    JIRA_API_TOKEN: credentials.apiToken,
    RUNBOT_DEFINITIONS: root,
    // Without Redis no service runs (the commands that only read Jira): no port, no poll interval.
    ...(redis ? { REDIS_URL: redis.url, RUNBOT_HTTP_PORT: '0', RUNBOT_POLL_INTERVAL: '0.2' } : {}),
    ...(sshd ? { RUNBOT_SSH_KEY: sshd.clientKeyPath, RUNBOT_KNOWN_HOSTS: sshd.knownHostsPath } : {}),
    ...(typeof options.env === 'function' ? options.env(parts) : options.env),
  };
  const config = ConfigSchema.parse(env);
  const services: RunningService[] = [];
  const searches = () => sandbox.requestCounts()['GET /rest/api/3/search/jql'] ?? 0;

  const world: World = {
    ...parts,
    redis,
    sandbox,
    jiraUrl,
    credentials,
    env,
    config,
    workflow,
    services,
    async startService(roles = POLL_AND_WORK, more = {}) {
      const service = await environment.start(
        startService(
          { ...config, ...more.config },
          roles,
          createLogger({ level: options.logLevel ?? 'warn' }),
          more.overrides,
        ),
        (started) => started.stop(),
      );
      services.push(service);
      return service;
    },
    seed: (host, seedOptions = {}) => jira.seedTicket(host, { rmaDone: seedOptions.rmaDone ?? false }),
    async setBookkeeping(key, bookkeeping) {
      const basic = Buffer.from(`${credentials.email}:${credentials.apiToken}`).toString('base64');
      const response = await fetch(`${jiraUrl}/rest/api/3/issue/${key}/properties/${BOOKKEEPING_PROPERTY}`, {
        method: 'PUT',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
        body: JSON.stringify(bookkeeping),
      });
      if (!response.ok) throw new Error(`world: PUT bookkeeping of ${key} answered ${response.status}`);
    },
    comments: (key) => (sandbox.snapshot(key)?.comments ?? []).map((comment) => plainText(comment.body)),
    workFile: (name) => {
      const file = path.join(work, name);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
    status: (key) => sandbox.snapshot(key)?.status,
    searches,
    async pollCycles(count) {
      const before = searches();
      await until(`${count} more poll cycles`, () => searches() >= before + count);
    },
    stop: () => environment.stop(),
  };
  if (options.roles !== false) await world.startService(options.roles ?? POLL_AND_WORK);
  return world;
}
