import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorProblem, jqlProblem } from '../../src/definitions/checks.js';
import { DefinitionError, loadDefinitions } from '../../src/definitions/index.js';
import { validateCommand } from '../../src/cli/authoring.js';
import { definitionsDir, REPO_ROOT } from '../support/definitions.js';

const shipped = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');

async function problemsOf(replace: Record<string, string>): Promise<string[]> {
  const root = await definitionsDir(replace);
  try {
    await loadDefinitions({ root });
  } catch (error) {
    if (error instanceof DefinitionError)
      return error.message.split('\n').map((line) => line.replaceAll(`${root}/`, ''));
    throw error;
  }
  return [];
}

describe('definitions: the shipped files', () => {
  it('load without problems', async () => {
    const definitions = await loadDefinitions({ root: REPO_ROOT });
    expect([...definitions.runbooks.keys()]).toEqual(['rma-restore']);
    expect([...definitions.workflows.keys()]).toEqual(['rma-restore']);
    expect(Object.keys(definitions.inventory.sites)).toEqual(['dev2', 'sm1']);
    expect(definitions.runbooks.get('rma-restore')?.version).toMatch(/^[0-9a-f]{12}$/);
  });

  it('turn durations into seconds', async () => {
    const definitions = await loadDefinitions({ root: REPO_ROOT });
    const step = definitions.runbooks.get('rma-restore')?.runbook.steps['memcheck-wait'];
    expect(step?.kind === 'wait' && [step.interval, step.timeout]).toEqual([600, 43200]);
  });

  it('pass `runbot validate` with the one ok line', async () => {
    const lines: string[] = [];
    expect(await validateCommand({ dir: REPO_ROOT }, (line) => lines.push(line))).toBe(0);
    expect(lines).toEqual(['ok: 1 runbooks, 1 workflows, 2 sites']);
  });
});

describe('definitions: cross-references that are fine', () => {
  it('a loop through a manual step (a person decides each time round)', async () => {
    const workflow = shipped('workflows/rma-restore.yaml').replace(
      'Enable Alerting: { step: enable-alerting, next: Rebalance }',
      'Enable Alerting: { step: enable-alerting, next: Sync }',
    );
    // Rebalance is now unreachable; the loop Sync → … → Enable Alerting → Sync is not a problem.
    expect(await problemsOf({ 'workflows/rma-restore.yaml': workflow })).toEqual([
      'workflows/rma-restore.yaml:22:3: status "Rebalance" is unreachable: no next leads to it from the gate "Waiting for RMA"',
    ]);
  });

  it('two workflows over one project when JQL tells them apart', async () => {
    const second = shipped('workflows/rma-restore.yaml')
      .replace('name: rma-restore', 'name: rma-restore-eu')
      .replace('issue_type: RMA Restore', 'issue_type: RMA Restore\n  jql: labels = eu');
    expect(await problemsOf({ 'workflows/rma-restore-eu.yaml': second })).toEqual([]);
  });

  it('a placeholder inside $( … ), even within double quotes', async () => {
    const runbook = shipped('runbooks/rma-restore.yaml').replace(
      '- sudo -n /usr/sbin/blacklist sync',
      '- echo "$(sudo -n /usr/sbin/blacklist show {{ host }})" --for {{ host.short }}',
    );
    expect(await problemsOf({ 'runbooks/rma-restore.yaml': runbook })).toEqual([]);
  });
});

describe('definitions: every problem at once', () => {
  it('across runbook, workflow and inventory, in file then line order', async () => {
    const problems = await problemsOf({
      'runbooks/rma-restore.yaml': shipped('runbooks/rma-restore.yaml').replace(
        'storage-rebalance --node {{ host.short }}',
        'storage-rebalance --node {{ hots }}',
      ),
      'workflows/rma-restore.yaml': shipped('workflows/rma-restore.yaml')
        .replace('next: Second Sync', 'next: Second Synk')
        .replace('step: sync,', 'step: synk,'),
      'workflows/inventory.yaml': shipped('workflows/inventory.yaml').replace('port: 22 }', 'port: 0 }'),
    });
    expect(problems).toEqual([
      'runbooks/rma-restore.yaml:93:52: unknown template variable "hots" (known: host, host.short, site.manager, site.name, ticket.key)',
      'workflows/inventory.yaml:8:32: sites.dev2.ssh.port: must be at least 1',
      'workflows/rma-restore.yaml:18:17: step "synk" is not in runbook "rma-restore" (its steps: memcheck-start, memcheck-wait, sync, blacklist-removal, second-sync, enable-alerting, rebalance)',
      'workflows/rma-restore.yaml:19:55: next status "Second Synk" is not a status of this workflow (statuses: Memcheck, Memcheck Running, Sync, Blacklist Removal, Second Sync, Enable Alerting, Rebalance; gate: Waiting for RMA; failure: Actionable; done: Done)',
      'workflows/rma-restore.yaml:20:3: status "Second Sync" is unreachable: no next leads to it from the gate "Waiting for RMA"',
      'workflows/rma-restore.yaml:21:3: status "Enable Alerting" is unreachable: no next leads to it from the gate "Waiting for RMA"',
      'workflows/rma-restore.yaml:22:3: status "Rebalance" is unreachable: no next leads to it from the gate "Waiting for RMA"',
    ]);
  });

  it('`runbot validate` prints one line per problem and exits 1', async () => {
    const root = await definitionsDir({
      'workflows/inventory.yaml': shipped('workflows/inventory.yaml').replace(
        '    manager: manager-0.sm1.internal\n',
        '',
      ),
    });
    const lines: string[] = [];
    expect(await validateCommand({ dir: root }, (line) => lines.push(line))).toBe(1);
    expect(lines).toEqual([
      `${root}/workflows/inventory.yaml:9:3: sites.sm1: missing required key "manager"`,
    ]);
  });
});

describe('definitions: input patterns and JQL filters', () => {
  it.each([
    ['^[a-z0-9.-]+$', undefined],
    ['^(?:web|db)-[0-9]+$', undefined],
    ['^[|]+$', undefined],
    ['^a\\\\$', undefined],
    ['[a-z]+$', 'anchor'],
    ['^[a-z]+', 'anchor'],
    ['^[a-z]+\\$', 'anchor'],
    ['^a$|^.*$', 'top-level |'],
    ['^a\\|b$', undefined],
  ])('anchorProblem(%j) says %s', (pattern, says) => {
    const problem = anchorProblem(pattern);
    if (says === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(says);
  });

  it.each([
    ['labels = ok', undefined],
    ['labels in (a, b) AND summary ~ "x)"', undefined],
    ["summary ~ 'it\\'s (fine'", undefined],
    ['labels = ok) OR (project = PROD', 'a ")" at position 12 closes'],
    ['summary ~ "open', 'unclosed " quote'],
    ['(labels = ok', 'unclosed "("'],
  ])('jqlProblem(%j) says %s', (jql, says) => {
    const problem = jqlProblem(jql);
    if (says === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(says);
  });
});

describe('definitions: the safety keys', () => {
  const withWorkflow = (edit: (text: string) => string) => ({
    'workflows/rma-restore.yaml': edit(shipped('workflows/rma-restore.yaml')),
  });
  const withSyncApproved = (text: string) =>
    text.replace(
      '      - sudo -n /usr/sbin/storage-sync --node {{ host.short }}\n    timeout: 2h\n',
      '      - sudo -n /usr/sbin/storage-sync --node {{ host.short }}\n    timeout: 2h\n    approve: true\n',
    );

  it('a step marked approve needs the workflow to name its approval statuses', async () => {
    const problems = await problemsOf({
      'runbooks/rma-restore.yaml': withSyncApproved(shipped('runbooks/rma-restore.yaml')),
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^workflows\/rma-restore\.yaml:\d+:\d+: runbook "rma-restore" has steps marked approve: true \(sync\): add approval: \{ status, approved \} to the workflow$/,
      ),
    ]);
  });

  it('approval statuses are statuses of their own', async () => {
    const problems = await problemsOf(
      withWorkflow((text) =>
        text.replace(
          'failure: Actionable',
          'approval: { status: Sync, approved: Actionable }\nfailure: Actionable',
        ),
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(/approval\.status "Sync" is also a step status: it must be a status of its own$/),
      expect.stringMatching(
        /approval\.approved "Actionable" is also the failure status: it must be a status of its own$/,
      ),
    ]);
  });

  it('exclusive inputs are runbook inputs, and need a gate', async () => {
    const problems = await problemsOf(
      withWorkflow((text) =>
        text
          .replace('exclusive: { inputs: [host]', 'exclusive: { inputs: [hots]')
          .replace(/gate:\n( {2}.*\n)+/, ''),
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /exclusive input "hots" is not an input of runbook "rma-restore" \(its inputs: host\)$/,
        ),
        expect.stringMatching(/exclusive inputs are held from the gate on: add a gate to the workflow$/),
      ]),
    );
  });
});
