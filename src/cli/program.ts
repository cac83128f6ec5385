// The command line, wired. Parsing is commander's; each group of commands has its file here:
// serve.ts (start | poll | work | pause | resume), status.ts, authoring.ts (validate | schema |
// plan), doctor.ts, and sandbox.ts (demo | sandbox), which loads the sandbox only when one of its
// commands runs. Commands sit on top of the service: nothing outside src/cli/ imports them.
import { Command } from 'commander';
import { ConfigError } from '../config.js';
import { DefinitionError } from '../definitions/index.js';
import { registerAuthoringCommands } from './authoring.js';
import { registerDoctorCommand } from './doctor.js';
import { registerSandboxCommandStubs, SandboxMissingError } from './sandbox.js';
import { registerServiceCommands } from './serve.js';
import { registerStatusCommand } from './status.js';

/** Parses the process's arguments and runs the command; a bad configuration or definition exits 2. */
export async function runCli(): Promise<void> {
  const program = new Command()
    .name('runbot')
    .description('Restores servers to service after an RMA by walking Jira tickets through a runbook.')
    .showHelpAfterError();

  registerServiceCommands(program);
  registerStatusCommand(program);
  registerAuthoringCommands(program);
  registerDoctorCommand(program);
  registerSandboxCommandStubs(program);

  try {
    await program.parseAsync();
  } catch (error) {
    if (
      error instanceof ConfigError ||
      error instanceof DefinitionError ||
      error instanceof SandboxMissingError
    ) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}
