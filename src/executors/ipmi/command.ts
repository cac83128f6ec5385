// ipmitool's command lines and output, as pure functions: the planner renders the command a person
// would type, the runner builds the argv and reads the answer.
import { quote } from 'shell-quote';
import type { BmcTarget, IpmiAction } from '../types.js';

const SUBCOMMANDS: Record<IpmiAction, string[]> = {
  'power-status': ['chassis', 'power', 'status'],
  'power-on': ['chassis', 'power', 'on'],
  'power-cycle': ['chassis', 'power', 'cycle'],
  'sel-read': ['sel', 'elist'],
};

/**
 * ipmitool's arguments for one action. `-C 3` picks cipher suite 3 (HMAC-SHA1, AES-128), the one
 * BMCs (and ipmi_sim) agree on; `-v` makes session failures say why (RAKP errors), which the
 * classification needs.
 */
export function ipmitoolArgs(
  target: Pick<BmcTarget, 'address' | 'port' | 'user'>,
  action: IpmiAction,
  timing: { retryIntervalSeconds: number; retries: number } = { retryIntervalSeconds: 2, retries: 3 },
): string[] {
  return [
    ...connectionArgs(target),
    '-C',
    '3',
    '-N',
    String(timing.retryIntervalSeconds),
    '-R',
    String(timing.retries),
    ...SUBCOMMANDS[action],
  ];
}

/** The command line as a person would run it (for comments and dry runs): no timing flags, no -v. */
export function ipmitoolCommandLine(
  target: Pick<BmcTarget, 'address' | 'port' | 'user'>,
  action: IpmiAction,
) {
  return quote(['ipmitool', ...connectionArgs(target), ...SUBCOMMANDS[action]]);
}

/** Which BMC, as whom, over lanplus, with the password from the environment (`-E`), never argv. */
function connectionArgs(target: Pick<BmcTarget, 'address' | 'port' | 'user'>): string[] {
  return ['-I', 'lanplus', '-H', target.address, '-p', String(target.port), '-U', target.user, '-E'];
}

/** What the output says about the action; a problem when it does not show success. */
export function parseIpmiOutput(
  action: IpmiAction,
  stdout: string,
): { power?: 'on' | 'off'; problem?: string } {
  switch (action) {
    case 'power-status': {
      const state = /^Chassis Power is (on|off)\s*$/m.exec(stdout)?.[1];
      return state === 'on' || state === 'off'
        ? { power: state }
        : { problem: 'ipmitool did not report a power state ("Chassis Power is on|off")' };
    }
    case 'power-on':
      return /^Chassis Power Control: Up\/On\s*$/m.test(stdout)
        ? { power: 'on' }
        : { problem: 'the BMC did not confirm "Chassis Power Control: Up/On"' };
    case 'power-cycle':
      return /^Chassis Power Control: Cycle\s*$/m.test(stdout)
        ? {}
        : { problem: 'the BMC did not confirm "Chassis Power Control: Cycle"' };
    case 'sel-read':
      return {};
  }
}
