// `runbot doctor` against the Jira sandbox: a healthy site passes every check with exit 0; a site
// broken once in each way doctor checks names each problem with its fix and exits 1; bad credentials
// stop at the auth check; and doctor only ever reads (GET).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Workflow } from '../../src/definitions/index.js';
import { runDoctor, type DoctorRow } from '../../src/jira/doctor.js';
import { createJiraAdapter } from '../../src/jira/index.js';
import { createLogger } from '../../src/logger.js';
import { DEMO_CREDENTIALS } from '../../src/sandbox/demo-env.js';
import {
  DONE_RESOLUTION,
  brokenSite,
  seedOnePerStatus,
  withTransitionScreen,
} from '../../src/sandbox/doctor-jira.js';
import { JiraSandbox, type SandboxOptions } from '../../src/sandbox/jira/index.js';
import { HOST_FIELD, RMA_PROJECT, restoreProject } from '../../src/sandbox/rma-jira.js';
import { REPO_ROOT, shippedRestore } from '../support/definitions.js';

const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const logger = createLogger({ level: 'silent' });
let shipped: Workflow;
const started: JiraSandbox[] = [];

beforeAll(async () => {
  ({ workflow: shipped } = await shippedRestore());
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((sandbox) => sandbox.stop()));
});

/** A sandbox with one ticket in each status the bot acts on; returns its URL and the sandbox. */
async function site(options: Omit<SandboxOptions, 'credentials'>, workflow: Workflow, seed = true) {
  const sandbox = new JiraSandbox({ ...options, credentials: DEMO_CREDENTIALS });
  started.push(sandbox);
  const url = await sandbox.start(0);
  if (seed) await seedOnePerStatus(sandbox, url, DEMO_CREDENTIALS, workflow);
  return { sandbox, url };
}

async function doctor(url: string, workflow: Workflow, credentials = DEMO_CREDENTIALS) {
  const jira = createJiraAdapter({ url, ...credentials, logger, maxAttempts: 1 });
  return runDoctor(jira, [workflow]);
}

const problems = (rows: DoctorRow[]) => rows.filter((row) => row.result === 'problem');

/** The shipped workflow giving a Resolution for moves into Done. */
const withResolution = (workflow: Workflow): Workflow => ({
  ...workflow,
  transitions: { [workflow.done]: { fields: { resolution: { name: 'Done' } } } },
});

const healthyProject = (workflow: Workflow) =>
  withTransitionScreen(restoreProject(workflow), workflow.done, DONE_RESOLUTION);

describe('runbot doctor: a healthy site', () => {
  it('passes every check, each transition read from a ticket, the required Resolution given', async () => {
    const workflow = withResolution(shipped);
    const { sandbox, url } = await site(
      { projects: [healthyProject(workflow), RMA_PROJECT], customFields: [HOST_FIELD] },
      workflow,
    );
    const before = sandbox.requestCounts();
    const rows = await doctor(url, workflow);
    expect(rows.filter((row) => row.result !== 'ok')).toEqual([]);
    const checks = rows.map((row) => row.check);
    // auth, project, 10 named statuses, gate + 7 steps each to next and to failure, 1 field, link, 5 permissions
    expect(checks.filter((c) => c.startsWith('status '))).toHaveLength(10);
    expect(checks.filter((c) => c.startsWith('transition '))).toHaveLength(16);
    expect(rows.find((row) => row.check === 'transition "Rebalance" → "Done"')?.found).toContain(
      'fields given: resolution',
    );
    expect(checks).toEqual(
      expect.arrayContaining([
        'auth (GET /myself)',
        'field customfield_10042 (input host)',
        'link type "is blocked by" (gate.link)',
        'permission EDIT_ISSUES in HOT',
      ]),
    );
    // Read-only: every call doctor made was a GET.
    const after = sandbox.requestCounts();
    const made = Object.keys(after).filter((call) => after[call] !== before[call]);
    expect(made.length).toBeGreaterThan(0);
    expect(made.filter((call) => !call.startsWith('GET '))).toEqual([]);
  });

  it('says which transitions it could not read when no ticket is in a status, and still passes', async () => {
    const { url } = await site(
      { projects: [restoreProject(shipped), RMA_PROJECT], customFields: [HOST_FIELD] },
      shipped,
      false,
    );
    const rows = await doctor(url, shipped);
    expect(problems(rows)).toEqual([]);
    const unchecked = rows.filter((row) => row.result === 'unchecked');
    expect(unchecked).toHaveLength(16);
    expect(unchecked[0]).toMatchObject({
      check: 'transition "Waiting for RMA" → "Memcheck"',
      fix: 'move a test ticket to "Waiting for RMA" and run doctor again',
    });
  });
});

describe('runbot doctor: a broken site', () => {
  it('names each problem with its fix', async () => {
    const { breaks, ...options } = brokenSite(shipped);
    // A second input whose field the site lacks.
    const workflow: Workflow = { ...shipped, fields: { ...shipped.fields, rack: 'customfield_10099' } };
    const { url } = await site(options, workflow);
    const rows = await doctor(url, workflow);
    /** The one problem row whose check starts with `prefix`, as "found | fix". */
    const problemOf = (prefix: string) => {
      const found = problems(rows).filter((row) => row.check.startsWith(prefix));
      expect(found, `one problem for ${prefix}`).toHaveLength(1);
      return `${found[0]?.found} | ${found[0]?.fix}`;
    };
    const { from, to } = breaks.missingTransition;
    const named: [string, string, string][] = [
      [
        `status "${breaks.missingStatus}"`,
        `not in HOT's workflow for "RMA Restore"`,
        `add the status "${breaks.missingStatus}" to the Jira workflow`,
      ],
      [
        `transition "${from}" → "${to}"`,
        `offers no transition to "${to}"`,
        `add a transition "${from}" → "${to}" to the Jira workflow`,
      ],
      [
        `transition "Rebalance" → "${breaks.requiredField.into}"`,
        'requires customfield_10050 ("Restore Verified By"), and workflow rma-restore gives no value',
        'transitions: { "Done": { fields: { customfield_10050: … } } }',
      ],
      [
        `field ${breaks.wrongTypeField}`,
        'is of type user; the bot reads text',
        'point fields.host in workflow rma-restore at a text field',
      ],
      ['field customfield_10099', 'no field customfield_10099 on this site', 'create the custom field'],
      [
        `link type "${breaks.missingLinkType}"`,
        'no issue link type has "is blocked by" as its inward or outward name',
        'add a link type with inward name "is blocked by"',
      ],
      [
        `permission ${breaks.missingPermission}`,
        "lacks Edit issues (write the bot's bookkeeping issue property)",
        "grant it to the bot's account (or a group or role it is in) in HOT's permission scheme",
      ],
    ];
    for (const [check, found, fix] of named) {
      const row = problemOf(check);
      expect(row).toContain(found);
      expect(row.split(' | ')[1]).toContain(fix);
    }
    // The missing status's own transitions are not read (no ticket can be there); nothing else fails.
    expect(problems(rows)).toHaveLength(7);
  });

  it('stops at the auth check when the credentials are refused', async () => {
    const { url } = await site(
      { projects: [restoreProject(shipped), RMA_PROJECT], customFields: [HOST_FIELD] },
      shipped,
      false,
    );
    const rows = await doctor(url, shipped, { ...DEMO_CREDENTIALS, apiToken: 'revoked' });
    expect(rows.map((row) => [row.check, row.result, row.found])).toEqual([
      ['auth (GET /myself)', 'problem', 'Jira answered 401: the credentials were refused'],
    ]);
    expect(rows[0]?.fix).toBe(
      'Check JIRA_EMAIL and JIRA_API_TOKEN; the token may be expired or revoked. No other check ran.',
    );
  });

  it('names a status Jira spells differently, a typo in transitions:, and a link name in another case', async () => {
    const workflow: Workflow = {
      ...shipped,
      failure: 'actionable',
      gate: shipped.gate ? { ...shipped.gate, link: 'Is Blocked By' } : undefined,
      transitions: {
        Dnoe: { fields: { resolution: { name: 'Done' } } },
        Done: { fields: { resolution: { name: 'Fixed' } } },
      },
    };
    const { url } = await site(
      { projects: [healthyProject(shipped), RMA_PROJECT], customFields: [HOST_FIELD] },
      shipped,
    );
    const found = problems(await doctor(url, workflow)).map((row) => `${row.check}: ${row.found}`);
    expect(found).toEqual([
      'status "actionable" (failure): not found; Jira spells it "Actionable" (the bot matches status names exactly)',
      'transition "Rebalance" → "Done": workflow rma-restore gives a value transition "Go to Done" does not accept: resolution "Fixed" (allowed: Done)',
      'transitions.Dnoe (workflow rma-restore): the bot never moves a ticket into "Dnoe", so these field values are never sent',
      'link type "Is Blocked By" (gate.link): no link type has that name exactly; "Blocks" is spelled "is blocked by"/"blocks"',
    ]);
  });
});

describe('runbot doctor: the approval statuses', () => {
  it('names an approval status the Jira workflow lacks, and passes once it has both', async () => {
    const workflow: Workflow = {
      ...withResolution(shipped),
      approval: { status: 'Awaiting Approval', approved: 'Approved' },
    };
    const lacking = await site(
      { projects: [healthyProject(shipped), RMA_PROJECT], customFields: [HOST_FIELD] },
      shipped,
    );
    const found = problems(await doctor(lacking.url, workflow)).map((row) => `${row.check}: ${row.found}`);
    expect(found).toEqual([
      'status "Awaiting Approval" (approval: plans wait here): not in HOT\'s workflow for "RMA Restore"',
      'status "Approved" (approval: a person approves): not in HOT\'s workflow for "RMA Restore"',
    ]);
    const having = await site(
      { projects: [healthyProject(workflow), RMA_PROJECT], customFields: [HOST_FIELD] },
      workflow,
    );
    expect(problems(await doctor(having.url, workflow))).toEqual([]);
  });
});

describe('runbot doctor: the command line', () => {
  const run = async (url: string) => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
    const env = {
      PATH: process.env.PATH,
      JIRA_URL: url,
      JIRA_EMAIL: DEMO_CREDENTIALS.email,
      JIRA_API_TOKEN: DEMO_CREDENTIALS.apiToken,
      RUNBOT_DEFINITIONS: REPO_ROOT,
    };
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'doctor'], { env });
      return { code: 0, stdout };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr };
    }
  };

  it('prints a table and exits 0 against a healthy site', async () => {
    const { url } = await site(
      { projects: [restoreProject(shipped), RMA_PROJECT], customFields: [HOST_FIELD] },
      shipped,
    );
    const { code, stdout } = await run(url);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^CHECK\s+RESULT\s+FOUND\s+WHAT TO DO$/);
    expect(lines.at(-1)).toMatch(/^doctor: \d+ checks, 0 problems, 0 unchecked$/);
    expect(code).toBe(0);
  });

  it('exits 1 against the broken site, a fix on each problem line', async () => {
    const { breaks, ...options } = brokenSite(shipped);
    const { url } = await site(options, shipped);
    const { code, stdout } = await run(url);
    const problemLines = stdout.split('\n').filter((line) => /\s{2}problem\s{2}/.test(line));
    expect(problemLines).toHaveLength(6);
    expect(problemLines.join('\n')).toContain(`permission ${breaks.missingPermission} in HOT`);
    expect(problemLines.every((line) => !line.endsWith('  -'))).toBe(true);
    expect(stdout).toContain('doctor: ');
    expect(stdout).toContain(' 6 problems, 0 unchecked');
    expect(code).toBe(1);
  });
});
