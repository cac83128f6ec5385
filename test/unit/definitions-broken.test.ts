// The corpus of broken definition files (test/fixtures/broken/): each file says, in `# expect:`
// comment lines, every problem `runbot validate` must report for it, as `path:line:col: message`.
// A fixture is installed beside a copy of the shipped definitions (runbooks/, workflows/) or in
// place of the inventory (inventory/), so each file's problems are its own. Fixtures are named
// `*.yaml.txt` so that formatters leave them byte for byte as they are: their columns are the point.
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DefinitionError, loadDefinitions, MAX_DEFINITION_BYTES } from '../../src/definitions/index.js';
import { definitionsDir, REPO_ROOT } from '../support/definitions.js';

const CORPUS = path.join(REPO_ROOT, 'test/fixtures/broken');

interface Fixture {
  name: string;
  /** Where the file goes in the definitions directory. */
  installAs: string;
  text: string;
  expected: string[];
}

function corpus(): Fixture[] {
  const fixtures: Fixture[] = [];
  for (const kind of ['runbooks', 'workflows', 'inventory']) {
    for (const fixture of readdirSync(path.join(CORPUS, kind)).sort()) {
      const file = fixture.replace(/\.txt$/, '');
      const text = readFileSync(path.join(CORPUS, kind, fixture), 'utf8');
      fixtures.push({
        name: `${kind}/${file}`,
        installAs: kind === 'inventory' ? 'workflows/inventory.yaml' : `${kind}/${file}`,
        text,
        expected: [...text.matchAll(/^# expect: (.*)$/gm)].map((match) => match[1] ?? ''),
      });
    }
  }
  return fixtures;
}

/** Every problem reported for the definitions under root, with paths relative to it. */
async function problemsIn(root: string): Promise<string[]> {
  try {
    await loadDefinitions({ root });
  } catch (error) {
    if (error instanceof DefinitionError)
      return error.message.split('\n').map((line) => line.replaceAll(`${root}/`, ''));
    throw error;
  }
  return [];
}

describe('definitions: the broken corpus', () => {
  it.each(corpus().map((fixture) => [fixture.name, fixture] as const))('%s', async (_name, fixture) => {
    expect(fixture.expected.length, 'a fixture names at least one expected problem').toBeGreaterThan(0);
    const root = await definitionsDir({ [fixture.installAs]: fixture.text });
    expect(await problemsIn(root)).toEqual(fixture.expected);
  });
});

describe('definitions: files that cannot be a definition', () => {
  it('an empty file (0 bytes)', async () => {
    const root = await definitionsDir({ 'runbooks/empty.yaml': '' });
    expect(await problemsIn(root)).toEqual(['runbooks/empty.yaml:1:1: file is empty']);
  });

  it('a 5 MB file is refused by its size, without being parsed', async () => {
    const step = (index: number) =>
      `  step-${index}:\n    kind: ssh\n    target: '{{ host }}'\n    commands: ['echo ${'x'.repeat(40)}']\n    timeout: 10s\n`;
    let text = `name: huge\ninputs:\n  host: { pattern: '^[a-z.]+$' }\nsteps:\n`;
    for (let index = 0; text.length < 5 * 1024 * 1024; index += 1) text += step(index);
    expect(text.length).toBeGreaterThan(MAX_DEFINITION_BYTES);
    const root = await definitionsDir({ 'runbooks/huge.yaml': text });
    expect(await problemsIn(root)).toEqual([
      'runbooks/huge.yaml:1:1: file is 5.0 MB; definition files are limited to 1.0 MB (split it into several files)',
    ]);
  });

  it('a missing inventory', async () => {
    const root = await definitionsDir();
    await expect(loadDefinitions({ root, inventory: path.join(root, 'nope.yaml') })).rejects.toThrow(
      `${root}/nope.yaml:1:1: file not found`,
    );
  });

  it('a directory without runbooks or workflows', async () => {
    const root = await definitionsDir();
    await rm(path.join(root, 'runbooks'), { recursive: true });
    await rm(path.join(root, 'workflows/rma-restore.yaml'));
    expect(await problemsIn(root)).toEqual([
      'runbooks:1:1: no runbooks here (*.yaml): is --dir the right directory?',
      'workflows:1:1: no workflows here (*.yaml): is --dir the right directory?',
    ]);
  });
});
