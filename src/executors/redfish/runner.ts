// Runs one Redfish action against a BMC: read the password from the variable the inventory names,
// open a session (certificate checked first), do the action, delete the session. A refused login, a
// missing password, an untrusted certificate and an unreachable BMC reject with typed errors
// (runner/steps/bmc.ts decides: retry, or a comment for a person); a slow or wrong answer is a result
// with a problem.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { runAction, type ActionOutcome } from './actions.js';
import { redfishtoolCommandLine } from './command.js';
import { RedfishPasswordMissingError, RedfishProtocolError, RedfishTimeoutError } from './errors.js';
import { RedfishSession } from './http.js';
import type { RedfishAction, RedfishExecutor, RedfishResult, RedfishTarget } from './types.js';

export interface RedfishRunnerOptions {
  /** Where passwords are read from, by the variable name the inventory gives; default process.env. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export class RedfishRunner implements RedfishExecutor {
  private readonly env: NodeJS.ProcessEnv;
  private readonly logger: Logger | undefined;

  constructor(options: RedfishRunnerOptions = {}) {
    this.env = options.env ?? process.env;
    this.logger = options.logger?.child({ component: 'redfish' });
  }

  async run(
    target: RedfishTarget,
    action: RedfishAction,
    options: { timeoutSeconds: number },
  ): Promise<RedfishResult> {
    const password = this.env[target.passwordEnv];
    const fields = { host: target.host, address: target.address, port: target.port, user: target.user };
    if (password === undefined || password === '') {
      throw new RedfishPasswordMissingError({ ...fields, passwordEnv: target.passwordEnv });
    }
    const command = redfishtoolCommandLine(target, action);
    const started = performance.now();
    let session: RedfishSession | undefined;
    let outcome: ActionOutcome;
    let timedOut = false;
    try {
      const ca = 'ca' in target.trust ? await readCa(target.trust.ca) : undefined;
      session = new RedfishSession(target, { timeoutSeconds: options.timeoutSeconds, ca });
      const root = await session.open(password);
      outcome = await runAction(session, root, target, action);
    } catch (error) {
      if (!(error instanceof RedfishTimeoutError || error instanceof RedfishProtocolError)) {
        this.logger?.warn({ ...fields, action, err: error }, 'redfish failed');
        throw error;
      }
      timedOut = error instanceof RedfishTimeoutError;
      outcome = { lines: [], problem: error.message.replace(/\.$/, '') };
    } finally {
      await session?.close();
    }
    const durationMs = Math.round(performance.now() - started);
    this.logger?.info({ ...fields, action, durationMs, problem: outcome.problem }, 'redfish action done');
    return {
      command,
      exitCode: outcome.problem === undefined ? 0 : 1,
      stdout: [...outcome.lines, '', ...(session?.log ?? [])].join('\n'),
      stderr: '',
      durationMs,
      timedOut,
      truncated: false,
      ...(outcome.power ? { power: outcome.power } : {}),
      ...(outcome.problem !== undefined ? { problem: outcome.problem } : {}),
    };
  }
}

async function readCa(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new RedfishProtocolError(
      `read ${file}`,
      `cannot read the CA file named by redfish.ca (${(error as Error).message})`,
    );
  }
}
