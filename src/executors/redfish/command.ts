// The Redfish executor's pure helpers: the ResetType of an action. What a person would type for an
// action (redfishtool) is rendered in definitions/bmc-command-lines.ts, which the planner uses too.
export { redfishtoolCommandLine } from '../../definitions/bmc-command-lines.js';

/** The ResetType sent for an action; power-cycle uses PowerCycle when offered, else ForceRestart. */
export function resetTypeFor(
  action: 'power-on' | 'power-off' | 'power-cycle',
  allowed: string[] | undefined,
): string {
  if (action === 'power-on') return 'On';
  if (action === 'power-off') return 'ForceOff';
  if (!allowed || allowed.includes('PowerCycle')) return 'PowerCycle';
  return 'ForceRestart';
}
