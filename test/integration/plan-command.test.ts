// `runbot plan ISSUE-KEY` against the Jira sandbox: what the bot would do now for one ticket — the
// step, the target, the exact commands, the transition — read with one GET and changing nothing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema, type Config } from '../../src/config.js';
import { loadDefinitions, type Workflow } from '../../src/definitions/index.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import { HOST_FIELD, restoreProject, RMA_PROJECT } from '../../src/sandbox/rma-jira.js';
import { jiraSeeder } from '../../src/sandbox/seed.js';
import { planCommand } from '../../src/service/commands.js';
import { definitionsDir, REPO_ROOT } from '../support/definitions.js';

const CREDENTIALS = { email: 'runbot@example.com', apiToken: 'plan-token' };
const HOST = 'web-1.dev2.internal';
const GET_ISSUE = 'GET /rest/api/3/issue/{issueIdOrKey}';

interface World {
  sandbox: JiraSandbox;
  config: Config;
  workflow: Workflow;
  seed(): Promise<{ key: string; rma: string }>;
}

async function startWorld(): Promise<World> {
  // The shipped definitions plus a second workflow (another project), so a read per workflow would show.
  const second = readFileSync(path.join(REPO_ROOT, 'workflows/rma-restore.yaml'), 'utf8')
    .replace('name: rma-restore', 'name: ops-restore')
    .replace('project: HOT', 'project: OPS')
    .replace('customfield_10042', 'customfield_10077');
  const root = await definitionsDir({ 'workflows/ops-restore.yaml': second });
  const workflow = (await loadDefinitions({ root })).workflows.get('rma-restore');
  if (!workflow) throw new Error('shipped workflow rma-restore missing');
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
    RUNBOT_DEFINITIONS: root,
  });
  const seeder = jiraSeeder(jiraUrl, CREDENTIALS);
  return { sandbox, config, workflow, seed: () => seeder.restoreTicket(workflow, HOST) };
}

/** Runs `runbot plan`, returning its exit code, its lines and the Jira calls it made. */
async function plan(world: World, key: string, options: { json?: boolean } = {}) {
  const before = world.sandbox.requestCounts();
  const lines: string[] = [];
  const code = await planCommand(world.config, key, options, (line) => lines.push(line));
  const after = world.sandbox.requestCounts();
  const calls = Object.fromEntries(
    Object.entries(after)
      .map(([call, count]) => [call, count - (before[call] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
  return { code, lines, calls };
}

describe('runbot plan against the Jira sandbox', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world.sandbox.stop());

  it('shows the gate transition once the RMA is done', async () => {
    const { key, rma } = await world.seed();
    world.sandbox.moveAsHuman(rma, 'Done');
    const { code, lines, calls } = await plan(world, key);
    expect(code).toBe(0);
    expect(lines).toEqual([
      `${key} (Waiting for RMA, workflow rma-restore):`,
      `  move to Memcheck: ${rma} done`,
    ]);
    expect(calls).toEqual({ [GET_ISSUE]: 1 });
    expect(world.sandbox.snapshot(key)?.status).toBe('Waiting for RMA');
  });

  it('shows the step, the target host, the exact commands and the next status, and changes nothing', async () => {
    const { key, rma } = await world.seed();
    world.sandbox.moveAsHuman(rma, 'Done');
    world.sandbox.moveAsHuman(key, 'Memcheck');
    world.sandbox.moveAsHuman(key, 'Memcheck Running');
    world.sandbox.moveAsHuman(key, 'Sync');
    world.sandbox.moveAsHuman(key, 'Blacklist Removal');
    const snapshotBefore = world.sandbox.snapshot(key);

    const { code, lines, calls } = await plan(world, key);
    expect(code).toBe(0);
    expect(lines).toEqual([
      `${key} (Blacklist Removal, workflow rma-restore):`,
      '  run blacklist-removal on runbot@manager-0.dev2.internal:22',
      `    skip if: sudo -n /usr/sbin/blacklist show ${HOST}`,
      `    $ sudo -n /usr/sbin/blacklist remove ${HOST}`,
      '    $ sudo -n /usr/sbin/blacklist sync',
      '    then move to Second Sync',
    ]);
    // One read of the ticket for both workflows; no POST or PUT.
    expect(calls).toEqual({ [GET_ISSUE]: 1 });
    expect(world.sandbox.snapshot(key)).toEqual(snapshotBefore);
  });

  it('prints the decision as JSON with --json', async () => {
    const { key, rma } = await world.seed();
    world.sandbox.moveAsHuman(rma, 'Done');
    for (const status of ['Memcheck', 'Memcheck Running', 'Sync', 'Blacklist Removal', 'Second Sync'])
      world.sandbox.moveAsHuman(key, status);
    world.sandbox.moveAsHuman(key, 'Enable Alerting');
    const { code, lines, calls } = await plan(world, key, { json: true });
    expect(code).toBe(0);
    expect(JSON.parse(lines.join('\n'))).toMatchObject({
      kind: 'postInstructions',
      where: 'manager-0.dev2.internal',
      title: `Enable alerting for ${HOST}`,
      step: { name: 'enable-alerting', next: 'Rebalance' },
      blocks: expect.arrayContaining([
        {
          text: 'Run these commands on manager-0.dev2.internal:',
          commands: ['sudo /usr/sbin/uc_nagios.py web-1', 'sudo /usr/sbin/uc_nagios.py web-1 -i'],
        },
      ]) as unknown,
    });
    expect(Object.keys(calls)).toEqual([GET_ISSUE]);
  });

  it('says so for a ticket that does not exist, or that no workflow covers', async () => {
    const missing = await plan(world, 'HOT-999');
    expect(missing.code).toBe(1);
    expect(missing.lines).toEqual(['HOT-999: no such ticket (or not visible to runbot@example.com)']);
    const { rma } = await world.seed();
    const uncovered = await plan(world, rma);
    expect(uncovered.code).toBe(1);
    expect(uncovered.lines).toEqual([
      `${rma}: no workflow covers project RMA, issue type "RMA" (workflows: ops-restore, rma-restore)`,
    ]);
    expect(uncovered.calls).toEqual({ [GET_ISSUE]: 1 });
  });
});
