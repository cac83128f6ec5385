// `runbot doctor`: checks the Jira site in JIRA_URL against the loaded workflows, read-only, and
// prints one line per check with what to do; exit 1 when any check found a problem.
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { loadDefinitions } from '../definitions/index.js';
import { createJiraAdapter } from '../jira/index.js';
import { formatDoctorTable, runDoctor } from '../jira/doctor.js';
import { configSecrets, createLogger } from '../logger.js';
import { jiraConnection } from '../service/jira-connection.js';

type Print = (line: string) => void;

export async function doctorCommand(
  config: Config,
  options: { json?: boolean },
  print: Print,
): Promise<number> {
  const definitions = await loadDefinitions({
    root: config.RUNBOT_DEFINITIONS,
    ...(config.RUNBOT_INVENTORY ? { inventory: config.RUNBOT_INVENTORY } : {}),
  });
  const logger = createLogger({
    level: 'error',
    destination: process.stderr,
    secrets: configSecrets(config),
  });
  const jira = createJiraAdapter({
    ...jiraConnection(config, logger),
    logger,
    // A check answers now or says it could not: a doctor that waits minutes on a sick site helps no one.
    maxAttempts: 2,
  });
  const rows = await runDoctor(jira, [...definitions.workflows.values()]);
  if (options.json) print(JSON.stringify(rows, null, 2));
  else formatDoctorTable(rows).forEach((line) => print(line));
  return rows.some((row) => row.result === 'problem') ? 1 : 0;
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the Jira site against the workflows (statuses, transitions, fields, link type, permissions, auth); read-only',
    )
    .option('--json', 'print the checks as JSON')
    .action(async (options: { json?: boolean }) => {
      process.exitCode = await doctorCommand(loadConfig(), options, (line) => console.log(line));
    });
}
