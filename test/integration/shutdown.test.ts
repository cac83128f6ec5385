// Graceful shutdown of the real process: `node dist/cli.js start` against the Jira sandbox, a real
// redis-server and a real sshd. The step's command waits on the sshd side for a file the test
// creates only after it has sent SIGTERM, so the step is certainly running when the signal comes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/poll.js';
import { REPO_ROOT } from '../support/definitions.js';
import { stopProcess } from '../support/sshd.js';
import { sshOf, startWorld, type World } from '../support/world.js';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const MANAGER = 'manager-0.stop.internal';

const steps = (work: string) => `
sync:
  kind: ssh
  target: '{{ site.manager }}'
  commands:
    - 'touch ${work}/started-{{ host.short }}; while [ ! -f ${work}/go-{{ host.short }} ]; do sleep 0.05; done; echo synced >> ${work}/ran-{{ host.short }}'
  timeout: 60s
`;

let world: World | undefined;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  world = await startWorld({
    name: 'slow-sync',
    sshd: { knownHostsNames: [MANAGER] },
    inventory: ({ sshd }) =>
      `sites:\n  stop:\n    hosts: '\\.stop\\.internal$'\n    manager: ${MANAGER}\n    ssh: ${sshOf(sshd)}\n`,
    // Sync → Done, and any status → Actionable: tickets are created in Sync.
    workflow: `statuses:
  Sync: { step: sync, next: Done }
`,
    steps: ({ work }) => steps(work),
    // The processes under test are spawned `runbot start`s, on the world's Config.
    roles: false,
  });
});

afterAll(() => world?.stop());

let child: ChildProcess | undefined;
afterEach(async () => {
  if (child) await stopProcess(child);
  child = undefined;
});

/** A ticket in Sync for its own host, and the process, once the step runs on the sshd side. */
async function startBot(name: string, host: string, graceSeconds = 60) {
  const w = world!;
  const { key } = await w.seed(host);
  const short = host.split('.')[0] ?? host;
  const file = (what: string) => path.join(w.work, `${what}-${short}`);
  const output: string[] = [];
  const proc = spawn(process.execPath, [CLI, 'start'], {
    env: {
      PATH: process.env.PATH,
      // JIRA_*, REDIS_URL, RUNBOT_HTTP_PORT=0, the definitions, the sshd's key and known_hosts, 0.2 s polls.
      ...w.env,
      RUNBOT_QUEUE_PREFIX: name,
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
    const ticket = world!.sandbox.snapshot(bot.key);
    expect(ticket?.status).toBe('Done');
    expect(world!.comments(bot.key).join('\n')).toContain('sync done on');
    expect(bot.log()).toContain('runbot stopped');
    expect(bot.log()).not.toContain(world!.credentials.apiToken);
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
    const ticket = world!.sandbox.snapshot(bot.key);
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
    const ticket = world!.sandbox.snapshot(bot.key);
    expect(ticket?.status).toBe('Sync');
    expect(ticket?.properties.runbot).toMatchObject({ running: { step: 'sync' } });
    await writeFile(bot.file('go'), ''); // lets the orphaned remote command end
  });
});
