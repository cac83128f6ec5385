// Each runbook input's pattern, compiled once when the runbook loads: the planner checks the values
// of every ticket of every poll cycle against them. Anchored as a whole, so that a pattern like
// ^a$|^.*$ cannot let any value through.
import type { Runbook } from './schema.js';

/** The compiled pattern of each input that has one, by input name. */
export type InputPatterns = ReadonlyMap<string, RegExp>;

export function compileInputPatterns(runbook: Runbook): InputPatterns {
  const patterns = new Map<string, RegExp>();
  for (const [name, spec] of Object.entries(runbook.inputs))
    if (spec.pattern !== undefined) patterns.set(name, new RegExp(`^(?:${spec.pattern})$`));
  return patterns;
}
