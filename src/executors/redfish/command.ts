// What a person would type for a Redfish action: DMTF's redfishtool, with the password read from the
// same environment variable as the bot's (never written out). Pure: the planner renders it too.
import type { RedfishAction, RedfishTarget } from './types.js';

const OPERATIONS: Record<Exclude<RedfishAction, 'sel-clear'>, string[]> = {
  'power-status': ['get'],
  'power-on': ['reset', 'On'],
  'power-off': ['reset', 'ForceOff'],
  'power-cycle': ['reset', 'PowerCycle'],
  'sel-read': ['Logs', '-i', 'SEL'],
  'boot-pxe': ['setBootOverride', 'Once', 'Pxe'],
  'boot-disk': ['setBootOverride', 'Once', 'Hdd'],
  health: ['Processors', '-a'],
};

/**
 * `redfishtool -r ADDR:PORT -u USER -p "$VAR" -S Always -A Session Systems -1|-I ID …` for one
 * action. redfishtool 1.1.5 (Debian 12) has no clearLog, so the SEL is cleared with `raw POST` to
 * the action's target, under the system's Id (the inventory's `system`, else the one the BMC listed).
 */
export function redfishtoolCommandLine(
  target: Pick<RedfishTarget, 'address' | 'port' | 'user' | 'passwordEnv' | 'system'>,
  action: RedfishAction,
): string {
  const words = shellWords(['-r', `${target.address}:${target.port}`, '-u', target.user]);
  const operation =
    action === 'sel-clear'
      ? [
          '-d',
          '{}',
          'raw',
          'POST',
          `/redfish/v1/Systems/${target.system ?? '1'}/LogServices/SEL/Actions/LogService.ClearLog`,
        ]
      : ['Systems', ...(target.system ? ['-I', target.system] : ['-1']), ...OPERATIONS[action]];
  // The password stays in the environment: "$VAR" is expanded by the person's shell.
  return `redfishtool ${words} -p "$${target.passwordEnv}" ${shellWords(['-S', 'Always', '-A', 'Session', ...operation])}`;
}

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

/** Words as a shell reads them: bare when plain (host:port, paths), else in single quotes. */
function shellWords(words: string[]): string {
  return words
    .map((word) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`))
    .join(' ');
}
