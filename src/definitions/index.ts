// Definitions: runbooks (how), workflows (when) and the inventory (where), loaded and checked.
export * from './schema.js';
export * from './errors.js';
export * from './template.js';
export {
  loadDefinitions,
  siteOf,
  type Definitions,
  type DefinitionPaths,
  type LoadedRunbook,
} from './load.js';
