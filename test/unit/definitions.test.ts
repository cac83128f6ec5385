import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DefinitionError, loadDefinitions } from '../../src/definitions/index.js';
import { definitionsDir, REPO_ROOT } from '../support/definitions.js';

async function problemsOf(replace: Record<string, string>): Promise<string[]> {
  const root = await definitionsDir(replace);
  try {
    await loadDefinitions({ root });
  } catch (error) {
    if (error instanceof DefinitionError)
      return error.message.split('\n').map((line) => path.relative(root, line));
    throw error;
  }
  return [];
}

const RUNBOOK = `name: small
inputs:
  host: { pattern: '^[a-z.0-9-]+$' }
steps:
  touch:
    kind: ssh
    target: '{{ host }}'
    commands: ['touch /tmp/x']
    timeout: 10s
`;

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
});

describe('definitions: problems are reported at the offending node', () => {
  it('an unknown key, at the key', async () => {
    const problems = await problemsOf({
      'runbooks/small.yaml': RUNBOOK.replace('    timeout: 10s', '    timeout: 10s\n    retries: 3'),
    });
    expect(problems).toEqual([
      expect.stringMatching(/^runbooks\/small\.yaml:10:5: steps\.touch: Unrecognized key: "retries"/),
    ]);
  });

  it('a wrong type, at the value', async () => {
    const problems = await problemsOf({
      'runbooks/small.yaml': RUNBOOK.replace('timeout: 10s', 'timeout: soon'),
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^runbooks\/small\.yaml:9:14: steps\.touch\.timeout: expected a duration like "90s"/,
      ),
    ]);
  });

  it('an unknown template variable, at the template', async () => {
    const problems = await problemsOf({
      'runbooks/small.yaml': RUNBOOK.replace("'touch /tmp/x'", "'touch {{ hostname }}'"),
    });
    expect(problems).toEqual([
      expect.stringMatching(/^runbooks\/small\.yaml:8:16: unknown template variable "hostname" \(known: /),
    ]);
  });

  it('a YAML syntax error, where the parser stopped', async () => {
    const problems = await problemsOf({ 'runbooks/small.yaml': 'name: [unclosed\n' });
    expect(problems[0]).toMatch(/^runbooks\/small\.yaml:\d+:\d+: /);
  });

  it('a duplicate key', async () => {
    const problems = await problemsOf({ 'runbooks/small.yaml': `${RUNBOOK}name: again\n` });
    expect(problems).toEqual([expect.stringMatching(/^runbooks\/small\.yaml:10:1: Map keys must be unique/)]);
  });

  it('an empty file', async () => {
    expect(await problemsOf({ 'runbooks/small.yaml': '' })).toEqual([
      'runbooks/small.yaml:1:1: file is empty',
    ]);
  });

  it('a workflow naming a step the runbook does not have, at the step name', async () => {
    const workflow = (await import('node:fs')).readFileSync(
      path.join(REPO_ROOT, 'workflows/rma-restore.yaml'),
      'utf8',
    );
    const problems = await problemsOf({
      'workflows/rma-restore.yaml': workflow.replace('step: sync,', 'step: synk,'),
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^workflows\/rma-restore\.yaml:18:17: step "synk" is not in runbook "rma-restore"$/,
      ),
    ]);
  });

  it('a missing inventory', async () => {
    const root = await definitionsDir();
    await expect(loadDefinitions({ root, inventory: path.join(root, 'nope.yaml') })).rejects.toThrow(
      /nope\.yaml:1:1: file not found/,
    );
  });
});
