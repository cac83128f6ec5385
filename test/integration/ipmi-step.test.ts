// IPMI steps through the whole service: the Jira sandbox, a real redis-server, ipmi_sim as the BMC.
// A site with IPMI access gets the action done and the ticket moved; a site without it gets the
// manual fallback as an Action Required comment; a wrong password sends the ticket to a person.
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
import { startIpmiSim, type IpmiSim } from '../support/ipmi.js';
import { until } from '../support/poll.js';

const CREDENTIALS = { email: 'runbot@example.com', apiToken: 'ipmi-token' };

describe('ipmi steps in the service', () => {
  let sim: IpmiSim;
  let redis: RedisInstance;
  let sandbox: JiraSandbox;
  let service: RunningService | undefined;
  let jiraUrl: string;
  let workflow: Workflow;

  beforeAll(async () => {
    sim = await startIpmiSim();
    const root = await mkdtemp(path.join(tmpdir(), 'runbot-ipmi-step-'));
    await mkdir(path.join(root, 'runbooks'));
    await mkdir(path.join(root, 'workflows'));
    await writeFile(
      path.join(root, 'runbooks', 'bmc.yaml'),
      `name: bmc
inputs:
  host: { pattern: '^[a-z0-9.-]+$' }
steps:
  power-cycle:
    kind: ipmi
    target: '{{ host }}'
    action: power-cycle
    timeout: 30s
    title: Power-cycle {{ host }}
    instructions:
      - text: 'Power-cycle {{ host }} from its BMC web console, then check it boots.'
`,
    );
    await writeFile(
      path.join(root, 'workflows', 'bmc.yaml'),
      `name: bmc
runbook: bmc
jira: { project: HOT, issue_type: RMA Restore }
fields: { host: ${HOST_FIELD.id} }
statuses:
  Power Cycle: { step: power-cycle, next: Done }
failure: Actionable
done: Done
`,
    );
    const ipmi = (user: string, variable: string) =>
      `{ address: ${sim.address}, port: ${sim.port}, user: ${user}, password_env: ${variable} }`;
    await writeFile(
      path.join(root, 'workflows', 'inventory.yaml'),
      `sites:
  lab:
    hosts: '\\.lab\\.internal$'
    manager: manager-0.lab.internal
    ssh: { user: runbot }
    ipmi: ${ipmi(sim.user, 'RUNBOT_TEST_BMC_PASSWORD')}
  wrong:
    hosts: '\\.wrong\\.internal$'
    manager: manager-0.wrong.internal
    ssh: { user: runbot }
    ipmi: ${ipmi(sim.user, 'RUNBOT_TEST_BMC_WRONG')}
  sm1:
    hosts: '\\.sm1\\.internal$'
    manager: manager-0.sm1.internal
    ssh: { user: runbot }
    ipmi: none
`,
    );
    process.env.RUNBOT_TEST_BMC_PASSWORD = sim.password;
    process.env.RUNBOT_TEST_BMC_WRONG = 'not-the-password';
    redis = await startRedis();
    const loaded = (await loadDefinitions({ root })).workflows.get('bmc');
    if (!loaded) throw new Error('fixture workflow missing');
    workflow = loaded;
    sandbox = new JiraSandbox({
      projects: [restoreProject(workflow), RMA_PROJECT],
      customFields: [HOST_FIELD],
      credentials: CREDENTIALS,
    });
    jiraUrl = await sandbox.start(0, '127.0.0.1');
    const config = ConfigSchema.parse({
      JIRA_URL: jiraUrl,
      JIRA_EMAIL: CREDENTIALS.email,
      JIRA_API_TOKEN: CREDENTIALS.apiToken,
      REDIS_URL: redis.url,
      RUNBOT_HTTP_PORT: '0',
      RUNBOT_DEFINITIONS: root,
      RUNBOT_POLL_INTERVAL: '0.2',
    });
    service = await startService(
      config,
      { poll: true, work: true, http: false },
      createLogger({ level: 'silent' }),
    );
  });
  afterAll(async () => {
    await service?.stop();
    await sandbox?.stop();
    await redis?.stop();
    await sim?.stop();
    delete process.env.RUNBOT_TEST_BMC_PASSWORD;
    delete process.env.RUNBOT_TEST_BMC_WRONG;
  });

  const seed = async (host: string) =>
    (await jiraSeeder(jiraUrl, CREDENTIALS).restoreTicket(workflow, host)).key;
  const comments = (key: string) =>
    (sandbox.snapshot(key)?.comments ?? []).map((comment) => plainText(comment.body));

  it('power-cycles the host through its BMC and moves the ticket on', async () => {
    await sim.setPower('on');
    const key = await seed('db-3.lab.internal');
    await until('Done', () => sandbox.snapshot(key)?.status === 'Done');
    expect(await sim.controlCalls()).toContain('set power 0');
    const [done] = comments(key).filter((text) => text.includes('power-cycle done'));
    expect(done).toContain(
      `ipmitool -I lanplus -H 127.0.0.1 -p ${sim.port} -U runbot -E chassis power cycle`,
    );
    expect(done).toContain('Chassis Power Control: Cycle');
  });

  it('posts the manual fallback where the site has no IPMI access, once', async () => {
    const before = await sim.controlCalls();
    const key = await seed('container-107-05.sm1.internal');
    const posted = await until('the Action Required comment', () =>
      comments(key).find((text) => text.includes('Action Required')),
    );
    expect(posted).toContain('Power-cycle container-107-05.sm1.internal');
    expect(posted).toContain('from its BMC web console');
    const searches = sandbox.requestCounts()['GET /rest/api/3/search/jql'] ?? 0;
    await until(
      'two more polls',
      () => (sandbox.requestCounts()['GET /rest/api/3/search/jql'] ?? 0) >= searches + 2,
    );
    expect(comments(key).filter((text) => text.includes('Action Required'))).toHaveLength(1);
    expect(sandbox.snapshot(key)?.status).toBe('Power Cycle');
    expect(await sim.controlCalls()).toEqual(before);
  });

  it('sends the ticket to a person when the BMC refuses the password, naming the variable, not the value', async () => {
    const key = await seed('db-4.wrong.internal');
    await until('Actionable', () => sandbox.snapshot(key)?.status === 'Actionable');
    const [failed] = comments(key).filter((text) => text.includes('failed'));
    expect(failed).toContain('$RUNBOT_TEST_BMC_WRONG');
    expect(failed).not.toContain('not-the-password');
  });
});
