#!/usr/bin/env node
// The command line. Parsing is commander's; each group of commands lives beside the code it runs:
// service (start | poll | work), authoring (validate | schema | plan), sandbox (demo).
import { Command } from 'commander';
import { ConfigError } from './config.js';
import { DefinitionError } from './definitions/index.js';
import { registerSandboxCommands } from './sandbox/commands.js';
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
registerSandboxCommands(program);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof ConfigError || error instanceof DefinitionError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
