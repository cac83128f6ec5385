// Loads runbooks/*.yaml, workflows/*.yaml and the inventory, then checks the references between
// them (checks.ts). Every problem found is reported (file:line:col), so an author fixes them in one
// pass; nothing is returned unless there are none.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { DefinitionError, type DefinitionProblem } from './errors.js';
import { checkRunbook, checkWorkflow, checkWorkflowOverlap } from './checks.js';
import {
  InventorySchema,
  RunbookSchema,
  WorkflowSchema,
  type Inventory,
  type Runbook,
  type Workflow,
} from './schema.js';
import { loadYamlFile, type Parsed, type SourceFile } from './yaml-file.js';
import { resolveRedfishCaFiles } from './redfish-access.js';
import { compileInputPatterns, type InputPatterns } from './input-patterns.js';

export interface LoadedRunbook {
  runbook: Runbook;
  file: string;
  /** Short content hash named in every comment, so a comment says which runbook text produced it. */
  version: string;
  /** The inputs' patterns, compiled once here (input-patterns.ts). */
  inputPatterns: InputPatterns;
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
  /** Runbooks whose files did not load: workflows naming them are not checked against them. */
  const brokenRunbooks = new Set<string>();
  const collect = <T>(parsed: Parsed<T>) => {
    if (parsed.ok) return parsed.source;
    problems.push(...parsed.problems);
    return undefined;
  };
  const collectRunbook = (parsed: Parsed<Runbook>) => {
    if (!parsed.ok && parsed.name !== undefined) brokenRunbooks.add(parsed.name);
    return collect(parsed);
  };

  const runbookFiles = await yamlFiles(path.join(paths.root, 'runbooks'));
  const workflowFiles = (await yamlFiles(path.join(paths.root, 'workflows'))).filter(
    (file) => path.basename(file) !== INVENTORY_FILE,
  );
  const inventoryFile = paths.inventory ?? path.join(paths.root, 'workflows', INVENTORY_FILE);

  for (const [kind, files] of [
    ['runbooks', runbookFiles],
    ['workflows', workflowFiles],
  ] as const) {
    if (files.length === 0) {
      const dir = path.join(paths.root, kind);
      problems.push({
        file: dir,
        line: 1,
        col: 1,
        message: `no ${kind} here (*.yaml): is --dir the right directory?`,
      });
    }
  }
  const runbooks = (
    await Promise.all(runbookFiles.map((file) => loadYamlFile(file, RunbookSchema).catch(missingFile(file))))
  ).map(collectRunbook);
  const workflows = (
    await Promise.all(
      workflowFiles.map((file) => loadYamlFile(file, WorkflowSchema).catch(missingFile(file))),
    )
  ).map(collect);
  const inventory = collect(
    await loadYamlFile(inventoryFile, InventorySchema).catch(missingFile(inventoryFile)),
  );

  const definitions: Definitions = { runbooks: new Map(), workflows: new Map(), inventory: { sites: {} } };
  const runbookFilesByName = new Map<string, string>();
  for (const source of runbooks) {
    if (!source) continue;
    problems.push(...checkRunbook(source));
    const earlier = runbookFilesByName.get(source.value.name);
    if (earlier !== undefined) {
      problems.push(
        at(source, ['name'], `runbook "${source.value.name}" is defined twice (also in ${earlier})`),
      );
      continue;
    }
    runbookFilesByName.set(source.value.name, source.file);
    definitions.runbooks.set(source.value.name, {
      runbook: source.value,
      file: source.file,
      version: hash(source.text),
      inputPatterns: compileInputPatterns(source.value),
    });
  }
  const loadedWorkflows: SourceFile<Workflow>[] = [];
  for (const source of workflows) {
    if (!source) continue;
    const earlier = loadedWorkflows.find((other) => other.value.name === source.value.name);
    if (earlier) {
      problems.push(
        at(source, ['name'], `workflow "${source.value.name}" is defined twice (also in ${earlier.file})`),
      );
      continue;
    }
    if (!brokenRunbooks.has(source.value.runbook))
      problems.push(...checkWorkflow(source, definitions.runbooks));
    loadedWorkflows.push(source);
    definitions.workflows.set(source.value.name, source.value);
  }
  problems.push(...checkWorkflowOverlap(loadedWorkflows));
  if (inventory) {
    const resolved = await resolveRedfishCaFiles(inventory);
    problems.push(...resolved.problems);
    definitions.inventory = resolved.inventory;
  }
  if (problems.length > 0) throw new DefinitionError(inReadingOrder(problems));
  return definitions;
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
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(error)})`;
    return { ok: false, problems: [{ file, line: 1, col: 1, message: reason }] };
  };
}

/** By file path, each file's problems by line and column. */
function inReadingOrder(problems: DefinitionProblem[]): DefinitionProblem[] {
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort(
      (a, b) =>
        (a.problem.file < b.problem.file ? -1 : a.problem.file > b.problem.file ? 1 : 0) ||
        a.problem.line - b.problem.line ||
        a.problem.col - b.problem.col ||
        a.index - b.index,
    )
    .map(({ problem }) => problem);
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

// The poller plans every ticket of every cycle: each site's pattern is compiled once, not per ticket.
const compiledPatterns = new WeakMap<Inventory['sites'][string], RegExp>();
function hostPattern(site: Inventory['sites'][string]): RegExp {
  let pattern = compiledPatterns.get(site);
  if (!pattern) {
    pattern = new RegExp(site.hosts);
    compiledPatterns.set(site, pattern);
  }
  return pattern;
}

/** The site whose host pattern matches the name, if exactly one does. */
export function siteOf(
  inventory: Inventory,
  host: string,
): { name: string; site: Inventory['sites'][string] } | undefined {
  const matches = Object.entries(inventory.sites).filter(([, site]) => hostPattern(site).test(host));
  if (matches.length !== 1) return undefined;
  const [name, site] = matches[0] as [string, Inventory['sites'][string]];
  return { name, site };
}
