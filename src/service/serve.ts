// CLI commands that run the service: start (all roles), poll, work. SIGTERM drains; a second signal exits.
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { startService, type Roles } from './app.js';

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

export function registerServiceCommands(program: Command): void {
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
}
