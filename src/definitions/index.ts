// Definitions: runbooks (how), workflows (when) and the inventory (where), loaded and checked.
export * from './schema.js';
export * from './site-safety.js';
export * from './errors.js';
export * from './template.js';
export * from './json-schema.js';
export * from './formats.js';
export * from './input-patterns.js';
export * from './targets.js';
export * from './bmc-command-lines.js';
export { MAX_DEFINITION_BYTES } from './yaml-file.js';
export {
  loadDefinitions,
  siteOf,
  type Definitions,
  type DefinitionPaths,
  type LoadedRunbook,
} from './load.js';
