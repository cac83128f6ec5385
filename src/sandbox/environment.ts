// One way to build a world to run the bot against, for the demo (demo-env.ts), the service tests
// (test/support/world.ts) and the fault suite (test/support/faults/env.ts): a temporary directory,
// the servers it needs (redis-server, sshd, the simulated fleet), and the Jira sandbox holding the
// restore and RMA projects with a way to seed tickets through Jira's REST API, the way people do.
// Whatever was started stops in `stop()`, newest first; a build that fails half-way stops what it
// had started before it throws.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Workflow } from '../definitions/index.js';
import { startFleet, type Fleet, type FleetProfile } from './fleet/index.js';
import { JiraSandbox, RemoteJiraSandbox, type SandboxOptions } from './jira/index.js';
import { HOST_FIELD, restoreProject, RMA_PROJECT } from './rma-jira.js';
import { jiraSeeder, type Credentials } from './seed.js';

export interface RestoreJiraOptions {
  /** The workflow whose project the sandbox holds (its statuses and issue type). */
  workflow: Workflow;
  credentials: Credentials;
  /** More issue types in the restore project (tickets of a type no workflow covers). */
  extraIssueTypes?: string[];
  /** The sandbox's behaviour and the other identities it accepts (search lag, faults, tokens). */
  sandbox?: Omit<Partial<SandboxOptions>, 'projects' | 'customFields' | 'credentials'>;
  /** Port of the sandbox started here (default any free port), on 127.0.0.1. */
  port?: number;
  /** Use the sandbox already running at this URL (`runbot sandbox`) instead of starting one. */
  remoteUrl?: string;
}

export interface RestoreJira {
  sandbox: JiraSandbox;
  /** The sandbox's own URL: seeding goes straight there, never through a proxy put in front. */
  url: string;
  /** An RMA ticket and a restore ticket for `host` blocked by it; `rmaDone` closes the RMA at once. */
  seedTicket(host: string, options: { rmaDone: boolean }): Promise<{ key: string; rma: string }>;
}

export class Environment {
  private readonly cleanups: (() => Promise<void>)[] = [];

  /** Runs `cleanup` in `stop()`, before everything registered earlier. */
  defer(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  /** Stops everything, newest first; every cleanup runs even when one fails (the first error is thrown). */
  async stop(): Promise<void> {
    let failure: { error: unknown } | undefined;
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** Something started (a server), stopped with the environment by `stopIt`. */
  async start<T>(starting: Promise<T>, stopIt: (started: T) => Promise<void>): Promise<T> {
    const started = await starting;
    this.defer(() => stopIt(started));
    return started;
  }

  /** A temporary directory, removed with everything in it. */
  async directory(prefix: string): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), prefix));
    this.defer(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Sets variables in this process while the environment runs (the BMC passwords an inventory names). */
  processEnv(variables: Record<string, string>): void {
    for (const [name, value] of Object.entries(variables)) {
      process.env[name] = value;
      this.defer(() => {
        delete process.env[name];
        return Promise.resolve();
      });
    }
  }

  /** The simulated fleet of SSH hosts. */
  async fleet(profile?: Partial<FleetProfile>): Promise<Fleet> {
    const fleet = await startFleet({ ...(profile ? { profile } : {}) });
    this.defer(() => fleet.stop());
    return fleet;
  }

  /** The Jira sandbox with the workflow's restore project and the RMA project. */
  async jira(options: RestoreJiraOptions): Promise<RestoreJira> {
    const { workflow, credentials } = options;
    const remote = options.remoteUrl
      ? new RemoteJiraSandbox({ url: options.remoteUrl.replace(/\/+$/, ''), credentials })
      : undefined;
    const sandbox =
      remote ??
      new JiraSandbox({
        projects: [
          {
            ...restoreProject(workflow),
            issueTypes: [workflow.jira.issue_type, ...(options.extraIssueTypes ?? [])],
          },
          RMA_PROJECT,
        ],
        customFields: [HOST_FIELD],
        credentials,
        ...options.sandbox,
      });
    const url = await sandbox.start(options.port ?? 0, '127.0.0.1').catch((error: unknown) => {
      const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      throw new Error(
        inUse
          ? `jira sandbox: port ${options.port} on 127.0.0.1 is taken; pick another (--port, 0 for any)`
          : `jira sandbox: could not start: ${String(error)}`,
        { cause: error },
      );
    });
    this.defer(() => sandbox.stop());
    const seeder = jiraSeeder(url, credentials);
    return {
      sandbox,
      url,
      async seedTicket(host, seedOptions) {
        const { key, rma } = await seeder.restoreTicket(workflow, host);
        if (remote) await Promise.all([remote.track(key), remote.track(rma)]);
        if (seedOptions.rmaDone) sandbox.moveAsHuman(rma, 'Done');
        return { key, rma };
      },
    };
  }
}

/**
 * Builds an environment with `build`; when it throws, whatever it had started is stopped first.
 * The result's own `stop` should end with `environment.stop()`.
 */
export async function buildEnvironment<T>(build: (environment: Environment) => Promise<T>): Promise<T> {
  const environment = new Environment();
  try {
    return await build(environment);
  } catch (error) {
    await environment.stop().catch(() => undefined);
    throw error;
  }
}
