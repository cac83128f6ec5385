// What every executor shares: where a command runs and what came back.

/** Where a command runs: a host name as the ticket and inventory name it, and how to reach it. */
export interface SshTarget {
  /** The name everyone uses (ticket, inventory, comment); host keys are looked up by this name. */
  host: string;
  /** Address to connect to; defaults to `host`. */
  address?: string;
  port: number;
  user: string;
  /** Reach the target through this bastion (an SSH `direct-tcpip` channel); its key is verified too. */
  jump?: JumpHost;
  /** How the site is reached: unset is node-ssh; `openssh` drives the OpenSSH client (host certificates). */
  transport?: 'openssh';
}

/** A bastion between the bot and a site's hosts, verified under its own name like any target. */
export interface JumpHost {
  host: string;
  address?: string;
  port: number;
  user: string;
}

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

/** The BMC of a host: `host` names the server, `address`/`port`/`user` reach its BMC over IPMI (lanplus). */
export interface BmcTarget {
  host: string;
  address: string;
  port: number;
  user: string;
  /** Name of the environment variable holding the BMC password; the value never leaves the environment. */
  passwordEnv: string;
}

export type IpmiAction = 'power-status' | 'power-on' | 'power-cycle' | 'sel-read';

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
