// RUNBOT_DRY_RUN over the real parts: the service plans a ticket and comments the whole route it
// would take, yet nothing runs — checked on the servers' side (sshd's logins, the files its commands
// would write, ipmi_sim's chassis control) — and the ticket does not move.
import { readdir, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config.js';
import { loadDefinitions } from '../../src/definitions/index.js';
import { plainText } from '../../src/jira/adf.js';
import { createLogger } from '../../src/logger.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import { HOST_FIELD, restoreProject, RMA_PROJECT } from '../../src/sandbox/rma-jira.js';
import { startRedis, type RedisInstance } from '../../src/sandbox/redis.js';
import { jiraSeeder } from '../../src/sandbox/seed.js';
import { startService, type RunningService } from '../../src/service/app.js';
import { startIpmiSim, type IpmiSim } from '../support/ipmi.js';
import { until } from '../support/poll.js';
import { startSshd, type Sshd } from '../support/sshd.js';

const HOST = 'web-1.dry.internal';
const MANAGER = 'manager-0.dry.internal';
const CREDENTIALS = { email: 'runbot@example.com', apiToken: 'dry-token' };

describe('dry run: plans and comments, runs nothing', () => {
  let sshd: Sshd;
  let sim: IpmiSim;
  let redis: RedisInstance;
  let sandbox: JiraSandbox;
  let service: RunningService | undefined;
  let work: string;
  let key: string;

  beforeAll(async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'runbot-dry-'));
    work = path.join(root, 'work');
    await mkdir(work);
    await mkdir(path.join(root, 'runbooks'));
    await mkdir(path.join(root, 'workflows'));
    await writeFile(
      path.join(root, 'runbooks', 'dry.yaml'),
      `name: dry
inputs:
  host: { pattern: '^[a-z0-9.-]+$' }
steps:
  power-cycle:
    kind: ipmi
    target: '{{ host }}'
    action: power-cycle
  memcheck-start:
    kind: ssh
    target: '{{ host }}'
    commands: ['echo started > ${work}/memtest-{{ host.short }}']
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
    commands: ['echo sync {{ host.short }} >> ${work}/manager.log']
    timeout: 20s
`,
    );
    await writeFile(
      path.join(root, 'workflows', 'dry.yaml'),
      `name: dry
runbook: dry
jira: { project: HOT, issue_type: RMA Restore }
fields: { host: ${HOST_FIELD.id} }
statuses:
  Power Cycle: { step: power-cycle, next: Memcheck }
  Memcheck: { step: memcheck-start, next: Memcheck Running }
  Memcheck Running: { step: memcheck-wait, next: Sync }
  Sync: { step: sync, next: Done }
failure: Actionable
done: Done
`,
    );
    sshd = await startSshd({ knownHostsNames: [HOST, MANAGER] });
    sim = await startIpmiSim();
    await writeFile(
      path.join(root, 'workflows', 'inventory.yaml'),
      `sites:
  dry:
    hosts: '\\.dry\\.internal$'
    manager: ${MANAGER}
    ssh: { user: ${sshd.user}, port: ${sshd.port}, address: 127.0.0.1 }
    ipmi: { address: ${sim.address}, port: ${sim.port}, user: ${sim.user}, password_env: RUNBOT_TEST_IPMI_PASSWORD }
`,
    );
    process.env.RUNBOT_TEST_IPMI_PASSWORD = sim.password;
    redis = await startRedis();
    const workflow = (await loadDefinitions({ root })).workflows.get('dry');
    if (!workflow) throw new Error('fixture workflow missing');
    sandbox = new JiraSandbox({
      projects: [restoreProject(workflow), RMA_PROJECT],
      customFields: [HOST_FIELD],
      credentials: CREDENTIALS,
    });
    const jiraUrl = await sandbox.start(0, '127.0.0.1');
    key = (await jiraSeeder(jiraUrl, CREDENTIALS).restoreTicket(workflow, HOST)).key;
    const config = ConfigSchema.parse({
      JIRA_URL: jiraUrl,
      JIRA_EMAIL: CREDENTIALS.email,
      JIRA_API_TOKEN: CREDENTIALS.apiToken,
      REDIS_URL: redis.url,
      RUNBOT_HTTP_PORT: '0',
      RUNBOT_DEFINITIONS: root,
      RUNBOT_SSH_KEY: sshd.clientKeyPath,
      RUNBOT_KNOWN_HOSTS: sshd.knownHostsPath,
      RUNBOT_POLL_INTERVAL: '0.2',
      RUNBOT_DRY_RUN: 'true',
    });
    service = await startService(
      config,
      { poll: true, work: true, http: false },
      createLogger({ level: 'warn' }),
    );
  });
  afterAll(async () => {
    await service?.stop();
    await sandbox?.stop();
    await redis?.stop();
    await sim?.stop();
    await sshd?.stop();
    delete process.env.RUNBOT_TEST_IPMI_PASSWORD;
  });

  const comments = () => (sandbox.snapshot(key)?.comments ?? []).map((comment) => plainText(comment.body));

  it('comments the full plan once, and nothing runs on the SSH host or the BMC', async () => {
    const [plan] = await until('the dry-run comment', () => {
      const found = comments().filter((text) => text.includes('Dry run'));
      return found.length > 0 ? found : undefined;
    });
    // The poller keeps planning the ticket; the comment stays a single one.
    const searches = sandbox.requestCounts()['GET /rest/api/3/search/jql'] ?? 0;
    await until(
      'three more poll cycles',
      () => (sandbox.requestCounts()['GET /rest/api/3/search/jql'] ?? 0) >= searches + 3,
    );
    expect(comments().filter((text) => text.includes('Dry run'))).toHaveLength(1);

    // The whole route, in order: the BMC action, then each step's commands on their hosts.
    const route = [
      'Power Cycle:',
      `power-cycle ${HOST} over IPMI (BMC 127.0.0.1:${sim.port})`,
      `$ ipmitool -I lanplus -H 127.0.0.1 -p ${sim.port} -U runbot -E chassis power cycle`,
      'Memcheck:',
      `run memcheck-start on ${sshd.user}@${HOST}:${sshd.port}`,
      `$ echo started > ${work}/memtest-web-1`,
      'Memcheck Running:',
      `check memcheck-wait on ${HOST}`,
      'Sync:',
      `run sync on ${sshd.user}@${MANAGER}:${sshd.port}`,
      'then move to Done',
    ];
    let at = -1;
    for (const line of route) {
      const found = plan!.indexOf(line, at + 1);
      expect(found, `"${line}" after position ${at} in:\n${plan}`).toBeGreaterThan(at);
      at = found;
    }
    expect(plan).not.toContain(sim.password);

    // Nothing ran: sshd accepted no login, no command left its file, the BMC saw no chassis control.
    expect(sshd.acceptedLogins()).toBe(0);
    expect(await readdir(work)).toEqual([]);
    expect((await sim.controlCalls()).filter((call) => call.startsWith('set'))).toEqual([]);
    // And the ticket did not move.
    expect(sandbox.snapshot(key)?.status).toBe('Power Cycle');
  });
});
