// One ticket from its first status to Done: the Jira sandbox, a real redis-server, a real OpenSSH
// sshd on loopback, and the service's own poller and worker. The commands really run on the sshd
// side and the test reads their effect there.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config.js';
import { loadDefinitions, type Workflow } from '../../src/definitions/index.js';
import { plainText } from '../../src/jira/adf.js';
import { createLogger } from '../../src/logger.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import { HOST_FIELD, restoreProject, RMA_PROJECT } from '../../src/sandbox/rma-jira.js';
import { startRedis, type RedisInstance } from '../../src/sandbox/redis.js';
import { jiraSeeder } from '../../src/sandbox/seed.js';
import { startService, type RunningService } from '../../src/service/app.js';
import { until } from '../support/poll.js';
import { startSshd, type Sshd } from '../support/sshd.js';

const HOST = 'web-1.e2e.internal';
const MANAGER = 'manager-0.e2e.internal';
const CREDENTIALS = { email: 'runbot@example.com', apiToken: 'e2e-token' };

/** A small restore runbook whose commands leave traces in `work` on the sshd side. */
function definitions(work: string) {
  const runbook = `name: restore-lite
inputs:
  host: { pattern: '^[a-z0-9.-]+$' }
steps:
  memcheck-start:
    kind: ssh
    target: '{{ host }}'
    commands: ['echo PASSED > ${work}/memtest-{{ host.short }}']
    timeout: 20s
  memcheck-wait:
    kind: wait
    target: '{{ host }}'
    check: cat ${work}/memtest-{{ host.short }}
    done_when: { output: '^PASSED' }
    interval: 1s
    timeout: 60s
  sync:
    kind: ssh
    target: '{{ site.manager }}'
    commands: ['echo sync {{ host.short }} on "$(hostname)" >> ${work}/manager.log']
    timeout: 20s
  enable-alerting:
    kind: manual
    target: '{{ site.manager }}'
    title: Enable alerting for {{ host }}
    instructions:
      - text: 'Run on {{ site.manager }}:'
        commands: ['sudo /usr/sbin/uc_nagios.py {{ host.short }} -e']
  rebalance:
    kind: ssh
    target: '{{ site.manager }}'
    commands: ['echo rebalance {{ host.short }} >> ${work}/manager.log']
    timeout: 20s
`;
  const workflow = `name: restore-lite
runbook: restore-lite
jira: { project: HOT, issue_type: RMA Restore }
fields: { host: ${HOST_FIELD.id} }
gate: { status: Waiting for RMA, link: is blocked by, next: Memcheck }
statuses:
  Memcheck: { step: memcheck-start, next: Memcheck Running }
  Memcheck Running: { step: memcheck-wait, next: Sync }
  Sync: { step: sync, next: Enable Alerting }
  Enable Alerting: { step: enable-alerting, next: Rebalance }
  Rebalance: { step: rebalance, next: Done }
failure: Actionable
done: Done
`;
  return { runbook, workflow };
}

interface World {
  sshd: Sshd;
  redis: RedisInstance;
  sandbox: JiraSandbox;
  service: RunningService;
  work: string;
  jiraUrl: string;
  workflow: Workflow;
}

async function startWorld(options: { pinWrongKey?: boolean } = {}): Promise<World> {
  const root = await mkdtemp(path.join(tmpdir(), 'runbot-e2e-'));
  const work = path.join(root, 'work');
  await mkdir(work);
  await mkdir(path.join(root, 'runbooks'));
  await mkdir(path.join(root, 'workflows'));
  const files = definitions(work);
  await writeFile(path.join(root, 'runbooks', 'restore-lite.yaml'), files.runbook);
  await writeFile(path.join(root, 'workflows', 'restore-lite.yaml'), files.workflow);

  const sshd = await startSshd({ knownHostsNames: [HOST, MANAGER] });
  await writeFile(
    path.join(root, 'workflows', 'inventory.yaml'),
    `sites:\n  e2e:\n    hosts: '\\.e2e\\.internal$'\n    manager: ${MANAGER}\n    ssh: { user: ${sshd.user}, port: ${sshd.port}, address: 127.0.0.1 }\n`,
  );
  const knownHosts = options.pinWrongKey ? path.join(root, 'known_hosts') : sshd.knownHostsPath;
  if (options.pinWrongKey) {
    // A key that is not the server's: what the bot sees when a repaired host was reimaged.
    const other = await startSshd();
    const wrongKey = other.hostKeyPublic.split(' ').slice(0, 2).join(' ');
    await other.stop();
    await writeFile(
      knownHosts,
      `[${HOST}]:${sshd.port} ${wrongKey}\n[${MANAGER}]:${sshd.port} ${wrongKey}\n`,
    );
  }

  const redis = await startRedis();
  const workflow = (await loadDefinitions({ root })).workflows.get('restore-lite');
  if (!workflow) throw new Error('fixture workflow missing');
  const sandbox = new JiraSandbox({
    projects: [restoreProject(workflow), RMA_PROJECT],
    customFields: [HOST_FIELD],
    credentials: CREDENTIALS,
  });
  const jiraUrl = await sandbox.start(0, '127.0.0.1');
  const config = ConfigSchema.parse({
    JIRA_URL: jiraUrl,
    JIRA_EMAIL: CREDENTIALS.email,
    JIRA_API_TOKEN: CREDENTIALS.apiToken,
    REDIS_URL: redis.url,
    RUNBOT_HTTP_PORT: '0',
    RUNBOT_DEFINITIONS: root,
    RUNBOT_SSH_KEY: sshd.clientKeyPath,
    RUNBOT_KNOWN_HOSTS: knownHosts,
    RUNBOT_POLL_INTERVAL: '0.2',
  });
  const service = await startService(
    config,
    { poll: true, work: true, http: false },
    createLogger({ level: 'warn' }),
  );
  return { sshd, redis, sandbox, service, work, jiraUrl, workflow };
}

async function stopWorld(world: World | undefined): Promise<void> {
  await world?.service.stop();
  await world?.sandbox.stop();
  await world?.redis.stop();
  await world?.sshd.stop();
}

/** Seeds an RMA ticket and a restore ticket blocked by it, through the REST API; the RMA is repaired. */
async function seed(world: World): Promise<string> {
  const { key, rma } = await jiraSeeder(world.jiraUrl, CREDENTIALS).restoreTicket(world.workflow, HOST);
  world.sandbox.moveAsHuman(rma, 'Done');
  return key;
}

const commentsOf = (world: World, key: string) =>
  (world.sandbox.snapshot(key)?.comments ?? []).map((comment) => plainText(comment.body));

describe('e2e: an RMA restore ticket over a real sshd', () => {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => stopWorld(world));

  it('goes from Waiting for RMA to Done, with one Action Required comment the operator answers', async () => {
    const w = world!;
    const key = await seed(w);
    const statusOf = () => w.sandbox.snapshot(key)?.status;

    await until(
      'the manual step',
      () =>
        statusOf() === 'Enable Alerting' &&
        commentsOf(w, key).some((text) => text.includes('Action Required')),
    );
    // The bot keeps polling while the ticket waits for a person; the instructions stay a single comment.
    const polls = await until('two more poll cycles', async () => {
      const before = w.sandbox.requestCounts()['GET /rest/api/3/search/jql'] ?? 0;
      await until(
        'searches',
        () => (w.sandbox.requestCounts()['GET /rest/api/3/search/jql'] ?? 0) >= before + 2,
      );
      return true;
    });
    expect(polls).toBe(true);
    const actionRequired = commentsOf(w, key).filter((text) => text.includes('Action Required'));
    expect(actionRequired, commentsOf(w, key).join('\n----\n')).toHaveLength(1);
    expect(actionRequired[0]).toContain('sudo /usr/sbin/uc_nagios.py web-1 -e');
    expect(actionRequired[0]).toContain(`Run on ${MANAGER}:`);

    w.sandbox.moveAsHuman(key, 'Rebalance');
    await until('Done', () => statusOf() === 'Done');

    // The commands ran on the sshd side, once each.
    expect(readFileSync(path.join(w.work, 'memtest-web-1'), 'utf8')).toBe('PASSED\n');
    expect(readFileSync(path.join(w.work, 'manager.log'), 'utf8').trim().split('\n')).toEqual([
      expect.stringMatching(/^sync web-1 on /),
      'rebalance web-1',
    ]);
    // The comments record what ran, where, and with which runbook version.
    const comments = commentsOf(w, key);
    expect(comments.find((text) => text.includes('sync done on'))).toMatch(
      new RegExp(
        `sync done on ${MANAGER.replaceAll('.', '\\.')}[\\s\\S]*exit 0[\\s\\S]*runbook restore-lite@[0-9a-f]{12}`,
      ),
    );
    expect(comments.filter((text) => text.includes('rebalance done on'))).toHaveLength(1);
    expect(w.sandbox.snapshot(key)?.properties.runbot).toMatchObject({ status: 'Done' });
  });
});

describe('e2e: host key check', () => {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startWorld({ pinWrongKey: true });
  });
  afterAll(() => stopWorld(world));

  it('refuses the step on a wrong host key and says so on the ticket', async () => {
    const w = world!;
    const key = await seed(w);
    await until('the ticket in Actionable', () => w.sandbox.snapshot(key)?.status === 'Actionable');
    const [comment] = commentsOf(w, key).filter((text) => text.includes('Host key'));
    expect(comment).toContain(`Host key of ${HOST} changed`);
    // The fingerprint in the comment is the one OpenSSH shows for the server's real key.
    const fingerprint = execFileSync('ssh-keygen', ['-lf', w.sshd.hostKeyPublicPath], {
      encoding: 'utf8',
    }).split(' ')[1];
    expect(fingerprint).toMatch(/^SHA256:/);
    expect(comment).toContain(fingerprint);
    expect(comment).toContain('ssh-keygen -R');
    expect(existsSync(path.join(w.work, 'memtest-web-1'))).toBe(false);
  });
});
