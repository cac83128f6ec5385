// pino JSON logs. Secrets (Jira token, passwords, private keys) are redacted wherever they appear
// as fields; messages are constant strings and details go in fields.
import pino, { type Logger } from 'pino';

export type { Logger };

const REDACTED_PATHS = [
  'JIRA_API_TOKEN',
  'apiToken',
  'password',
  'privateKey',
  'authorization',
  '*.JIRA_API_TOKEN',
  '*.apiToken',
  '*.password',
  '*.privateKey',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'runbot' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination,
  );
}
