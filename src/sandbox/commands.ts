// CLI commands that run the sandbox: `runbot demo`.
import { Option, type Command } from 'commander';
import { runDemo } from './demo.js';

export function registerSandboxCommands(program: Command): void {
  program
    .command('demo')
    .description('run the whole thing on this machine: Jira sandbox, Redis, a simulated fleet, RMA tickets')
    .addOption(new Option('--tickets <n>', 'number of RMA restore tickets').default(8).argParser(Number))
    .option('--exit-when-done', 'exit when every ticket is Done')
    .action(async (options: { tickets: number; exitWhenDone?: boolean }) => {
      process.exitCode = await runDemo({
        tickets: options.tickets,
        exitWhenDone: options.exitWhenDone ?? false,
      });
    });
}
