// The JiraPort over jira.js 6 (Jira Cloud, REST v3): every call goes through one wrapper that caps
// concurrency, retries 429/5xx/transient network failures with backoff, counts calls by endpoint and
// outcome, and turns what is left into a JiraRequestError a person can act on.
import { createCloudClient } from 'jira.js';
import type { SchemaMismatchReport } from 'jira.js';
import type { Logger } from '../logger.js';
import type { Bookkeeping } from '../planner/ticket.js';
import { BOOKKEEPING_PROPERTY } from '../planner/ticket.js';
import type { AdfDocument } from './adf.js';
import type { CallOutcome, Failure, Random, Sleep } from './backoff.js';
import {
  DEFAULT_BACKOFF,
  classifyFailure,
  createSemaphore,
  outcomeOf,
  realSleep,
  withBackoff,
} from './backoff.js';
import { TransitionsSchema, errorMessagesOf, fieldsFor, mapIssue } from './issue-schema.js';
import type { JiraPort, SearchPage, TicketShape, TransitionOutcome } from './port.js';

export interface JiraAdapterOptions {
  url: string;
  email: string;
  apiToken: string;
  logger: Logger;
  sleep?: Sleep;
  random?: Random;
  /** Attempts per call, the first included (default 5). */
  maxAttempts?: number;
  /** Jira calls in flight at once (default 4). */
  concurrency?: number;
}

export interface CallCount {
  /** Method and the spec's path template, e.g. `GET /rest/api/3/search/jql`. */
  endpoint: string;
  outcome: CallOutcome;
  count: number;
}

export type JiraAdapter = JiraPort & { calls(): CallCount[] };

/** A Jira call that failed for good: a 4xx that retrying cannot fix, or retries ran out. */
export class JiraRequestError extends Error {
  readonly endpoint: string;
  /** HTTP status; undefined when no response came back (network failure). */
  readonly status: number | undefined;
  /** Jira's errorMessages and field errors (`field: message`), or the transport's reason. */
  readonly messages: string[];
  readonly issueKey: string | undefined;
  readonly attempts: number;

  constructor(fields: {
    endpoint: string;
    status: number | undefined;
    messages: string[];
    issueKey: string | undefined;
    attempts: number;
    cause?: unknown;
  }) {
    const what = `Jira ${fields.endpoint}${fields.issueKey ? ` for ${fields.issueKey}` : ''}`;
    const how = fields.status === undefined ? 'got no response' : `answered ${fields.status}`;
    const tries = fields.attempts > 1 ? ` after ${fields.attempts} attempts` : '';
    const said = fields.messages.length > 0 ? `: ${fields.messages.join('; ')}` : '';
    super(`${what} ${how}${tries}${said}. ${hintFor(fields.status)}`, { cause: fields.cause });
    this.name = 'JiraRequestError';
    this.endpoint = fields.endpoint;
    this.status = fields.status;
    this.messages = fields.messages;
    this.issueKey = fields.issueKey;
    this.attempts = fields.attempts;
  }
}

function hintFor(status: number | undefined): string {
  if (status === undefined) return 'Check JIRA_URL and that this machine can reach Jira.';
  if (status === 401) return 'Check JIRA_EMAIL and JIRA_API_TOKEN; the token may be expired or revoked.';
  if (status === 403)
    return "The bot's Jira account lacks a permission for this; grant it in the project's permission scheme.";
  if (status === 404) return "The issue does not exist, or the bot's Jira account cannot see it.";
  if (status === 429) return 'Jira kept rate limiting; lower the concurrency or poll less often.';
  if (status >= 500) return 'Jira is failing on its side; the next poll will try again.';
  return 'Jira rejected the request; fix what the messages name (often a field, screen or workflow setting).';
}

const ENDPOINT = {
  search: 'GET /rest/api/3/search/jql',
  getIssue: 'GET /rest/api/3/issue/{issueIdOrKey}',
  doTransition: 'POST /rest/api/3/issue/{issueIdOrKey}/transitions',
  addComment: 'POST /rest/api/3/issue/{issueIdOrKey}/comment',
  setProperty: 'PUT /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}',
} as const;

const PAGE_SIZE = 100;

export function createJiraAdapter(options: JiraAdapterOptions): JiraAdapter {
  const logger = options.logger.child({ component: 'jira' });
  const client = createClient(options, logger);
  const policy = { ...DEFAULT_BACKOFF, maxAttempts: options.maxAttempts ?? DEFAULT_BACKOFF.maxAttempts };
  const semaphore = createSemaphore(options.concurrency ?? 4);
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const counts = new Map<string, CallCount>();

  function count(endpoint: string, outcome: CallOutcome): void {
    const id = `${endpoint} ${outcome}`;
    const entry = counts.get(id) ?? { endpoint, outcome, count: 0 };
    entry.count += 1;
    counts.set(id, entry);
  }

  async function call<T>(endpoint: string, issueKey: string | undefined, send: () => Promise<T>): Promise<T> {
    let attempts = 0;
    const attempt = () =>
      semaphore.run(async () => {
        attempts += 1;
        try {
          const result = await send();
          count(endpoint, 'ok');
          return result;
        } catch (error) {
          const failure = classifyFailure(error);
          if (failure) count(endpoint, outcomeOf(failure));
          throw error;
        }
      });
    const onRetry = (failure: Failure, failedAttempts: number, delayMs: number) =>
      logger.warn(
        { endpoint, ticket: issueKey, ...describeFailure(failure), attempt: failedAttempts, delayMs },
        'jira call failed, retrying',
      );
    try {
      return await withBackoff(attempt, { policy, sleep, random, onRetry });
    } catch (error) {
      throw toRequestError(error, endpoint, issueKey, attempts);
    }
  }

  async function readIssue(key: string, shape: TicketShape) {
    const raw = await call(ENDPOINT.getIssue, key, () =>
      client.issues.getIssue({
        issueIdOrKey: key,
        fields: [...fieldsFor(shape), 'comment'],
        properties: [BOOKKEEPING_PROPERTY],
      }),
    );
    return toTicket(raw, shape, ENDPOINT.getIssue);
  }

  function toTicket(raw: unknown, shape: TicketShape, endpoint: string) {
    const mapped = mapIssue(raw, shape);
    const key = typeof raw === 'object' && raw !== null && 'key' in raw ? String(raw.key) : undefined;
    if (!mapped.ok) {
      logger.warn({ endpoint, ticket: key, reason: mapped.reason }, 'jira issue not readable, skipped');
      return undefined;
    }
    for (const problem of mapped.problems) {
      if (problem.kind === 'invalidBookkeeping') {
        logger.warn(
          { ticket: mapped.ticket.key, issues: problem.issues },
          'bookkeeping property invalid, ignored',
        );
      } else {
        // A workflow pointing an input at a non-text field is a configuration mistake, not an outage.
        logger.info({ ticket: mapped.ticket.key, ...problem }, 'input field is not text-like, left empty');
      }
    }
    return mapped.ticket;
  }

  /** The transition to `to`, if the ticket is still in `from`: status and transitions in one read. */
  async function transitionIdTo(
    key: string,
    move: { from: string; to: string },
  ): Promise<string | undefined> {
    const raw = await call(ENDPOINT.getIssue, key, () =>
      client.issues.getIssue({ issueIdOrKey: key, fields: ['status'], expand: 'transitions' }),
    );
    const parsed = TransitionsSchema.safeParse(raw);
    if (!parsed.success) {
      throw new JiraRequestError({
        endpoint: ENDPOINT.getIssue,
        status: 200,
        messages: ['the issue with its transitions did not have the expected shape'],
        issueKey: key,
        attempts: 1,
      });
    }
    if (parsed.data.fields.status.name !== move.from) return undefined;
    return parsed.data.transitions.find((t) => t.to.name === move.to && t.isAvailable !== false)?.id;
  }

  async function postTransition(
    key: string,
    id: string,
    options: { comment?: AdfDocument; bookkeeping?: Bookkeeping },
  ): Promise<void> {
    await call(ENDPOINT.doTransition, key, () =>
      client.issues.doTransition({
        issueIdOrKey: key,
        transition: { id },
        // One call, so the move and its explanation land together or not at all.
        ...(options.comment ? { update: { comment: [{ add: { body: options.comment } }] } } : {}),
        ...(options.bookkeeping
          ? { properties: [{ key: BOOKKEEPING_PROPERTY, value: options.bookkeeping }] }
          : {}),
      }),
    );
  }

  return {
    async searchPage(jql: string, shape: TicketShape, nextPageToken?: string): Promise<SearchPage> {
      const page = await call(ENDPOINT.search, undefined, () =>
        client.issueSearch.searchAndReconsileIssuesUsingJql({
          jql,
          fields: fieldsFor(shape),
          properties: [BOOKKEEPING_PROPERTY],
          maxResults: PAGE_SIZE,
          ...(nextPageToken ? { nextPageToken } : {}),
        }),
      );
      const tickets = (page.issues ?? []).flatMap((issue) => toTicket(issue, shape, ENDPOINT.search) ?? []);
      // No total on this endpoint: isLast (or a missing token) ends the walk.
      const next = page.isLast === true ? undefined : (page.nextPageToken ?? undefined);
      return { tickets, nextPageToken: next };
    },

    async getTicket(key: string, shape: TicketShape) {
      try {
        return await readIssue(key, shape);
      } catch (error) {
        if (error instanceof JiraRequestError && error.status === 404) return undefined;
        throw error;
      }
    },

    async transitionTo(key, move, options): Promise<TransitionOutcome> {
      const id = await transitionIdOrRefused(key, move);
      if (id === undefined) return refused(key, move);
      try {
        await postTransition(key, id, options);
        return 'transitioned';
      } catch (error) {
        if (!(error instanceof JiraRequestError) || (error.status !== 400 && error.status !== 409))
          throw error;
        // The ticket may have moved between the two calls: ask again, once.
        const fresh = await transitionIdOrRefused(key, move);
        if (fresh === undefined) return refused(key, move);
        if (fresh === id) throw error; // still offered, so Jira refused for another reason: report it
        await postTransition(key, fresh, options);
        return 'transitioned';
      }
    },

    async addComment(key: string, body: AdfDocument): Promise<void> {
      // Always ADF: jira.js sends a string body to v2 as wiki markup.
      await call(ENDPOINT.addComment, key, () =>
        client.issueComments.addComment({ issueIdOrKey: key, body: { ...body } }),
      );
    },

    async setBookkeeping(key: string, value: Bookkeeping): Promise<void> {
      await call(ENDPOINT.setProperty, key, () =>
        client.issueProperties.setIssueProperty({
          issueIdOrKey: key,
          propertyKey: BOOKKEEPING_PROPERTY,
          body: value,
        }),
      );
    },

    calls(): CallCount[] {
      return [...counts.values()].map((entry) => ({ ...entry }));
    },
  };

  async function transitionIdOrRefused(
    key: string,
    move: { from: string; to: string },
  ): Promise<string | undefined> {
    try {
      return await transitionIdTo(key, move);
    } catch (error) {
      // Deleted since the worker read it: nothing to move, like a human having moved it.
      if (error instanceof JiraRequestError && error.status === 404) return undefined;
      throw error;
    }
  }

  function refused(key: string, move: { from: string; to: string }): TransitionOutcome {
    logger.info({ ticket: key, ...move }, 'transition not offered, ticket moved on');
    return 'refused';
  }
}

/** jira.js validates its settings with zod; its issues name the setting, never the value. */
function createClient(options: JiraAdapterOptions, logger: Logger) {
  try {
    return createCloudClient({
      host: options.url,
      auth: { type: 'basic', email: options.email, apiToken: options.apiToken },
      // Ours is the only retry loop (backoff.ts); jira.js's would retry 502-504 again underneath it.
      retry: { maxAttempts: 1 },
      // jira.js's response schemas are stricter than Jira; we validate the slices we read ourselves.
      onSchemaMismatch: (report: SchemaMismatchReport) =>
        logger.debug({ endpoint: report.endpoint, issues: report.issues.length }, 'jira.js schema mismatch'),
    });
  } catch (error) {
    const issues = (error as { issues?: { path?: unknown[]; message?: string }[] }).issues;
    if (!Array.isArray(issues)) throw error;
    const problems = issues.map((issue) => `${(issue.path ?? []).join('.')}: ${issue.message ?? 'invalid'}`);
    throw new Error(`Jira client settings rejected (${problems.join('; ')}). Check JIRA_URL and JIRA_EMAIL.`);
  }
}

function describeFailure(failure: Failure): Record<string, unknown> {
  return failure.kind === 'network' ? { code: failure.code } : { status: failure.status };
}

function toRequestError(
  error: unknown,
  endpoint: string,
  issueKey: string | undefined,
  attempts: number,
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
  });
}
