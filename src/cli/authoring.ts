// The author's commands: validate definitions, print JSON Schemas, and plan one ticket read-only.
import { Command } from 'commander';
import { loadConfig, PROJECT_ROOT, type Config } from '../config.js';
import {
  DEFINITION_KINDS,
  DefinitionError,
  definitionJsonSchema,
  formatProblem,
  loadDefinitions,
  type DefinitionKind,
} from '../definitions/index.js';
import type { TicketShape } from '../jira/index.js';
import { createJiraAdapter } from '../jira/index.js';
import { createLogger } from '../logger.js';
import { isActionable, planTicket, type Ticket } from '../planner/index.js';
import { actionLines } from '../runner/dry-run.js';
import { planInputFor, workflowContexts } from '../runner/context.js';
import { freshHolders } from '../service/holders.js';
import { jiraConnection } from '../service/jira-connection.js';

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

export function schemaCommand(kind: DefinitionKind): string {
  return JSON.stringify(definitionJsonSchema(kind), null, 2);
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
  const jira = createJiraAdapter({ ...jiraConnection(config, logger), logger });
  const contexts = [...workflowContexts(definitions).values()];
  // One read for every workflow: ask for all their input fields, keyed by field id, then give each
  // workflow its inputs by name.
  const fieldIds = contexts.flatMap((context) => Object.values(context.shape.inputFields));
  const userFields = [...new Set(contexts.flatMap((context) => context.shape.userFields ?? []))];
  const allFields: TicketShape = {
    inputFields: Object.fromEntries(fieldIds.map((id) => [id, id])),
    ...(userFields.length > 0 ? { userFields } : {}),
  };
  const read = await jira.getTicket(key, allFields);
  if (!read) {
    print(`${key}: no such ticket (or not visible to ${config.JIRA_EMAIL ?? "the bot's Jira account"})`);
    return 1;
  }
  for (const context of contexts) {
    if (read.project !== context.workflow.jira.project || read.issueType !== context.workflow.jira.issue_type)
      continue;
    const ticket: Ticket = {
      ...read,
      inputs: Object.fromEntries(
        Object.entries(context.shape.inputFields).map(([input, field]) => [input, read.inputs[field]]),
      ),
    };
    // At the gate of an exclusive workflow: who holds the host, as the worker would read it.
    const holders = await freshHolders(jira, context, ticket);
    const decision = planTicket(
      planInputFor(
        context,
        ticket,
        { definitions, now: () => new Date(), timeScale: config.RUNBOT_TIME_SCALE },
        { holders, fieldNames: await jira.fieldNames?.() },
      ),
    );
    if (options.json) print(JSON.stringify(decision, null, 2));
    else {
      print(`${key} (${ticket.status}, workflow ${context.workflow.name}):`);
      for (const line of isActionable(decision)
        ? actionLines(decision)
        : [`nothing to do: ${decision.reason}`])
        print(`  ${line}`);
    }
    return 0;
  }
  print(
    `${key}: no workflow covers project ${read.project}, issue type "${read.issueType}" (workflows: ${contexts.map((c) => c.workflow.name).join(', ') || 'none'})`,
  );
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
      new Command().createArgument('<kind>', 'runbook | workflow | inventory').choices([...DEFINITION_KINDS]),
    )
    .action((kind: DefinitionKind) => console.log(schemaCommand(kind)));

  program
    .command('plan')
    .description('show what the bot would do now for one ticket; changes nothing')
    .argument('<issue-key>', 'e.g. HOT-42')
    .option('--json', 'print the decision as JSON')
    .action(async (key: string, options: { json?: boolean }) => {
      process.exitCode = await planCommand(loadConfig(), key, options, (line) => console.log(line));
    });
}
