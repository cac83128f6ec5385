// Environment → typed configuration, in one place. An invalid value stops start-up with the
// variable's name and what was expected.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ATLASSIAN_TOKEN_URL } from './jira/auth.js';
import { hashTag, type RedisSettings } from './queue/connection.js';
import { parseHostPorts, parseSentinels } from './queue/sentinel.js';

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

/** An empty value is unset (docker compose passes `${VAR:-}` as an empty string). */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema);

const seconds = (fallback: number) => z.coerce.number().positive().default(fallback);

export const ConfigSchema = z
  .object({
    JIRA_URL: z.url({ message: 'expected the Jira site URL, e.g. https://example.atlassian.net' }),
    /** Basic auth (email + API token); for bearer and oauth see JIRA_AUTH and docs/jira.md. */
    JIRA_EMAIL: unsetIfEmpty(
      z.email({ message: 'expected the email address of the Jira account the bot uses' }).optional(),
    ),
    JIRA_API_TOKEN: unsetIfEmpty(z.string().min(1, 'expected an Atlassian API token').optional()),
    /** basic | bearer | oauth; unset: oauth when JIRA_CLIENT_ID is set, else basic. */
    JIRA_AUTH: unsetIfEmpty(z.enum(['basic', 'bearer', 'oauth']).optional()),
    JIRA_CLOUD_ID: unsetIfEmpty(
      z
        .string()
        .regex(/^[A-Za-z0-9-]+$/, "expected the site's cloud id, e.g. 11223344-a1b2-3b33-c444-def123456789")
        .optional(),
    ),
    JIRA_CLIENT_ID: unsetIfEmpty(z.string().min(1).optional()),
    JIRA_CLIENT_SECRET: unsetIfEmpty(z.string().min(1, 'expected the OAuth client secret').optional()),
    JIRA_OAUTH_TOKEN_URL: z
      .url({ message: 'expected the OAuth token endpoint URL' })
      .default(ATLASSIAN_TOKEN_URL),
    /** Jira calls one process keeps in flight at once (the adapter's cap; 429s and rate-limit headers still rule). */
    JIRA_CONCURRENCY: unsetIfEmpty(
      z.coerce
        .number({ message: 'expected the number of Jira calls in flight at once, e.g. 4' })
        .int('expected a whole number of Jira calls in flight at once, e.g. 4')
        .min(1, 'expected at least 1 Jira call in flight')
        .max(64, 'expected at most 64 Jira calls in flight (Jira Cloud rate-limits a busier client)')
        .default(4),
    ),
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
    /** Seed nodes of a Redis Cluster (`host:port,…`); REDIS_URL then gives only user, password and TLS. */
    REDIS_CLUSTER_NODES: unsetIfEmpty(
      z
        .string()
        .transform((value, context) => {
          try {
            return parseHostPorts(value, 'redis-1.internal:6379');
          } catch (error) {
            context.addIssue({ code: 'custom', message: (error as Error).message });
            return z.NEVER;
          }
        })
        .optional(),
    ),
    RUNBOT_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    RUNBOT_DEFINITIONS: z.string().default(PROJECT_ROOT),
    RUNBOT_INVENTORY: z.string().optional(),
    RUNBOT_DRY_RUN: flag,
    RUNBOT_JIRA_INTERNAL_COMMENTS: flagOn,
    RUNBOT_POLL_INTERVAL: seconds(30),
    RUNBOT_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
    RUNBOT_SSH_KEY: z.string().default('/etc/runbot/id_ed25519'),
    RUNBOT_KNOWN_HOSTS: z.string().default('/etc/runbot/known_hosts'),
    /** Names to addresses in /etc/hosts form, read by the SSH transports before DNS (hosts-file.ts). */
    RUNBOT_HOSTS_FILE: z.string().min(1).optional(),
    /** OpenSSH certificate of RUNBOT_SSH_KEY (`…-cert.pub`), offered by sites with `transport: openssh`. */
    RUNBOT_SSH_CERT: z.string().min(1).optional(),
    /** Unset: `runbot`, or `{runbot}` with REDIS_CLUSTER_NODES (a cluster needs a leading hash tag). */
    RUNBOT_QUEUE_PREFIX: unsetIfEmpty(
      z
        .string()
        .regex(
          /^(\{[A-Za-z0-9_-]+\})?[A-Za-z0-9_-]*$/,
          'expected letters, digits, _ and -, optionally after a {hash tag}, e.g. runbot or {runbot}',
        )
        .min(1)
        .optional(),
    ),
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
      .transform((value) =>
        value === 'auto' || value === '' ? 'auto' : ['true', '1', 'yes'].includes(value),
      ),
    /** Seconds a step's claim settles in Jira when Redis may have lost work in flight (see docs/reliability.md). */
    RUNBOT_CLAIM_SETTLE: seconds(5),
    /** Seconds SIGTERM waits for running steps before closing anyway (they are found again from Jira). */
    RUNBOT_SHUTDOWN_GRACE: z.coerce.number().min(0).default(30),
    /** Jira's webhook secret: deliveries must carry `X-Hub-Signature: sha256=…` (unset: unsigned accepted). */
    RUNBOT_WEBHOOK_SECRET: z
      .string()
      .optional()
      .transform((value) => value || undefined),
    /** Seconds between two poll cycles a webhook asks for (a flood of deliveries becomes one cycle). */
    RUNBOT_WEBHOOK_MIN_INTERVAL: z.coerce.number().min(0).default(5),
  })
  .superRefine((config, context) => {
    redisProblems(config).forEach(([path, message]) =>
      context.addIssue({ code: 'custom', path: [path], message }),
    );
    // What each auth mode needs, named by variable (JIRA_EMAIL is optional where a mode needs none).
    const mode = jiraAuthMode(config);
    const why = config.JIRA_AUTH
      ? `with JIRA_AUTH=${mode}`
      : `with JIRA_AUTH=${mode} (${mode === 'oauth' ? 'JIRA_CLIENT_ID is set' : 'the default'})`;
    const need = (name: keyof typeof config, what: string) => {
      if (config[name] === undefined)
        context.addIssue({ code: 'custom', path: [name], message: `${what} is required ${why}` });
    };
    if (mode === 'basic') {
      need('JIRA_EMAIL', 'the email address of the Jira account the bot uses');
      need('JIRA_API_TOKEN', 'its Atlassian API token');
      return;
    }
    if (mode === 'bearer') need('JIRA_API_TOKEN', 'the scoped or service-account API token');
    if (mode === 'oauth') {
      need('JIRA_CLIENT_ID', "the service account's OAuth 2.0 client id");
      need('JIRA_CLIENT_SECRET', "the service account's OAuth 2.0 client secret");
    }
    if (!config.JIRA_CLOUD_ID && !/\/ex\/jira\/[^/]+\/?$/.test(new URL(config.JIRA_URL).pathname))
      context.addIssue({
        code: 'custom',
        path: ['JIRA_CLOUD_ID'],
        message: `the site's cloud id is required ${why} (calls go through https://api.atlassian.com/ex/jira/{cloudId}; or set JIRA_URL to that URL)`,
      });
  })
  .transform((config) => ({
    ...config,
    RUNBOT_QUEUE_PREFIX:
      config.RUNBOT_QUEUE_PREFIX ?? (config.REDIS_CLUSTER_NODES === undefined ? 'runbot' : '{runbot}'),
  }));
export type Config = z.infer<typeof ConfigSchema>;

/** What a Redis Cluster rules out: Sentinel as well, a database other than 0, keys in many slots. */
function redisProblems(config: {
  REDIS_URL: string;
  REDIS_SENTINELS?: unknown;
  REDIS_CLUSTER_NODES?: unknown;
  RUNBOT_QUEUE_PREFIX?: string | undefined;
}): [string, string][] {
  if (config.REDIS_CLUSTER_NODES === undefined) return [];
  const problems: [string, string][] = [];
  if (config.REDIS_SENTINELS !== undefined)
    problems.push([
      'REDIS_CLUSTER_NODES',
      'REDIS_CLUSTER_NODES and REDIS_SENTINELS cannot both be set: a Redis Cluster fails over by itself; keep the one your Redis runs',
    ]);
  const db = new URL(config.REDIS_URL).pathname.replace(/^\//, '');
  if (db !== '' && db !== '0')
    problems.push([
      'REDIS_URL',
      `a Redis Cluster has only database 0, but REDIS_URL names database ${db}; drop the /${db}`,
    ]);
  const prefix = config.RUNBOT_QUEUE_PREFIX;
  if (prefix !== undefined && hashTag(prefix) === undefined)
    problems.push([
      'RUNBOT_QUEUE_PREFIX',
      `with REDIS_CLUSTER_NODES it must start with a {hash tag}, e.g. {${prefix}}, so that every key runbot and BullMQ write is in one hash slot (their Lua scripts touch several keys at once)`,
    ]);
  return problems;
}

/** The auth mode: JIRA_AUTH, else oauth when a client id is set, else basic. */
export function jiraAuthMode(
  config: Pick<Config, 'JIRA_AUTH' | 'JIRA_CLIENT_ID'>,
): 'basic' | 'bearer' | 'oauth' {
  return config.JIRA_AUTH ?? (config.JIRA_CLIENT_ID ? 'oauth' : 'basic');
}

const SECRET_VARIABLES = new Set(['JIRA_API_TOKEN', 'JIRA_CLIENT_SECRET', 'RUNBOT_WEBHOOK_SECRET']);

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
        SECRET_VARIABLES.has(name) || env[name] === undefined ? '' : ` (got ${JSON.stringify(env[name])})`;
      return `${name}: ${issue.message}${shown}`;
    }),
  );
}

/** The sentinels to follow for Redis, when REDIS_SENTINELS is set. */
export function redisSentinel(config: Config): RedisSettings['sentinel'] {
  return config.REDIS_SENTINELS === undefined
    ? undefined
    : { sentinels: config.REDIS_SENTINELS, name: config.REDIS_SENTINEL_NAME };
}

/** Where Redis is, for every client runbot opens (queue/connection.ts): one server, Sentinel or a cluster. */
export function redisSettings(config: Config): RedisSettings {
  const sentinel = redisSentinel(config);
  return {
    redisUrl: config.REDIS_URL,
    ...(sentinel ? { sentinel } : {}),
    ...(config.REDIS_CLUSTER_NODES ? { cluster: config.REDIS_CLUSTER_NODES } : {}),
  };
}
