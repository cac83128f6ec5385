// Runs ipmitool (lanplus) against a BMC. The password goes through the environment (`-E` reads
// IPMI_PASSWORD), never argv, so `ps` on the worker does not show it. ipmitool exits 1 for bad
// credentials, an unreachable BMC and bad commands alike, and some subcommands exit 0 on failure,
// so the output is parsed for every action.
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { ipmitoolArgs, ipmitoolCommandLine, parseIpmiOutput } from './command.js';
import { OutputTail } from '../ssh/output-tail.js';
import type { BmcTarget, IpmiAction, IpmiExecutor, IpmiResult } from '../types.js';
import {
  classifySessionFailure,
  IpmiAuthError,
  IpmiPasswordMissingError,
  IpmiToolMissingError,
  IpmiUnreachableError,
} from './errors.js';

export interface IpmiRunnerOptions {
  /** Where passwords are read from, by the variable name the inventory gives; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** ipmitool binary; default `ipmitool` on PATH. */
  binary?: string;
  /** Seconds ipmitool waits for each answer (`-N`); default 2. */
  retryIntervalSeconds?: number;
  /** Retries of each request (`-R`); default 3. */
  retries?: number;
  /** Bytes kept of each stream; default 64 KiB. */
  maxOutputBytes?: number;
  logger?: Logger;
}

export class IpmiRunner implements IpmiExecutor {
  private readonly env: NodeJS.ProcessEnv;
  private readonly binary: string;
  private readonly timing: { retryIntervalSeconds: number; retries: number };
  private readonly maxOutputBytes: number;
  private readonly logger: Logger | undefined;

  constructor(options: IpmiRunnerOptions = {}) {
    this.env = options.env ?? process.env;
    this.binary = options.binary ?? 'ipmitool';
    this.timing = {
      retryIntervalSeconds: options.retryIntervalSeconds ?? 2,
      retries: options.retries ?? 3,
    };
    this.maxOutputBytes = options.maxOutputBytes ?? 64 * 1024;
    this.logger = options.logger?.child({ component: 'ipmi' });
  }

  async run(target: BmcTarget, action: IpmiAction, options: { timeoutSeconds: number }): Promise<IpmiResult> {
    const password = this.env[target.passwordEnv];
    if (password === undefined || password === '') throw new IpmiPasswordMissingError(target);
    const command = ipmitoolCommandLine(target, action);
    const started = performance.now();
    const outcome = await this.spawnTool(target, ['-v', ...ipmitoolArgs(target, action, this.timing)], {
      password,
      timeoutSeconds: options.timeoutSeconds,
    });
    const durationMs = Math.round(performance.now() - started);
    const stderr = withoutChatter(outcome.stderr);
    const fields = { host: target.host, address: target.address, port: target.port, user: target.user };
    if (outcome.exitCode !== 0 && !outcome.timedOut) {
      const session = classifySessionFailure(outcome.stderr);
      this.logger?.warn(
        { ...fields, action, exitCode: outcome.exitCode, session: session?.kind },
        'ipmi failed',
      );
      if (session?.kind === 'auth')
        throw new IpmiAuthError({ ...fields, passwordEnv: target.passwordEnv, detail: session.detail });
      if (session?.kind === 'unreachable')
        throw new IpmiUnreachableError({ ...fields, detail: session.detail });
    }
    const parsed =
      outcome.exitCode === 0
        ? parseIpmiOutput(action, outcome.stdout)
        : {
            problem: outcome.timedOut
              ? `ipmitool did not finish within ${options.timeoutSeconds} s and was stopped`
              : `ipmitool exited with ${outcome.exitCode ?? 'no code'}`,
          };
    return {
      command,
      exitCode: outcome.exitCode,
      stdout: outcome.stdout,
      stderr,
      durationMs,
      timedOut: outcome.timedOut,
      truncated: outcome.truncated,
      ...parsed,
    };
  }

  private spawnTool(
    target: BmcTarget,
    args: string[],
    options: { password: string; timeoutSeconds: number },
  ): Promise<{
    exitCode: number | null;
    stdout: string;
    stderr: string;
    timedOut: boolean;
    truncated: boolean;
  }> {
    return new Promise((resolve, reject) => {
      // Only what ipmitool needs: the password in IPMI_PASSWORD, nothing else from ours.
      const child = spawn(this.binary, args, {
        env: { PATH: this.env.PATH ?? process.env.PATH ?? '/usr/bin:/bin', IPMI_PASSWORD: options.password },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stdout = new OutputTail(this.maxOutputBytes);
      const stderr = new OutputTail(this.maxOutputBytes);
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutSeconds * 1000);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(
          new IpmiToolMissingError(
            {
              host: target.host,
              address: target.address,
              port: target.port,
              user: target.user,
              binary: this.binary,
            },
            error,
          ),
        );
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({
          exitCode: timedOut ? null : code,
          stdout: stdout.text(),
          stderr: stderr.text(),
          timedOut,
          truncated: stdout.truncated || stderr.truncated,
        });
      });
    });
  }
}

/** `-v` adds lines that say nothing to a person reading the ticket. */
function withoutChatter(stderr: string): string {
  return stderr
    .split('\n')
    .filter(
      (line) =>
        !/^(Loading IANA PEN Registry|Running Get VSO Capabilities|Invalid completion code received: Invalid command|Discovered IPMB address)/.test(
          line,
        ),
    )
    .join('\n');
}
