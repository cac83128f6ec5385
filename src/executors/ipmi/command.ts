// ipmitool's argv and output, as pure functions: the runner builds the argv and reads the answer.
// The command line a person would type is rendered in definitions/bmc-command-lines.ts (the planner
// shows it too), from the same words.
import {
  IPMI_SUBCOMMANDS as SUBCOMMANDS,
  ipmitoolCommandLine,
  ipmitoolConnectionArgs as connectionArgs,
} from '../../definitions/bmc-command-lines.js';
import type { BmcTarget, IpmiAction } from '../types.js';

export { ipmitoolCommandLine };

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
