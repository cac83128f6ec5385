// Zod schemas for the three kinds of definition file. They are the single source of the types
// (z.infer) and of the JSON Schemas editors use. Our own files are strict: unknown keys are errors.
// One file per kind (schema-runbook.ts, schema-workflow.ts, schema-inventory.ts); the rest of the
// code imports them from here.
export * from './schema-runbook.js';
export * from './schema-workflow.js';
export * from './schema-inventory.js';
