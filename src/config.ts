// Environment → typed configuration, in one place. An invalid value stops start-up with the
// variable's name and what was expected.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseSentinels, type SentinelSettings } from './queue/sentinel.js';

/** The repository (or image) root: the default home of runbooks/ and workflows/. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .default('false')
  .transform((value) => ['true', '1', 'yes'].includes(value));

const flagOn = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .default('true')
  .transform((value) => value === '' || ['true', '1', 'yes'].includes(value));

const seconds = (fallback: number) => z.coerce.number().positive().default(fallback);

export const ConfigSchema = z.object({
  JIRA_URL: z.url({ message: 'expected the Jira site URL, e.g. https://example.atlassian.net' }),
  JIRA_EMAIL: z.email({ message: 'expected the email address of the Jira account the bot uses' }),
  JIRA_API_TOKEN: z.string().min(1, 'expected an Atlassian API token'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'expected redis://host:port')
    .default('redis://127.0.0.1:6379'),
  /** Sentinels to ask for the master (`host:port,…`); REDIS_URL then gives only password, db and TLS. */
  REDIS_SENTINELS: z
    .string()
    .transform((value, context) => {
      try {
        return parseSentinels(value);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  /** The master's name in the sentinels' configuration. */
  REDIS_SENTINEL_NAME: z.string().min(1).default('mymaster'),
  RUNBOT_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  RUNBOT_DEFINITIONS: z.string().default(PROJECT_ROOT),
  RUNBOT_INVENTORY: z.string().optional(),
  RUNBOT_DRY_RUN: flag,
  RUNBOT_JIRA_INTERNAL_COMMENTS: flagOn,
  RUNBOT_POLL_INTERVAL: seconds(30),
  RUNBOT_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  RUNBOT_SSH_KEY: z.string().default('/etc/runbot/id_ed25519'),
  RUNBOT_KNOWN_HOSTS: z.string().default('/etc/runbot/known_hosts'),
  /** OpenSSH certificate of RUNBOT_SSH_KEY (`…-cert.pub`), offered by sites with `transport: openssh`. */
  RUNBOT_SSH_CERT: z.string().min(1).optional(),
  RUNBOT_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('runbot'),
  RUNBOT_TIME_SCALE: z.coerce.number().positive().default(1),
  /** Global pause: workers start nothing new and keep every job queued (also: Redis key `<prefix>:pause`). */
  RUNBOT_PAUSE: flag,
  /** Steps running at once across every worker and site (unset: no global cap). */
  RUNBOT_MAX_CONCURRENT_STEPS: z.coerce.number().int().min(1).optional(),
  /** Sites whose queues this worker takes work from, comma-separated (unset: every site). */
  RUNBOT_SITES: z
    .string()
    .regex(/^\s*[a-z0-9][a-z0-9-]*(\s*,\s*[a-z0-9][a-z0-9-]*)*\s*$/, 'expected site names, e.g. "dev2,sm1"')
    .transform((value) => value.split(',').map((site) => site.trim()))
    .optional(),
  RUNBOT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Human-readable logs (pino-pretty); `auto`: when stdout is a terminal. */
  RUNBOT_LOG_PRETTY: z
    .enum(['auto', 'true', 'false', '1', '0', 'yes', 'no', ''])
    .default('auto')
    .transform((value) => (value === 'auto' || value === '' ? 'auto' : ['true', '1', 'yes'].includes(value))),
  /** Seconds a step's claim settles in Jira when Redis may have lost work in flight (see docs/reliability.md). */
  RUNBOT_CLAIM_SETTLE: seconds(5),
  /** Seconds SIGTERM waits for running steps before closing anyway (they are found again from Jira). */
  RUNBOT_SHUTDOWN_GRACE: z.coerce.number().min(0).default(30),
});
export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = ConfigSchema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      const shown =
        name === 'JIRA_API_TOKEN' || env[name] === undefined ? '' : ` (got ${JSON.stringify(env[name])})`;
      return `${name}: ${issue.message}${shown}`;
    }),
  );
}

/** The sentinels to follow for Redis, when REDIS_SENTINELS is set. */
export function redisSentinel(config: Config): SentinelSettings | undefined {
  return config.REDIS_SENTINELS === undefined
    ? undefined
    : { sentinels: config.REDIS_SENTINELS, name: config.REDIS_SENTINEL_NAME };
}
