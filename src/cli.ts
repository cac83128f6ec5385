#!/usr/bin/env node
// The command line: start | poll | work | validate | schema | plan | demo. Parsing is commander's;
// each command is a small function over the same modules the service uses.
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, PROJECT_ROOT } from './config.js';
import { DefinitionError } from './definitions/index.js';
import { createLogger } from './logger.js';
import { runDemo } from './sandbox/demo.js';
import { startService, type Roles } from './service/app.js';
import { planCommand, schemaCommand, validateCommand } from './service/commands.js';

const program = new Command()
  .name('runbot')
  .description('Restores servers to service after an RMA by walking Jira tickets through a runbook.')
  .showHelpAfterError();

const serve = (roles: Roles) => async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.RUNBOT_LOG_LEVEL });
  const service = await startService(config, roles, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: no new work, running steps finish');
    void service.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
};

program
  .command('start')
  .description('poll Jira, run steps and serve /healthz /readyz /metrics')
  .action(serve({ poll: true, work: true, http: true }));
program
  .command('poll')
  .description('only poll Jira and enqueue steps')
  .action(serve({ poll: true, work: false, http: true }));
program
  .command('work')
  .description('only run queued steps')
  .action(serve({ poll: false, work: true, http: true }));

program
  .command('validate')
  .description('check runbooks, workflows and the inventory; one line per problem as path:line:col: message')
  .option(
    '--dir <dir>',
    'directory holding runbooks/ and workflows/',
    process.env.RUNBOT_DEFINITIONS ?? PROJECT_ROOT,
  )
  .option(
    '--inventory <file>',
    'inventory file (default: <dir>/workflows/inventory.yaml)',
    process.env.RUNBOT_INVENTORY,
  )
  .action(async (options: { dir: string; inventory?: string }) => {
    process.exitCode = await validateCommand(options, (line) => console.log(line));
  });

program
  .command('schema')
  .description('print the JSON Schema of a definition file kind')
  .addArgument(
    new Command()
      .createArgument('<kind>', 'runbook | workflow | inventory')
      .choices(['runbook', 'workflow', 'inventory']),
  )
  .action((kind: 'runbook' | 'workflow' | 'inventory') => console.log(schemaCommand(kind)));

program
  .command('plan')
  .description('show what the bot would do now for one ticket; changes nothing')
  .argument('<issue-key>', 'e.g. HOT-42')
  .option('--json', 'print the decision as JSON')
  .action(async (key: string, options: { json?: boolean }) => {
    const config = loadConfig();
    process.exitCode = await planCommand(config, key, options, (line) => console.log(line));
  });

program
  .command('demo')
  .description('run the whole thing on this machine: Jira sandbox, Redis, a simulated fleet, RMA tickets')
  .addOption(new Option('--tickets <n>', 'number of RMA restore tickets').default(8).argParser(Number))
  .option('--exit-when-done', 'exit when every ticket is Done or failed')
  .action(async (options: { tickets: number; exitWhenDone?: boolean }) => {
    process.exitCode = await runDemo({
      tickets: options.tickets,
      exitWhenDone: options.exitWhenDone ?? false,
    });
  });

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof ConfigError || error instanceof DefinitionError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
