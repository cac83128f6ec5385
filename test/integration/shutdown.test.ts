// Graceful shutdown of the real process: `node dist/cli.js start` against the Jira sandbox, a real
// redis-server and a real sshd. The step's command waits on the sshd side for a file the test
// creates only after it has sent SIGTERM, so the step is certainly running when the signal comes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions, type Workflow } from '../../src/definitions/index.js';
import { plainText } from '../../src/jira/adf.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import { HOST_FIELD, restoreProject, RMA_PROJECT } from '../../src/sandbox/rma-jira.js';
import { jiraSeeder } from '../../src/sandbox/seed.js';
import { until } from '../support/poll.js';
import { startRedis, type RedisInstance } from '../support/redis.js';
import { REPO_ROOT } from '../support/definitions.js';
import { startSshd, stopProcess, type Sshd } from '../support/sshd.js';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const MANAGER = 'manager-0.stop.internal';
const CREDENTIALS = { email: 'runbot@example.com', apiToken: 'shutdown-test-token-5f1c' };

const runbook = (work: string) => `name: slow-sync
inputs:
  host: { pattern: '^[a-z0-9.-]+$' }
steps:
  sync:
    kind: ssh
    target: '{{ site.manager }}'
    commands:
      - 'touch ${work}/started-{{ host.short }}; while [ ! -f ${work}/go-{{ host.short }} ]; do sleep 0.05; done; echo synced >> ${work}/ran-{{ host.short }}'
    timeout: 60s
`;
const workflow = `name: slow-sync
runbook: slow-sync
jira: { project: HOT, issue_type: RMA Restore }
fields: { host: ${HOST_FIELD.id} }
statuses:
  Sync: { step: sync, next: Done }
failure: Actionable
done: Done
`;

interface World {
  root: string;
  work: string;
  sshd: Sshd;
  redis: RedisInstance;
  sandbox: JiraSandbox;
  jiraUrl: string;
  workflow: Workflow;
}

let world: World;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  const root = await mkdtemp(path.join(tmpdir(), 'runbot-shutdown-'));
  await mkdir(path.join(root, 'runbooks'));
  await mkdir(path.join(root, 'workflows'));
  const work = path.join(root, 'work');
  await mkdir(work);
  const sshd = await startSshd({ knownHostsNames: [MANAGER] });
  await writeFile(
    path.join(root, 'workflows', 'inventory.yaml'),
    `sites:\n  stop:\n    hosts: '\\.stop\\.internal$'\n    manager: ${MANAGER}\n    ssh: { user: ${sshd.user}, port: ${sshd.port}, address: 127.0.0.1 }\n`,
  );
  await writeFile(path.join(root, 'workflows', 'slow-sync.yaml'), workflow);
  await writeFile(path.join(root, 'runbooks', 'slow-sync.yaml'), runbook(work));
  const loaded = (await loadDefinitions({ root })).workflows.get('slow-sync');
  if (!loaded) throw new Error('fixture workflow missing');
  const redis = await startRedis();
  const sandbox = new JiraSandbox({
    // Sync → Done, and any status → Actionable: tickets are created in Sync.
    projects: [restoreProject(loaded), RMA_PROJECT],
    customFields: [HOST_FIELD],
    credentials: CREDENTIALS,
  });
  const jiraUrl = await sandbox.start(0, '127.0.0.1');
  world = { root, work, sshd, redis, sandbox, jiraUrl, workflow: loaded };
});

afterAll(async () => {
  await world?.sandbox.stop();
  await world?.redis.stop();
  await world?.sshd.stop();
  if (world) await rm(world.root, { recursive: true, force: true });
});

let child: ChildProcess | undefined;
afterEach(async () => {
  if (child) await stopProcess(child);
  child = undefined;
});

/** A ticket in Sync for its own host, and the process, once the step runs on the sshd side. */
async function startBot(name: string, host: string, graceSeconds = 60) {
  const { key } = await jiraSeeder(world.jiraUrl, CREDENTIALS).restoreTicket(world.workflow, host);
  const short = host.split('.')[0] ?? host;
  const file = (what: string) => path.join(world.work, `${what}-${short}`);
  const output: string[] = [];
  const proc = spawn(process.execPath, [CLI, 'start'], {
    env: {
      PATH: process.env.PATH,
      JIRA_URL: world.jiraUrl,
      JIRA_EMAIL: CREDENTIALS.email,
      JIRA_API_TOKEN: CREDENTIALS.apiToken,
      REDIS_URL: world.redis.url,
      RUNBOT_QUEUE_PREFIX: name,
      RUNBOT_HTTP_PORT: '0',
      RUNBOT_DEFINITIONS: world.root,
      RUNBOT_SSH_KEY: world.sshd.clientKeyPath,
      RUNBOT_KNOWN_HOSTS: world.sshd.knownHostsPath,
      RUNBOT_POLL_INTERVAL: '0.2',
      RUNBOT_SHUTDOWN_GRACE: String(graceSeconds),
      RUNBOT_LOG_PRETTY: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  proc.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await until('the step running on the sshd side', () => existsSync(file('started')), {
    timeoutMs: 30_000,
  });
  return { key, file, proc, exited, log: () => output.join('') };
}

describe('shutdown: SIGTERM to `runbot start`', () => {
  it('lets the running step finish, transitions the ticket, and exits 0', async () => {
    const bot = await startBot('graceful', 'db-1.stop.internal');
    bot.proc.kill('SIGTERM');
    await until('the stopping log line', () => bot.log().includes('stopping: no new work'));
    // Still running after the signal: it waits for the step, which finishes only now.
    expect(bot.proc.exitCode).toBeNull();
    await writeFile(bot.file('go'), '');

    const exit = await bot.exited;
    expect(exit, bot.log()).toEqual({ code: 0, signal: null });
    expect(readFileSync(bot.file('ran'), 'utf8')).toBe('synced\n');
    const ticket = world.sandbox.snapshot(bot.key);
    expect(ticket?.status).toBe('Done');
    expect(ticket?.comments.map((c) => plainText(c.body)).join('\n')).toContain('sync done on');
    expect(bot.log()).toContain('runbot stopped');
    expect(bot.log()).not.toContain(CREDENTIALS.apiToken);
  });

  it('exits at once on a second signal, leaving the begun step recorded in Jira', async () => {
    const bot = await startBot('second-signal', 'db-2.stop.internal');
    bot.proc.kill('SIGTERM');
    await until('the stopping log line', () => bot.log().includes('stopping: no new work'));
    bot.proc.kill('SIGTERM');

    const exit = await bot.exited;
    expect(exit.code).not.toBe(0);
    expect(existsSync(bot.file('ran'))).toBe(false);
    // Nothing lost: the ticket is still in Sync, and its bookkeeping says the step began, so the next
    // process resumes it (or hands it to a person) instead of forgetting it.
    const ticket = world.sandbox.snapshot(bot.key);
    expect(ticket?.status).toBe('Sync');
    expect(ticket?.properties.runbot).toMatchObject({ running: { step: 'sync' } });
    await writeFile(bot.file('go'), ''); // lets the orphaned remote command end
  });

  it('closes anyway once the grace period is over, exiting 0 with the step left to the next process', async () => {
    const bot = await startBot('grace-over', 'db-3.stop.internal', 0.5);
    bot.proc.kill('SIGTERM');

    const exit = await bot.exited;
    expect(exit, bot.log()).toEqual({ code: 0, signal: null });
    expect(bot.log()).toContain('shutdown grace over: closing with steps still running');
    expect(existsSync(bot.file('ran'))).toBe(false);
    const ticket = world.sandbox.snapshot(bot.key);
    expect(ticket?.status).toBe('Sync');
    expect(ticket?.properties.runbot).toMatchObject({ running: { step: 'sync' } });
    await writeFile(bot.file('go'), ''); // lets the orphaned remote command end
  });
});
