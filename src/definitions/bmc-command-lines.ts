// The command line a person would type for a BMC action, as pure functions: the planner shows it in
// comments, dry runs and approval plans, and the executors build their argv from the same words.
import { quote } from 'shell-quote';
import type { BmcTarget, IpmiAction, RedfishAction, RedfishTarget } from './targets.js';

/** ipmitool's subcommand for each action. */
export const IPMI_SUBCOMMANDS: Record<IpmiAction, string[]> = {
  'power-status': ['chassis', 'power', 'status'],
  'power-on': ['chassis', 'power', 'on'],
  'power-cycle': ['chassis', 'power', 'cycle'],
  'sel-read': ['sel', 'elist'],
};

/** Which BMC, as whom, over lanplus, with the password from the environment (`-E`), never argv. */
export function ipmitoolConnectionArgs(target: Pick<BmcTarget, 'address' | 'port' | 'user'>): string[] {
  return ['-I', 'lanplus', '-H', target.address, '-p', String(target.port), '-U', target.user, '-E'];
}

/** The command line as a person would run it (for comments and dry runs): no timing flags, no -v. */
export function ipmitoolCommandLine(
  target: Pick<BmcTarget, 'address' | 'port' | 'user'>,
  action: IpmiAction,
) {
  return quote(['ipmitool', ...ipmitoolConnectionArgs(target), ...IPMI_SUBCOMMANDS[action]]);
}

const REDFISH_OPERATIONS: Record<Exclude<RedfishAction, 'sel-clear'>, string[]> = {
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
 * action (DMTF's redfishtool, the password read from the same environment variable as the bot's,
 * never written out). redfishtool 1.1.5 (Debian 12) has no clearLog, so the SEL is cleared with
 * `raw POST` to the action's target, under the system's Id (the inventory's `system`, else the one
 * the BMC listed).
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
      : ['Systems', ...(target.system ? ['-I', target.system] : ['-1']), ...REDFISH_OPERATIONS[action]];
  // The password stays in the environment: "$VAR" is expanded by the person's shell.
  return `redfishtool ${words} -p "$${target.passwordEnv}" ${shellWords(['-S', 'Always', '-A', 'Session', ...operation])}`;
}

/** Words as a shell reads them: bare when plain (host:port, paths), else in single quotes. */
function shellWords(words: string[]): string {
  return words
    .map((word) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`))
    .join(' ');
}
