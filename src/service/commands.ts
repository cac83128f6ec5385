// The author's commands: validate definitions, print JSON Schemas, and plan one ticket read-only.
import { Command } from 'commander';
import { z } from 'zod';
import { loadConfig, PROJECT_ROOT, type Config } from '../config.js';
import {
  DefinitionError,
  formatProblem,
  InventorySchema,
  loadDefinitions,
  RunbookSchema,
  WorkflowSchema,
} from '../definitions/index.js';
import { createJiraAdapter } from '../jira/index.js';
import { createLogger } from '../logger.js';
import { planTicket } from '../planner/index.js';
import { isActionable } from '../queue/index.js';
import { describe } from './act.js';
import { workflowContexts } from './context.js';

type Print = (line: string) => void;

export async function validateCommand(
  options: { dir: string; inventory?: string },
  print: Print,
): Promise<number> {
  try {
    const definitions = await loadDefinitions({
      root: options.dir,
      ...(options.inventory ? { inventory: options.inventory } : {}),
    });
    const sites = Object.keys(definitions.inventory.sites).length;
    print(
      `ok: ${definitions.runbooks.size} runbooks, ${definitions.workflows.size} workflows, ${sites} sites`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof DefinitionError)) throw error;
    error.problems.forEach((problem) => print(formatProblem(problem)));
    return 1;
  }
}

const SCHEMAS = { runbook: RunbookSchema, workflow: WorkflowSchema, inventory: InventorySchema };

export function schemaCommand(kind: keyof typeof SCHEMAS): string {
  return JSON.stringify(z.toJSONSchema(SCHEMAS[kind], { io: 'input' }), null, 2);
}

export async function planCommand(
  config: Config,
  key: string,
  options: { json?: boolean },
  print: Print,
): Promise<number> {
  const definitions = await loadDefinitions({
    root: config.RUNBOT_DEFINITIONS,
    ...(config.RUNBOT_INVENTORY ? { inventory: config.RUNBOT_INVENTORY } : {}),
  });
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const jira = createJiraAdapter({
    url: config.JIRA_URL,
    email: config.JIRA_EMAIL,
    apiToken: config.JIRA_API_TOKEN,
    logger,
  });
  for (const context of workflowContexts(definitions).values()) {
    const ticket = await jira.getTicket(key, context.shape);
    if (!ticket) {
      print(`${key}: no such ticket`);
      return 1;
    }
    if (
      ticket.project !== context.workflow.jira.project ||
      ticket.issueType !== context.workflow.jira.issue_type
    )
      continue;
    const decision = planTicket({
      ticket,
      workflow: context.workflow,
      runbook: context.runbook,
      inventory: definitions.inventory,
      now: new Date(),
      timeScale: config.RUNBOT_TIME_SCALE,
    });
    if (options.json) print(JSON.stringify(decision, null, 2));
    else {
      print(`${key} (${ticket.status}, workflow ${context.workflow.name}):`);
      for (const line of isActionable(decision) ? describe(decision) : [`nothing to do: ${decision.reason}`])
        print(`  ${line}`);
    }
    return 0;
  }
  print(`${key}: no workflow covers this ticket's project and issue type`);
  return 1;
}

export function registerAuthoringCommands(program: Command): void {
  program
    .command('validate')
    .description(
      'check runbooks, workflows and the inventory; one line per problem as path:line:col: message',
    )
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
    .action((kind: keyof typeof SCHEMAS) => console.log(schemaCommand(kind)));

  program
    .command('plan')
    .description('show what the bot would do now for one ticket; changes nothing')
    .argument('<issue-key>', 'e.g. HOT-42')
    .option('--json', 'print the decision as JSON')
    .action(async (key: string, options: { json?: boolean }) => {
      process.exitCode = await planCommand(loadConfig(), key, options, (line) => console.log(line));
    });
}
