// Picks the SSH transport per target: node-ssh (the default) or the OpenSSH client, which a site
// chooses with `ssh: { transport: openssh }` in the inventory (the planner copies it onto the target).
import type { Logger } from 'pino';
import type { CommandResult, CommandRunner, SshTarget } from '../types.js';
import { OpensshRunner } from './openssh-runner.js';
import { SshRunner } from './ssh-runner.js';

export interface SshTransportsOptions {
  privateKey: string;
  /** RUNBOT_SSH_CERT: offered by the openssh transport only (ssh2 cannot log in with a certificate). */
  certificate?: string | undefined;
  knownHostsFile: string;
  /** RUNBOT_HOSTS_FILE: addresses of names the inventory gives no `address`, for both transports. */
  hostsFile?: string | undefined;
  /** node-ssh: a connection with nothing running closes after this long (default 60 s). */
  idleMs?: number;
  /** Some site uses the openssh transport: set it up now, so a bad path stops start-up. */
  openssh: boolean;
  logger?: Logger;
}

export class SshTransports implements CommandRunner {
  private readonly nodeSsh: CommandRunner;
  private readonly openssh: CommandRunner | undefined;

  constructor(options: SshTransportsOptions) {
    const common = {
      privateKey: options.privateKey,
      knownHostsFile: options.knownHostsFile,
      hostsFile: options.hostsFile,
      ...(options.logger ? { logger: options.logger } : {}),
    };
    this.nodeSsh = new SshRunner({
      ...common,
      ...(options.idleMs === undefined ? {} : { idleMs: options.idleMs }),
    });
    this.openssh = options.openssh
      ? new OpensshRunner({ ...common, certificate: options.certificate })
      : undefined;
    if (options.certificate !== undefined && !options.openssh) {
      // ssh2 cannot log in with a certificate: say so rather than ignore it silently.
      options.logger?.warn('RUNBOT_SSH_CERT is set but no site uses ssh.transport: openssh; it is not used');
    }
  }

  run(target: SshTarget, command: string, options: { timeoutSeconds: number }): Promise<CommandResult> {
    if (target.transport !== 'openssh') return this.nodeSsh.run(target, command, options);
    if (!this.openssh) {
      return Promise.reject(
        new Error(`${target.host}: the openssh transport was not set up (no site in the inventory uses it)`),
      );
    }
    return this.openssh.run(target, command, options);
  }

  async close(): Promise<void> {
    await Promise.all([this.nodeSsh.close(), this.openssh?.close()]);
  }
}
