// What every executor shares: where a command runs and what came back.
import type { BmcTarget, IpmiAction, SshTarget } from '../definitions/targets.js';

// The targets are data the planner builds too: they live with the definitions.
export type { BmcTarget, IpmiAction, JumpHost, SshTarget } from '../definitions/targets.js';

export interface CommandResult {
  /** null when the command did not end by itself (timeout, connection lost). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** stdout or stderr went over the capture cap and was cut. */
  truncated: boolean;
}

export interface CommandRunner {
  /** Runs one shell command on the target; rejects only when the command could not be started. */
  run(target: SshTarget, command: string, options: { timeoutSeconds: number }): Promise<CommandResult>;
  close(): Promise<void>;
}

export interface IpmiResult extends CommandResult {
  /** The ipmitool command line as a person would type it (`-E`: the password stays in the environment). */
  command: string;
  /** The power state ipmitool reported (power-status), or the one requested (power-on). */
  power?: 'on' | 'off';
  /** Why the output does not show the action succeeded; undefined when it did. */
  problem?: string;
}

export interface IpmiExecutor {
  /** Runs one action against a BMC; rejects with a typed error when the BMC refused or did not answer. */
  run(target: BmcTarget, action: IpmiAction, options: { timeoutSeconds: number }): Promise<IpmiResult>;
}
