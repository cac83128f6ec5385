// `runbot plan ISSUE-KEY` against the Jira sandbox: what the bot would do now for one ticket — the
// step, the target, the exact commands, the transition — read with one GET and changing nothing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCommand } from '../../src/cli/authoring.js';
import { REPO_ROOT } from '../support/definitions.js';
import { startWorld, type World } from '../support/world.js';

const HOST = 'web-1.dev2.internal';
const HELD_HOST = 'web-7.dev2.internal';
const GET_ISSUE = 'GET /rest/api/3/issue/{issueIdOrKey}';
/** The field display names its words use (read once, like the service does). */
const GET_FIELDS = 'GET /rest/api/3/field';

/** The shipped definitions plus a second workflow (another project), so a read per workflow would show. */
function startPlanWorld(): Promise<World> {
  const second = readFileSync(path.join(REPO_ROOT, 'workflows/rma-restore.yaml'), 'utf8')
    .replace('name: rma-restore', 'name: ops-restore')
    .replace('project: HOT', 'project: OPS')
    .replace('customfield_10042', 'customfield_10077');
  return startWorld({
    name: 'rma-restore',
    shipped: true,
    files: { 'workflows/ops-restore.yaml': second },
    redis: false,
    roles: false,
  });
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
    world = await startPlanWorld();
  });
  afterAll(() => world.stop());

  it('shows the gate transition once the RMA is done', async () => {
    const { key, rma } = await world.seed(HOST, { rmaDone: true });
    const { code, lines, calls } = await plan(world, key);
    expect(code).toBe(0);
    expect(lines).toEqual([
      `${key} (Waiting for RMA, workflow rma-restore):`,
      `  move to Memcheck: ${rma} done`,
    ]);
    // At the gate of a workflow with exclusive inputs: one search for other tickets of the host; and
    // the fields' display names, read once.
    expect(calls).toEqual({ [GET_ISSUE]: 1, 'GET /rest/api/3/search/jql': 1, [GET_FIELDS]: 1 });
    expect(world.sandbox.snapshot(key)?.status).toBe('Waiting for RMA');
  });

  it('shows that a second ticket for a host another ticket holds would wait', async () => {
    const first = await world.seed(HELD_HOST, { rmaDone: true });
    const second = await world.seed(HELD_HOST, { rmaDone: true });
    const { code, lines } = await plan(world, second.key);
    expect(code).toBe(0);
    expect(lines).toEqual([
      `${second.key} (Waiting for RMA, workflow rma-restore):`,
      `  wait for ${first.key}, which holds host ${HELD_HOST} (one comment)`,
    ]);
  });

  it('shows the step, the target host, the exact commands and the next status, and changes nothing', async () => {
    const { key } = await world.seed(HOST, { rmaDone: true });
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
    expect(calls).toEqual({ [GET_ISSUE]: 1, [GET_FIELDS]: 1 });
    expect(world.sandbox.snapshot(key)).toEqual(snapshotBefore);
  });

  it('prints the decision as JSON with --json', async () => {
    const { key } = await world.seed(HOST, { rmaDone: true });
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
    expect(Object.keys(calls).sort()).toEqual([GET_FIELDS, GET_ISSUE]);
  });

  it('says so for a ticket that does not exist, or that no workflow covers', async () => {
    const missing = await plan(world, 'HOT-999');
    expect(missing.code).toBe(1);
    expect(missing.lines).toEqual(['HOT-999: no such ticket (or not visible to runbot@example.com)']);
    const { rma } = await world.seed(HOST);
    const uncovered = await plan(world, rma);
    expect(uncovered.code).toBe(1);
    expect(uncovered.lines).toEqual([
      `${rma}: no workflow covers project RMA, issue type "RMA" (workflows: ops-restore, rma-restore)`,
    ]);
    expect(uncovered.calls).toEqual({ [GET_ISSUE]: 1 });
  });
});
