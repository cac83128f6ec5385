// The author's commands: validate definitions, print JSON Schemas, and plan one ticket read-only.
import { z } from 'zod';
import type { Config } from '../config.js';
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
