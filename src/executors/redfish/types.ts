// What the Redfish executor takes and gives back: the BMC of a host reached over HTTPS, and the
// result of one action, shaped like a command's result so comments and checks treat it the same way.
import { REDFISH_ACTIONS } from '../../definitions/schema.js';
import type { CommandResult } from '../types.js';

// The actions are the runbook's: one list, in the definitions' schema.
export { REDFISH_ACTIONS };
export type RedfishAction = (typeof REDFISH_ACTIONS)[number];

/** How the BMC's certificate is trusted: its SHA-256 fingerprint pinned, or a CA's PEM file. */
export type RedfishTrust = { fingerprint: string } | { ca: string } | { system: true };

/** The BMC of a host: `host` names the server, the rest reaches its Redfish service over HTTPS. */
export interface RedfishTarget {
  host: string;
  address: string;
  port: number;
  user: string;
  /** Name of the environment variable holding the BMC password; the value never leaves the environment. */
  passwordEnv: string;
  trust: RedfishTrust;
  /** The ComputerSystem's Id when the service has several; default: the only member of Systems. */
  system?: string;
}

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
