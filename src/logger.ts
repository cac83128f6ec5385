// pino JSON logs, or pino-pretty for a person at a terminal. Secrets are kept out twice: fields with
// secret names are redacted by path, and the secret values themselves (the Jira token and the Basic
// credentials built from it, an IPMI password, a private key) are masked in every line written,
// wherever a library put them (an error's cause, a request's headers, a message).
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import type pretty from 'pino-pretty';

export type { Logger };

// pino-pretty (and its colour, date and parsing libraries) is for a person at a terminal: loaded, with
// require since createLogger is synchronous, only when pretty output is chosen, never by the service
// in its image (RUNBOT_LOG_PRETTY=false).
const loadPretty = (): typeof pretty => createRequire(import.meta.url)('pino-pretty') as typeof pretty;

const SECRET_FIELDS = [
  'JIRA_API_TOKEN',
  'JIRA_CLIENT_SECRET',
  'RUNBOT_WEBHOOK_SECRET',
  'clientSecret',
  'client_secret',
  'accessToken',
  'access_token',
  'IPMI_PASSWORD',
  'apiToken',
  'password',
  'passphrase',
  'privateKey',
  'authorization',
  'Authorization',
];
const REDACTED_PATHS = SECRET_FIELDS.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]).concat([
  'headers.authorization',
  '*.headers.authorization',
  '*.*.headers.authorization',
  '*.headers.Authorization',
  '*.*.headers.Authorization',
]);
export const REDACTED = '[redacted]';

export interface LoggerOptions {
  level?: string;
  destination?: pino.DestinationStream;
  /** pino-pretty output (colours when the destination is a terminal); JSON otherwise. */
  pretty?: boolean;
  /** Secret values masked in every line, e.g. the Jira API token. Values shorter than 4 characters are ignored. */
  secrets?: (string | undefined)[];
}

/**
 * The secret values in the configuration: the Jira token and the Basic credentials built from it,
 * the OAuth client secret, the webhook secret. (OAuth access tokens are added as they are issued.)
 */
export function configSecrets(config: {
  JIRA_EMAIL?: string | undefined;
  JIRA_API_TOKEN?: string | undefined;
  JIRA_CLIENT_SECRET?: string | undefined;
  RUNBOT_WEBHOOK_SECRET?: string | undefined;
}): string[] {
  const basic =
    config.JIRA_EMAIL && config.JIRA_API_TOKEN
      ? Buffer.from(`${config.JIRA_EMAIL}:${config.JIRA_API_TOKEN}`).toString('base64')
      : undefined;
  return [config.JIRA_API_TOKEN, basic, config.JIRA_CLIENT_SECRET, config.RUNBOT_WEBHOOK_SECRET].filter(
    (secret): secret is string => secret !== undefined,
  );
}

/** Every form a secret may take in a log line: as is and JSON-escaped. */
function secretForms(secrets: (string | undefined)[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  // Longest first, so a secret containing another is masked whole.
  return [...forms].sort((a, b) => b.length - a.length);
}

const SECRET_FORMS = Symbol('runbot.secretForms');

/**
 * Masks more secret values from now on, in this logger and its children (they share the root's
 * list): e.g. the IPMI passwords, known only once the inventory names their variables.
 */
export function addSecrets(logger: Logger, secrets: (string | undefined)[]): void {
  const forms = (logger as unknown as { [SECRET_FORMS]?: string[] })[SECRET_FORMS];
  if (!forms) return;
  const all = new Set([...forms, ...secretForms(secrets)]);
  forms.splice(0, forms.length, ...[...all].sort((a, b) => b.length - a.length));
}

/** Stops masking values no longer in use (an OAuth access token two generations old), so the list stays short. */
export function forgetSecrets(logger: Logger, secrets: (string | undefined)[]): void {
  const forms = (logger as unknown as { [SECRET_FORMS]?: string[] })[SECRET_FORMS];
  if (!forms) return;
  const gone = new Set(secretForms(secrets));
  const kept = forms.filter((form) => !gone.has(form));
  forms.splice(0, forms.length, ...kept);
}

/** The values of the environment variables the inventory names as BMC passwords (`ipmi.password_env`,
 * `redfish.password_env`). */
export function inventorySecrets(
  inventory: {
    sites: Record<
      string,
      { ipmi?: 'none' | { password_env: string }; redfish?: 'none' | { password_env: string } }
    >;
  },
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  return Object.values(inventory.sites).flatMap((site) =>
    [site.ipmi, site.redfish].flatMap((access) =>
      access && access !== 'none' ? (env[access.password_env] ?? []) : [],
    ),
  );
}

function mask(line: string, forms: string[]): string {
  let masked = line;
  for (const form of forms) if (masked.includes(form)) masked = masked.split(form).join(REDACTED);
  return masked;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const forms = secretForms(options.secrets ?? []);
  const target = options.destination ?? pino.destination({ dest: 1, sync: true });
  // pino-pretty renders the line streamWrite already masked.
  const destination = options.pretty
    ? loadPretty()({
        destination: target,
        colorize: options.destination === undefined && process.stdout.isTTY === true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,service',
        sync: true,
      })
    : target;
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: 'runbot', pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      hooks: { streamWrite: (line) => (forms.length === 0 ? line : mask(line, forms)) },
    },
    destination,
  );
  // Children are created with Object.create(parent), so they see the root's list.
  Object.defineProperty(logger, SECRET_FORMS, { value: forms });
  return logger;
}

/** Pretty when asked, or (auto) when stdout is a terminal. */
export function wantsPretty(setting: boolean | 'auto'): boolean {
  return setting === 'auto' ? process.stdout.isTTY === true : setting;
}
