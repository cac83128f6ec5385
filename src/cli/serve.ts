// CLI commands that run the service: start (all roles), poll, work. SIGTERM drains; a second signal exits.
import type { Command } from 'commander';
import { loadConfig, redisSettings, type Config } from '../config.js';
import { createRedis, PauseSwitch } from '../queue/index.js';
import { configSecrets, createLogger, wantsPretty } from '../logger.js';
import { startService, type Roles } from '../service/app.js';
import { resumeBreakerCommand } from './breaker.js';

const serve =
  (roles: Roles) =>
  async (options: { site?: string[] } = {}) => {
    // `--site a --site b` (or `--site a,b`) wins over RUNBOT_SITES.
    const config = loadConfig(
      options.site ? { ...process.env, RUNBOT_SITES: options.site.join(',') } : process.env,
    );
    const logger = createLogger({
      level: config.RUNBOT_LOG_LEVEL,
      pretty: wantsPretty(config.RUNBOT_LOG_PRETTY),
      secrets: configSecrets(config),
    });
    const service = await startService(config, roles, logger);
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info(
        { signal, graceSeconds: config.RUNBOT_SHUTDOWN_GRACE },
        'stopping: no new work, running steps finish',
      );
      service.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'stopping failed');
          process.exit(1);
        },
      );
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
    .option(
      '--site <name>',
      "take only this site's work (repeatable; default: every site, or RUNBOT_SITES)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(serve({ poll: false, work: true, http: true }));
  program
    .command('pause')
    .description('global pause: workers start no new step; every job stays queued')
    .argument('[reason...]', "why, shown in the workers' logs")
    .action(async (reason: string[]) => {
      const config = loadConfig();
      await withPauseSwitch(config, (pause) => pause.pause(reason.join(' ') || 'paused with runbot pause'));
      console.log(`paused: ${config.RUNBOT_QUEUE_PREFIX}:pause is set; \`runbot resume\` lifts it`);
    });
  program
    .command('resume')
    .description('lift the global pause set by `runbot pause`, or with --breaker reset one breaker')
    .option('--breaker <site/step>', 'reset the failure-rate breaker of this site and step (the pause stays)')
    .action(async (options: { breaker?: string }) => {
      const config = loadConfig();
      if (options.breaker !== undefined) {
        process.exitCode = await resumeBreakerCommand(config, options.breaker, (line) => console.log(line));
        return;
      }
      await withPauseSwitch(config, (pause) => pause.resume());
      console.log(
        config.RUNBOT_PAUSE
          ? 'resumed in Redis, but RUNBOT_PAUSE is still set for this environment'
          : 'resumed',
      );
    });
}

async function withPauseSwitch(config: Config, use: (pause: PauseSwitch) => Promise<void>): Promise<void> {
  const redis = createRedis(redisSettings(config), { maxRetriesPerRequest: 1 });
  try {
    await use(new PauseSwitch(redis, config.RUNBOT_QUEUE_PREFIX));
  } finally {
    redis.disconnect();
  }
}
