// What the Redfish executor takes and gives back: the BMC of a host reached over HTTPS, and the
// result of one action, shaped like a command's result so comments and checks treat it the same way.
import { REDFISH_ACTIONS } from '../../definitions/schema.js';
import type { RedfishAction, RedfishTarget } from '../../definitions/targets.js';
import type { CommandResult } from '../types.js';

// The actions are the runbook's (one list, in the definitions' schema); the target is data the
// planner builds too (definitions/targets.ts).
export { REDFISH_ACTIONS };
export type { RedfishAction, RedfishTarget, RedfishTrust } from '../../definitions/targets.js';

export interface RedfishResult extends CommandResult {
  /** What was asked of the BMC, as a person reads it: the HTTP requests made (no credentials). */
  command: string;
  /** The PowerState the BMC reported (power-status), or the one reached (power-on, power-off). */
  power?: 'on' | 'off';
  /** Why the answer does not show the action succeeded; undefined when it did. */
  problem?: string;
}

export interface RedfishExecutor {
  /** Runs one action against a BMC; rejects with a typed error when the BMC refused or did not answer. */
  run(
    target: RedfishTarget,
    action: RedfishAction,
    options: { timeoutSeconds: number },
  ): Promise<RedfishResult>;
}
