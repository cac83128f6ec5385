// Loads runbooks/*.yaml, workflows/*.yaml and the inventory, then checks the references between
// them. Every problem found is reported (file:line:col), so an author fixes them in one pass.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { DefinitionError, type DefinitionProblem } from './errors.js';
import {
  InventorySchema,
  RunbookSchema,
  WorkflowSchema,
  type Inventory,
  type Runbook,
  type Step,
  type Workflow,
} from './schema.js';
import { knownVariables, templateProblems } from './template.js';
import { loadYamlFile, type SourceFile } from './yaml-file.js';

export interface LoadedRunbook {
  runbook: Runbook;
  file: string;
  /** Short content hash named in every comment, so a comment says which runbook text produced it. */
  version: string;
}

export interface Definitions {
  runbooks: Map<string, LoadedRunbook>;
  workflows: Map<string, Workflow>;
  inventory: Inventory;
}

export interface DefinitionPaths {
  /** Directory holding runbooks/ and workflows/. */
  root: string;
  /** The inventory file (default: <root>/workflows/inventory.yaml). */
  inventory?: string;
}

const INVENTORY_FILE = 'inventory.yaml';

export async function loadDefinitions(paths: DefinitionPaths): Promise<Definitions> {
  const problems: DefinitionProblem[] = [];
  const collect = <T>(
    parsed: { ok: true; source: SourceFile<T> } | { ok: false; problems: DefinitionProblem[] },
  ) => {
    if (parsed.ok) return parsed.source;
    problems.push(...parsed.problems);
    return undefined;
  };

  const runbookFiles = await yamlFiles(path.join(paths.root, 'runbooks'));
  const workflowFiles = (await yamlFiles(path.join(paths.root, 'workflows'))).filter(
    (file) => path.basename(file) !== INVENTORY_FILE,
  );
  const inventoryFile = paths.inventory ?? path.join(paths.root, 'workflows', INVENTORY_FILE);

  const runbooks = (await Promise.all(runbookFiles.map((file) => loadYamlFile(file, RunbookSchema)))).map(
    collect,
  );
  const workflows = (await Promise.all(workflowFiles.map((file) => loadYamlFile(file, WorkflowSchema)))).map(
    collect,
  );
  const inventory = collect(
    await loadYamlFile(inventoryFile, InventorySchema).catch(missingFile(inventoryFile)),
  );

  const definitions: Definitions = { runbooks: new Map(), workflows: new Map(), inventory: { sites: {} } };
  for (const source of runbooks) {
    if (!source) continue;
    if (definitions.runbooks.has(source.value.name)) {
      problems.push(at(source, ['name'], `runbook "${source.value.name}" is defined twice`));
      continue;
    }
    problems.push(...checkRunbook(source));
    definitions.runbooks.set(source.value.name, {
      runbook: source.value,
      file: source.file,
      version: hash(source.text),
    });
  }
  for (const source of workflows) {
    if (!source) continue;
    if (definitions.workflows.has(source.value.name)) {
      problems.push(at(source, ['name'], `workflow "${source.value.name}" is defined twice`));
      continue;
    }
    problems.push(...checkWorkflow(source, definitions.runbooks));
    definitions.workflows.set(source.value.name, source.value);
  }
  if (inventory) definitions.inventory = inventory.value;
  if (problems.length > 0) throw new DefinitionError(problems);
  return definitions;
}

function checkRunbook(source: SourceFile<Runbook>): DefinitionProblem[] {
  const known = knownVariables(Object.keys(source.value.inputs));
  const problems: DefinitionProblem[] = [];
  for (const [name, step] of Object.entries(source.value.steps)) {
    for (const [fieldPath, template] of stepTemplates(step)) {
      for (const message of templateProblems(template, known)) {
        problems.push(at(source, ['steps', name, ...fieldPath], message));
      }
    }
  }
  return problems;
}

/** Every template of a step with its path inside the step. */
function stepTemplates(step: Step): [PropertyKey[], string][] {
  const templates: [PropertyKey[], string][] = [[['target'], step.target]];
  switch (step.kind) {
    case 'ssh':
      step.commands.forEach((command, index) => templates.push([['commands', index], command]));
      if (step.done_when) templates.push([['done_when', 'command'], step.done_when.command]);
      break;
    case 'wait':
      templates.push([['check'], step.check]);
      break;
    case 'manual':
      templates.push([['title'], step.title]);
      step.instructions.forEach((block, index) => {
        templates.push([['instructions', index, 'text'], block.text]);
        block.commands?.forEach((command, commandIndex) =>
          templates.push([['instructions', index, 'commands', commandIndex], command]),
        );
      });
      break;
  }
  return templates;
}

function checkWorkflow(
  source: SourceFile<Workflow>,
  runbooks: Map<string, LoadedRunbook>,
): DefinitionProblem[] {
  const workflow = source.value;
  const loaded = runbooks.get(workflow.runbook);
  if (!loaded) {
    const names = [...runbooks.keys()].join(', ') || 'none';
    return [at(source, ['runbook'], `runbook "${workflow.runbook}" not found (loaded: ${names})`)];
  }
  const problems: DefinitionProblem[] = [];
  const { runbook } = loaded;
  for (const [status, binding] of Object.entries(workflow.statuses)) {
    if (!(binding.step in runbook.steps)) {
      problems.push(
        at(
          source,
          ['statuses', status, 'step'],
          `step "${binding.step}" is not in runbook "${runbook.name}"`,
        ),
      );
    }
  }
  for (const input of Object.keys(runbook.inputs)) {
    if (!(input in workflow.fields)) {
      problems.push(
        at(source, ['fields'], `runbook input "${input}" has no Jira field (add fields.${input})`),
      );
    }
  }
  for (const name of Object.keys(workflow.fields)) {
    if (!(name in runbook.inputs))
      problems.push(at(source, ['fields', name], `"${name}" is not an input of runbook "${runbook.name}"`));
  }
  const owned = new Set([
    ...Object.keys(workflow.statuses),
    ...(workflow.gate ? [workflow.gate.status] : []),
  ]);
  for (const human of [workflow.failure, workflow.done]) {
    if (owned.has(human))
      problems.push(
        at(source, [human === workflow.failure ? 'failure' : 'done'], `"${human}" cannot also run a step`),
      );
  }
  return problems;
}

function at<T>(source: SourceFile<T>, fieldPath: readonly PropertyKey[], message: string): DefinitionProblem {
  return { file: source.file, ...source.locate(fieldPath), message };
}

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => path.join(dir, entry.name))
    .sort();
}

function missingFile(file: string) {
  return (error: unknown): { ok: false; problems: DefinitionProblem[] } => {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    return { ok: false, problems: [{ file, line: 1, col: 1, message: reason }] };
  };
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** The site whose host pattern matches the name, if exactly one does. */
export function siteOf(
  inventory: Inventory,
  host: string,
): { name: string; site: Inventory['sites'][string] } | undefined {
  const matches = Object.entries(inventory.sites).filter(([, site]) => new RegExp(site.hosts).test(host));
  if (matches.length !== 1) return undefined;
  const [name, site] = matches[0] as [string, Inventory['sites'][string]];
  return { name, site };
}
