// Definitions that try to escape the bot's quoting or reach its secrets are refused by
// `runbot validate`, the command CI and authors run: exit 1 and `path:line:col: message` naming
// the problem. Behaviour only, through the built CLI (the checks themselves are issue 3's).
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../support/faults/processes.js';

const run = promisify(execFile);
const CORPUS = path.resolve(import.meta.dirname, '../fixtures/hostile/definitions');
const SECRET = 'faults-secret-token-3f9c';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A definitions dir: the corpus's valid workflow and inventory, and one runbook (or workflow) case. */
async function definitions(runbook: string, workflow = 'workflows/restore.yaml'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'runbot-hostile-defs-'));
  dirs.push(dir);
  await mkdir(path.join(dir, 'runbooks'));
  await mkdir(path.join(dir, 'workflows'));
  await cp(path.join(CORPUS, runbook), path.join(dir, 'runbooks/restore.yaml'));
  await cp(path.join(CORPUS, workflow), path.join(dir, 'workflows/restore.yaml'));
  await cp(path.join(CORPUS, 'workflows/inventory.yaml'), path.join(dir, 'workflows/inventory.yaml'));
  return dir;
}

async function validate(dir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'validate', '--dir', dir], {
      env: { ...process.env, JIRA_API_TOKEN: SECRET, RUNBOT_INVENTORY: '' },
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/** Each hostile runbook: the line of the offending text, and what the message must name. */
const REFUSED: { file: string; line: number; says: RegExp }[] = [
  { file: 'single-quoted-placeholder', line: 9, says: /\{\{ host \}\}.*single quotes/ },
  { file: 'double-quoted-placeholder', line: 9, says: /\{\{ host\.short \}\}.*double quotes/ },
  { file: 'backticked-placeholder', line: 9, says: /\{\{ host \}\}.*backticks/ },
  { file: 'env-secret', line: 9, says: /env\.JIRA_API_TOKEN/ },
  { file: 'config-secret', line: 9, says: /config\.JIRA_API_TOKEN/ },
  { file: 'unknown-namespace', line: 9, says: /secrets\.jira/ },
  { file: 'unanchored-pattern', line: 4, says: /inputs\.host\.pattern: anchor the pattern/ },
];

// Each case is one CLI run (about a second of CPU), so they run side by side.
describe.concurrent('faults: hostile definitions', () => {
  it('validates the control runbook (the corpus is otherwise valid)', async () => {
    const result = await validate(await definitions('runbooks/valid.yaml'));
    expect(result).toEqual({ code: 0, output: 'ok: 1 runbooks, 1 workflows, 1 sites\n' });
  });

  for (const { file, line, says } of REFUSED) {
    it(`refuses ${file}`, async () => {
      const result = await validate(await definitions(`runbooks/${file}.yaml`));
      expect(result.code, result.output).toBe(1);
      const [problem] = result.output.trim().split('\n');
      expect(problem).toMatch(new RegExp(`runbooks/restore\\.yaml:${line}:\\d+: `));
      expect(problem).toMatch(says);
      // Naming the secret's variable is fine; its value never appears.
      expect(result.output).not.toContain(SECRET);
    });
  }

  // `^[a-z0-9.-]+$|^.*$` looks anchored at both ends yet accepts any value: validate refuses it, and
  // the planner matches every input as ^(?:pattern)$ besides.
  it('refuses a pattern whose alternation defeats its anchors', async () => {
    const result = await validate(await definitions('runbooks/alternation-defeats-anchors.yaml'));
    expect(result.code, result.output).toBe(1);
    expect(result.output).toMatch(/runbooks\/restore\.yaml:4:\d+: .*pattern/);
  });

  // `jira.jql` goes inside the bot's parentheses: `labels = ok) OR (project = PROD` would close them
  // and widen the search to every PROD ticket. validate refuses unbalanced parentheses or quotes,
  // and the poller drops any result of another project or issue type besides.
  it('refuses a jira.jql that closes the bot’s parentheses', async () => {
    const result = await validate(
      await definitions('runbooks/valid.yaml', 'workflow-cases/jql-breakout.yaml'),
    );
    expect(result.code, result.output).toBe(1);
    expect(result.output).toMatch(/workflows\/restore\.yaml:4:\d+: .*jql/);
  });
});
