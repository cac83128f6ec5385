// pino JSON logs, or pino-pretty for a person at a terminal. Secrets are kept out twice: fields with
// secret names are redacted by one walk of each line's first levels (ours rather than pino's `redact`
// option: its 47 wildcard paths cost 2.6 % of the service's CPU in the batch benchmark), and the
// secret values themselves (the Jira token and the Basic credentials built from it, an IPMI
// password, a private key) are masked in every line written, wherever a library put them (an
// error's cause, a request's headers, a message).
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
const SECRET_NAMES = new Set(SECRET_FIELDS);
/** Header names redacted one level deeper than the rest, under a `headers` key (`*.*.headers.authorization`). */
const HEADER_SECRETS = new Set(['authorization', 'Authorization']);
/** Secret-named fields are redacted at the first three levels of a line (`name`, `*.name`, `*.*.name`). */
const REDACT_DEPTH = 3;
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

/**
 * The value with every secret-named field at the first three levels (and `headers.authorization` one
 * deeper) replaced by REDACTED; arrays count as a level, as their indices do in a path. Copies only
 * what it changes: a line without secret fields (nearly all) is walked, not copied. An Error that
 * holds a secret field is copied as an Error of its class (errorCopy), so it is still written as one.
 */
function redactSecrets<T>(value: T, depth = 1, parentKey = ''): T {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  if (depth > REDACT_DEPTH && parentKey !== 'headers') return value;
  let copy: Record<string, unknown> | unknown[] | undefined;
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    const inner = source[key];
    const secret =
      depth <= REDACT_DEPTH ? SECRET_NAMES.has(key) : parentKey === 'headers' && HEADER_SECRETS.has(key);
    const next = secret ? REDACTED : depth <= REDACT_DEPTH ? redactSecrets(inner, depth + 1, key) : inner;
    if (next === inner) continue;
    copy ??= Array.isArray(value)
      ? [...(value as unknown[])]
      : value instanceof Error
        ? errorCopy(value)
        : { ...source };
    (copy as Record<string, unknown>)[key] = next;
  }
  return (copy ?? value) as T;
}

/** The same class, message, cause and own fields (pino's `err` serializer still sees an Error); V8's
 * `stack` is an accessor bound to the original, so its text is copied. */
function errorCopy(error: Error): Record<string, unknown> {
  const copy = Object.create(
    Object.getPrototypeOf(error) as object,
    Object.getOwnPropertyDescriptors(error),
  ) as Error;
  Object.defineProperty(copy, 'stack', { value: error.stack, writable: true, configurable: true });
  return copy as unknown as Record<string, unknown>;
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
      // Secret-named fields, in each line's fields and in a child's bindings. Not pino's `redact`
      // (path lists for @pinojs/redact): its 47 paths were parsed and walked for every field of
      // every line, ~2.7 % of the service's CPU in the batch benchmark.
      formatters: { log: (object) => redactSecrets(object) },
      hooks: { streamWrite: (line) => (forms.length === 0 ? line : mask(line, forms)) },
    },
    destination,
  );
  // Children are created with Object.create(parent), so they see the root's list, and the root's
  // `child`, which redacts a child's bindings (pino's bindings formatter applies to the root's only).
  Object.defineProperty(logger, SECRET_FORMS, { value: forms });
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with each child as `this`
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactSecrets(bindings), options);
  } as Logger['child'];
  return logger;
}

/** Pretty when asked, or (auto) when stdout is a terminal. */
export function wantsPretty(setting: boolean | 'auto'): boolean {
  return setting === 'auto' ? process.stdout.isTTY === true : setting;
}
