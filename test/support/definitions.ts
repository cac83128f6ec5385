// Writes definition files into a temporary directory laid out like the repository.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { loadDefinitions, type Definitions, type Workflow } from '../../src/definitions/index.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * A copy of the shipped definitions with some files replaced; returns the root. Made inside a test,
 * it is removed when the test finishes; made in a hook, the caller removes it (as world.ts does).
 */
export async function definitionsDir(replace: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'runbot-defs-'));
  if (expect.getState().currentTestName !== undefined) {
    onTestFinished(() => rm(root, { recursive: true, force: true }));
  }
  const files: Record<string, string> = {};
  for (const file of [
    'runbooks/rma-restore.yaml',
    'workflows/rma-restore.yaml',
    'workflows/inventory.yaml',
  ]) {
    files[file] = await readFile(path.join(REPO_ROOT, file), 'utf8');
  }
  Object.assign(files, replace);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  return root;
}

/** The shipped definitions and their rma-restore workflow, which most Jira tests drive. */
export async function shippedRestore(): Promise<{ definitions: Definitions; workflow: Workflow }> {
  const definitions = await loadDefinitions({ root: REPO_ROOT });
  const workflow = definitions.workflows.get('rma-restore');
  if (!workflow) throw new Error('the shipped workflow rma-restore is missing');
  return { definitions, workflow };
}
