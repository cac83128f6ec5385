// What every executor shares: where a command runs and what came back.

/** Where a command runs: a host name as the ticket and inventory name it, and how to reach it. */
export interface SshTarget {
  /** The name everyone uses (ticket, inventory, comment); host keys are looked up by this name. */
  host: string;
  /** Address to connect to; defaults to `host`. */
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
