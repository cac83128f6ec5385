// JSON Schemas of the three kinds of definition file, generated from the zod schemas (the single
// source), for editors: the shipped YAML names them with `# yaml-language-server: $schema=…`.
// Draft-07, because that is the draft yaml-language-server (VS Code's YAML extension) checks best.
import { z } from 'zod';
import { InventorySchema, RunbookSchema, WorkflowSchema } from './schema.js';

export const DEFINITION_KINDS = ['runbook', 'workflow', 'inventory'] as const;
export type DefinitionKind = (typeof DEFINITION_KINDS)[number];

const SCHEMAS = { runbook: RunbookSchema, workflow: WorkflowSchema, inventory: InventorySchema };

const TITLES: Record<DefinitionKind, string> = {
  runbook: 'runbot runbook (runbooks/*.yaml): how each step is done',
  workflow: 'runbot workflow (workflows/*.yaml): which Jira status runs which step',
  inventory: 'runbot inventory (workflows/inventory.yaml): sites, managers, access',
};

/** The JSON Schema of one kind of file, as written under schemas/ and printed by `runbot schema`. */
export function definitionJsonSchema(kind: DefinitionKind): Record<string, unknown> {
  // io: 'input' describes what an author writes (a duration as "10m"), not the parsed value.
  const schema = z.toJSONSchema(SCHEMAS[kind], { io: 'input', target: 'draft-07' });
  return { ...schema, title: TITLES[kind] };
}
