#!/usr/bin/env node
// The command line. Parsing is commander's; each group of commands lives beside the code it runs:
// service (start | poll | work), authoring (validate | schema | plan), sandbox (demo | sandbox), the
// last loaded only when one of its commands runs (cli-sandbox.ts).
import { Command } from 'commander';
import { registerSandboxCommandStubs, SandboxMissingError } from './cli-sandbox.js';
import { ConfigError } from './config.js';
import { DefinitionError } from './definitions/index.js';
import { registerAuthoringCommands } from './service/commands.js';
import { registerDoctorCommand } from './service/doctor.js';
import { registerServiceCommands } from './service/serve.js';
import { registerStatusCommand } from './service/status.js';

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
