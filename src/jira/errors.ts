// The one error a Jira call ends with when retrying cannot help: what was called, for which ticket,
// what Jira said (its errorMessages and field errors), and what a person can do about it.
import { classifyFailure } from './backoff.js';
import { z } from 'zod';

/** A Jira call that failed for good: a 4xx that retrying cannot fix, or retries ran out. */
export class JiraRequestError extends Error {
  readonly endpoint: string;
  /** HTTP status; undefined when no response came back (network failure). */
  readonly status: number | undefined;
  /** Jira's errorMessages and field errors (`field: message`), or the transport's reason. */
  readonly messages: string[];
  readonly issueKey: string | undefined;
  readonly attempts: number;
  /** What a person can do about it (on a 401, the variables of the auth mode in use). */
  readonly hint: string;

  constructor(fields: {
    endpoint: string;
    status: number | undefined;
    messages: string[];
    issueKey: string | undefined;
    attempts: number;
    cause?: unknown;
    /** What to check on a 401, for the auth mode in use (default: the basic-auth variables). */
    authHint?: string;
  }) {
    const what = `Jira ${fields.endpoint}${fields.issueKey ? ` for ${fields.issueKey}` : ''}`;
    const how = fields.status === undefined ? 'got no response' : `answered ${fields.status}`;
    const tries = fields.attempts > 1 ? ` after ${fields.attempts} attempts` : '';
    const said = fields.messages.length > 0 ? `: ${fields.messages.join('; ')}` : '';
    const hint = fields.status === 401 && fields.authHint ? fields.authHint : hintFor(fields.status);
    super(`${what} ${how}${tries}${said}. ${hint}`, { cause: fields.cause });
    this.name = 'JiraRequestError';
    this.endpoint = fields.endpoint;
    this.status = fields.status;
    this.messages = fields.messages;
    this.issueKey = fields.issueKey;
    this.attempts = fields.attempts;
    this.hint = hint;
  }
}

function hintFor(status: number | undefined): string {
  if (status === undefined) return 'Check JIRA_URL and that this machine can reach Jira.';
  if (status >= 300 && status < 400)
    return 'Jira moved this address and runbot follows no redirect; set JIRA_URL to the address it names.';
  if (status === 401) return 'Check JIRA_EMAIL and JIRA_API_TOKEN; the token may be expired or revoked.';
  if (status === 403)
    return "The bot's Jira account lacks a permission for this; grant it in the project's permission scheme.";
  if (status === 404) return "The issue does not exist, or the bot's Jira account cannot see it.";
  if (status === 429) return 'Jira kept rate limiting; lower the concurrency or poll less often.';
  if (status >= 500) return 'Jira is failing on its side; the next poll will try again.';
  return 'Jira rejected the request; fix what the messages name (often a field, screen or workflow setting).';
}

export function toRequestError(
  error: unknown,
  endpoint: string,
  issueKey: string | undefined,
  attempts: number,
  authHint?: string,
): unknown {
  const failure = classifyFailure(error);
  if (!failure) return error;
  if (failure.kind === 'network') {
    const reason = failure.code ?? (error instanceof Error ? error.message : 'network failure');
    return new JiraRequestError({
      endpoint,
      status: undefined,
      messages: [reason],
      issueKey,
      attempts,
      cause: error,
    });
  }
  const body = typeof error === 'object' && error !== null && 'body' in error ? error.body : undefined;
  return new JiraRequestError({
    endpoint,
    status: failure.status,
    messages: errorMessagesOf(body),
    issueKey,
    attempts,
    cause: error,
    ...(authHint ? { authHint } : {}),
  });
}

/** Jira's ErrorCollection: `{errorMessages: [...], errors: {field: message}}`. */
const ErrorCollectionSchema = z.looseObject({
  errorMessages: z.array(z.string()).optional(),
  errors: z.record(z.string(), z.string()).optional(),
});

/** Jira's own words from an error response body, field errors as `field: message`. */
export function errorMessagesOf(body: unknown): string[] {
  if (typeof body === 'string') return body.trim() === '' ? [] : [body.trim().slice(0, 500)];
  const parsed = ErrorCollectionSchema.safeParse(body);
  if (!parsed.success) return [];
  const fieldErrors = Object.entries(parsed.data.errors ?? {}).map(
    ([field, message]) => `${field}: ${message}`,
  );
  return [...(parsed.data.errorMessages ?? []), ...fieldErrors];
}

/** What Jira answers 404 to is gone (the issue, its property, a comment): undefined, not an error. */
export async function orGone<T>(answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer;
  } catch (error) {
    if (error instanceof JiraRequestError && error.status === 404) return undefined;
    throw error;
  }
}
