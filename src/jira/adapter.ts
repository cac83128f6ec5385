// The JiraPort over jira.js 6 (Jira Cloud, REST v3): every call goes through one wrapper that caps
// concurrency, retries 429/5xx/transient network failures with backoff, counts calls by endpoint and
// outcome, and turns what is left into a JiraRequestError a person can act on.
import { createCloudClient } from 'jira.js';
import type { Logger } from '../logger.js';
import type { Bookkeeping } from '../planner/ticket.js';
import { BOOKKEEPING_PROPERTY } from '../planner/ticket.js';
import { quotesCommands, type AdfDocument } from './adf.js';
import { createJiraCredentials, type JiraCredentials } from './auth.js';
import type { CallOutcome, Failure, Random, Sleep } from './backoff.js';
import {
  DEFAULT_BACKOFF,
  classifyFailure,
  createSemaphore,
  isRetryable,
  outcomeOf,
  realSleep,
  retryAfterOf,
  retryDelayMs,
  withBackoff,
  isSafeToRepeatUnseen,
} from './backoff.js';
import { JiraRequestError, toRequestError } from './errors.js';
import { createRateGate, RateLimitHeld, type GateCall, type RateGate } from './rate-limit.js';
import { createJiraTransport, responseNotes, type ResponseNotes } from './transport.js';
import {
  PageOfCommentsSchema,
  TransitionsSchema,
  bookkeepingOf,
  commentsOf,
  fieldsFor,
  mapIssue,
  type MappingProblem,
} from './issue-schema.js';
import type { TicketComment } from '../planner/ticket.js';
import { fieldNameCache } from './field-names.js';
import { createRecentWrites } from './recent-writes.js';
import { siteReads, type SiteReads } from './site-reads.js';
import { commentRefIn } from './comment-ref.js';
import { postReport, RecentCommentsSchema, withdrawReport, type ReportCalls } from './service-desk-report.js';
import type { JiraPort, SearchPage, TicketShape, TransitionOutcome } from './port.js';

export interface JiraAdapterOptions {
  /** REST base URL; its path is kept (the API gateway's `https://api.atlassian.com/ex/jira/{cloudId}`). */
  url: string;
  /** Basic auth, when no `credentials` are given. */
  email?: string;
  apiToken?: string;
  /** How to authenticate (basic, bearer, OAuth client credentials); see auth.ts. */
  credentials?: JiraCredentials;
  logger: Logger;
  sleep?: Sleep;
  random?: Random;
  /** Attempts per call, the first included (default 5). */
  maxAttempts?: number;
  /** Jira calls in flight at once (default 4). */
  concurrency?: number;
  /** Longest Retry-After honoured; a longer one is cut to this, with a warning (default 60 s). */
  maxRetryAfterMs?: number;
  /**
   * Marks the bot's comments internal (Jira Service Management's `sd.public.comment` comment property),
   * so customers on the portal do not see them; harmless in other projects (default true).
   */
  internalComments?: boolean;
  /** Clock for read-your-writes bookkeeping and rate-limit holds (default Date.now). */
  now?: () => number;
  /** Process-wide holds and pacing from Jira's rate-limit headers (default: one of its own). */
  gate?: RateGate;
}

export interface CallCount {
  /** Method and the spec's path template, e.g. `GET /rest/api/3/search/jql`. */
  endpoint: string;
  outcome: CallOutcome;
  count: number;
}

export type JiraAdapter = JiraPort &
  SiteReads & {
    calls(): CallCount[];
    /** A ticket known to have changed (a verified webhook): reconciled into the next searches by id. */
    noteChanged(issueId: number): void;
  };

export { JiraRequestError };

const ENDPOINT = {
  search: 'GET /rest/api/3/search/jql',
  getIssue: 'GET /rest/api/3/issue/{issueIdOrKey}',
  doTransition: 'POST /rest/api/3/issue/{issueIdOrKey}/transitions',
  addComment: 'POST /rest/api/3/issue/{issueIdOrKey}/comment',
  setProperty: 'PUT /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}',
  getProperty: 'GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}',
  editIssue: 'PUT /rest/api/3/issue/{issueIdOrKey}',
  getComments: 'GET /rest/api/3/issue/{issueIdOrKey}/comment',
  deleteComment: 'DELETE /rest/api/3/issue/{issueIdOrKey}/comment/{id}',
  getFields: 'GET /rest/api/3/field',
} as const;

/** Where a move would go from: the ticket's status, its project's kind, the transition to take. */
interface MoveTarget {
  id: string | undefined;
  status: string;
  serviceDesk: boolean;
}

const PAGE_SIZE = 100;
/** Newest comments read to find the copies of a report just posted (they are the newest). */
const RECENT = 50;
/** Comments per page when the embedded first page was not all of them (Jira's own limit is 5000). */
const COMMENT_PAGE = 1000;
/** Jira Service Management reads this comment property: `{internal: true}` hides a comment from customers. */
const INTERNAL_COMMENT_PROPERTY = 'sd.public.comment';
/** Jira answers 403 to a comment in a service project from an account without an agent seat. */
const AGENT_SEAT_HINT =
  "in a Jira Service Management project only agents may add internal comments: give the bot's account an agent seat (Jira Service Management licence) and the Service Desk Team role in this project";

export function createJiraAdapter(options: JiraAdapterOptions): JiraAdapter {
  const logger = options.logger.child({ component: 'jira' });
  const credentials = options.credentials ?? basicCredentials(options);
  const client = createClient(options, credentials);
  const policy = {
    ...DEFAULT_BACKOFF,
    maxAttempts: options.maxAttempts ?? DEFAULT_BACKOFF.maxAttempts,
    maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_BACKOFF.maxRetryAfterMs,
  };
  const internalComments = options.internalComments ?? true;
  const commentProperties = internalComments
    ? { properties: [{ key: INTERNAL_COMMENT_PROPERTY, value: { internal: true } }] }
    : {};
  const writes = createRecentWrites(options.now ?? Date.now);
  const semaphore = createSemaphore(options.concurrency ?? 4);
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const counts = new Map<string, CallCount>();
  const gate =
    options.gate ??
    createRateGate({ now: options.now ?? Date.now, sleep, maxWaitMs: policy.maxRetryAfterMs });
  const names = fieldNameCache(
    () => call(ENDPOINT.getFields, undefined, () => client.issueFields.getFields()),
    logger,
  );

  function count(endpoint: string, outcome: CallOutcome): void {
    const id = `${endpoint} ${outcome}`;
    const entry = counts.get(id) ?? { endpoint, outcome, count: 0 };
    entry.count += 1;
    counts.set(id, entry);
  }

  async function call<T>(
    endpoint: string,
    issueKey: string | undefined,
    send: () => Promise<T>,
    options: { idempotent: boolean; once?: boolean } = { idempotent: true },
  ): Promise<T> {
    let attempts = 0;
    const gateCall: GateCall = { endpoint, issueKey, write: !endpoint.startsWith('GET ') };
    // The end of the hold this call's own 429 set: its retry waited that out already.
    let waitedUntil: number | undefined;
    const attempt = async () => {
      // Held calls wait outside the semaphore: a slot goes to a call that may run now.
      await gate.pass(gateCall, waitedUntil);
      return semaphore.run(async () => {
        attempts += 1;
        const notes: ResponseNotes = {};
        try {
          const result = await responseNotes.run(notes, send);
          count(endpoint, 'ok');
          return result;
        } catch (error) {
          const failure = classifyFailure(error);
          if (failure) count(endpoint, outcomeOf(failure));
          throw error;
        } finally {
          const wasPacing = gate.pacing(endpoint);
          const held = gate.observe(gateCall, notes.signal);
          if (held) waitedUntil = held.until;
          // Info when something changes (a hold, pacing begins); while pacing goes on, debug.
          const news =
            held !== undefined ||
            notes.signal?.reason !== undefined ||
            (notes.signal?.nearLimit && !wasPacing);
          if (notes.signal && (news || notes.signal.nearLimit))
            logger[news ? 'info' : 'debug'](
              { endpoint, ticket: issueKey, ...notes.signal, holds: held?.key },
              'jira rate-limit headers',
            );
        }
      });
    };
    const onRetry = (failure: Failure, failedAttempts: number, delayMs: number) => {
      logger.warn(
        { endpoint, ticket: issueKey, ...describeFailure(failure), attempt: failedAttempts, delayMs },
        'jira call failed, retrying',
      );
    };
    const base = options.once ? () => false : options.idempotent ? isRetryable : isSafeToRepeatUnseen;
    // Never before Retry-After: a wait longer than the cap is not cut short, the call fails instead
    // and the gate keeps every caller off that endpoint until then.
    const retryable = (failure: Failure) => {
      const retryAfterMs = retryAfterOf(failure) ?? 0;
      if (retryAfterMs <= policy.maxRetryAfterMs) return base(failure);
      logger.warn(
        { endpoint, ticket: issueKey, retryAfterMs, capMs: policy.maxRetryAfterMs },
        'jira Retry-After longer than the cap, not retrying before it',
      );
      return false;
    };
    try {
      return await withBackoff(attempt, { policy, sleep, random, onRetry, retryable });
    } catch (error) {
      if (error instanceof RateLimitHeld) {
        throw new JiraRequestError({
          endpoint,
          status: 429,
          messages: [error.message],
          issueKey,
          attempts,
          cause: error,
        });
      }
      throw toRequestError(error, endpoint, issueKey, attempts, credentials.hint);
    }
  }

  async function readIssue(key: string, shape: TicketShape) {
    // The transitions with their screens' fields ride along, so the planner can refuse a move that
    // Jira would refuse (a required field without a value) before any step runs.
    const raw = await call(ENDPOINT.getIssue, key, () =>
      client.issues.getIssue({
        issueIdOrKey: key,
        fields: [...fieldsFor(shape), 'comment'],
        properties: [BOOKKEEPING_PROPERTY],
        expand: 'transitions.fields',
      }),
    );
    writes.remember(raw);
    const mapped = mapIssue(raw, shape);
    if (!mapped.ok) return unreadable(raw, ENDPOINT.getIssue, mapped.reason);
    report(mapped.ticket.key, mapped.problems);
    if (mapped.moreComments) {
      // Jira embeds only the first page of comments: the bot's own comment may be on a later one.
      const rest = await commentsFrom(key, mapped.moreComments.startAt);
      mapped.ticket.comments = [...(mapped.ticket.comments ?? []), ...rest];
    }
    return mapped.ticket;
  }

  /** Every comment from `startAt` on, page by page (GET …/comment), until a page comes back short. */
  async function commentsFrom(key: string, startAt: number): Promise<TicketComment[]> {
    const comments: TicketComment[] = [];
    for (let at = startAt; ;) {
      const raw = await call(ENDPOINT.getComments, key, () =>
        client.issueComments.getComments({ issueIdOrKey: key, startAt: at, maxResults: COMMENT_PAGE }),
      );
      const page = PageOfCommentsSchema.safeParse(raw);
      if (!page.success) {
        throw new JiraRequestError({
          endpoint: ENDPOINT.getComments,
          status: 200,
          messages: ['the page of comments did not have the expected shape'],
          issueKey: key,
          attempts: 1,
        });
      }
      comments.push(...commentsOf(page.data));
      at += page.data.comments.length;
      if (page.data.comments.length === 0 || at >= (page.data.total ?? at)) return comments;
    }
  }

  function toTicket(raw: unknown, shape: TicketShape, endpoint: string) {
    writes.remember(raw);
    const mapped = mapIssue(raw, shape);
    if (!mapped.ok) return unreadable(raw, endpoint, mapped.reason);
    report(mapped.ticket.key, mapped.problems);
    return mapped.ticket;
  }

  function unreadable(raw: unknown, endpoint: string, reason: string): undefined {
    const key = typeof raw === 'object' && raw !== null && 'key' in raw ? String(raw.key) : undefined;
    logger.warn({ endpoint, ticket: key, reason }, 'jira issue not readable, skipped');
    return undefined;
  }

  function report(ticket: string, problems: MappingProblem[]): void {
    for (const problem of problems) {
      if (problem.kind === 'invalidBookkeeping') {
        logger.warn({ ticket, issues: problem.issues }, 'bookkeeping property invalid, ignored');
      } else if (problem.kind === 'malformedLink') {
        logger.warn(
          { ticket, index: problem.index, issues: problem.issues },
          'issue link malformed, ignored',
        );
      } else if (problem.kind === 'malformedTransition') {
        logger.warn(
          { ticket, index: problem.index, issues: problem.issues },
          'transition malformed, ignored',
        );
      } else {
        // A workflow pointing an input at a non-text field is a configuration mistake, not an outage.
        logger.info({ ticket, ...problem }, 'input field is not text-like, left empty');
      }
    }
  }

  /**
   * Where the ticket is, whether its project is a service project, and the transition to `to` if the
   * ticket is still in `from`: one read.
   */
  async function transitionTarget(key: string, move: { from: string; to: string }): Promise<MoveTarget> {
    const raw = await call(ENDPOINT.getIssue, key, () =>
      client.issues.getIssue({ issueIdOrKey: key, fields: ['status', 'project'], expand: 'transitions' }),
    );
    writes.remember(raw);
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
    const { status, project } = parsed.data.fields;
    const id =
      status.name === move.from
        ? parsed.data.transitions.find((t) => t.to.name === move.to && t.isAvailable !== false)?.id
        : undefined;
    return { id, status: status.name, serviceDesk: project?.projectTypeKey === 'service_desk' };
  }

  async function postTransition(
    key: string,
    id: string,
    options: {
      comment?: AdfDocument | undefined;
      bookkeeping?: Bookkeeping;
      fields?: Record<string, unknown>;
    },
  ): Promise<void> {
    await call(ENDPOINT.doTransition, key, () =>
      client.issues.doTransition({
        issueIdOrKey: key,
        transition: { id },
        // The values the transition's screen asks for (the workflow's `transitions`), e.g. resolution.
        ...(options.fields && Object.keys(options.fields).length > 0 ? { fields: options.fields } : {}),
        // One call, so the move and its explanation land together or not at all. Comment properties
        // are not documented here: a service project's report that quotes commands or their output
        // is posted on its own instead (transitionTo); a plain note keeps the property, best effort.
        ...(options.comment
          ? { update: { comment: [{ add: { body: options.comment, ...commentProperties } }] } }
          : {}),
        ...(options.bookkeeping
          ? { properties: [{ key: BOOKKEEPING_PROPERTY, value: options.bookkeeping }] }
          : {}),
      }),
    );
    writes.wrote(key);
  }

  /** What postReport needs, through the same wrapper as every other call. */
  const reads = siteReads(client, (endpoint, issueKey, send) => call(endpoint, issueKey, send));
  let me: Promise<string> | undefined;
  const reportCalls: ReportCalls = {
    me() {
      me ??= reads.myself().then(
        (user) => user.accountId,
        (error: unknown) => {
          me = undefined; // asked again next time
          throw error;
        },
      );
      return me;
    },
    post: (key, body) => addComment(key, body),
    attempts: policy.maxAttempts,
    // As after any 5xx: capped exponential backoff with full jitter.
    pause: (failedAttempts) =>
      sleep(retryDelayMs({ kind: 'server', status: 500 }, failedAttempts, policy, random)),
    async recent(key) {
      const page = await call(ENDPOINT.getComments, key, () =>
        client.issueComments.getComments({ issueIdOrKey: key, orderBy: '-created', maxResults: RECENT }),
      );
      const parsed = RecentCommentsSchema.safeParse(page);
      if (parsed.success) return parsed.data.comments;
      throw new JiraRequestError({
        endpoint: ENDPOINT.getComments,
        status: 200,
        messages: ['the page of comments did not have the expected shape'],
        issueKey: key,
        attempts: 1,
      });
    },
    async remove(key, id) {
      try {
        await call(ENDPOINT.deleteComment, key, () =>
          client.issueComments.deleteComment({ issueIdOrKey: key, id }),
        );
      } catch (error) {
        if (!(error instanceof JiraRequestError) || error.status !== 404) throw error;
      }
      writes.wrote(key);
    },
  };

  return {
    async searchPage(jql: string, shape: TicketShape, nextPageToken?: string): Promise<SearchPage> {
      // Read-your-writes: the issues the bot changed lately are reconciled into the (lagging) search,
      // the same id list on every page of one walk, as the spec asks.
      const reconcileIssues = writes.reconcileList(nextPageToken);
      const page = await call(ENDPOINT.search, undefined, () =>
        client.issueSearch.searchAndReconsileIssuesUsingJql({
          jql,
          fields: fieldsFor(shape),
          properties: [BOOKKEEPING_PROPERTY],
          maxResults: PAGE_SIZE,
          ...(nextPageToken ? { nextPageToken } : {}),
          ...(reconcileIssues.length > 0 ? { reconcileIssues } : {}),
        }),
      );
      const tickets = (page.issues ?? []).flatMap((issue) => toTicket(issue, shape, ENDPOINT.search) ?? []);
      // No total on this endpoint: isLast (or a missing token) ends the walk.
      const next = page.isLast === true ? undefined : (page.nextPageToken ?? undefined);
      if (next !== undefined) writes.continueWalk(next, reconcileIssues);
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
      const target = await transitionTargetOrGone(key, move);
      if (target?.id === undefined) return refused(key, move);
      const report = options.comment;
      const ref = report && commentRefIn(report);
      const ownComment = target.serviceDesk && internalComments && report && quotesCommands(report);
      if (!ownComment || !ref) return (await moveWithRetry(key, move, target.id, options)).outcome;
      // A service project, and the report quotes commands or their output: it goes first, as its own
      // internal comment (service-desk-report.ts).
      await postReport(reportCalls, key, report, ref);
      const moved = await moveWithRetry(key, move, target.id, { ...options, comment: undefined });
      // Refused, and the ticket is elsewhere (not deleted): a person moved it, so take the report back.
      if (moved.outcome === 'refused' && moved.now && moved.now.status !== move.to) {
        await withdrawReport(reportCalls, key, ref);
      }
      return moved.outcome;
    },

    addComment,

    async setBookkeeping(key: string, value: Bookkeeping): Promise<void> {
      await call(ENDPOINT.setProperty, key, () =>
        client.issueProperties.setIssueProperty({
          issueIdOrKey: key,
          propertyKey: BOOKKEEPING_PROPERTY,
          body: value,
        }),
      );
      writes.wrote(key);
    },

    async editFields(key: string, fields: { assignee?: string; dueDate?: string }): Promise<void> {
      // notifyUsers stays at Jira's default: the assignee hears of it, as with a person's edit.
      await call(ENDPOINT.editIssue, key, () =>
        client.issues.editIssue({
          issueIdOrKey: key,
          fields: {
            ...(fields.assignee !== undefined ? { assignee: { accountId: fields.assignee } } : {}),
            ...(fields.dueDate !== undefined ? { duedate: fields.dueDate } : {}),
          },
        }),
      );
      writes.wrote(key);
    },
    fieldNames: () => names.get(),

    async getBookkeeping(key: string): Promise<Bookkeeping | undefined> {
      let property: { value?: unknown };
      try {
        property = await call(ENDPOINT.getProperty, key, () =>
          client.issueProperties.getIssueProperty({ issueIdOrKey: key, propertyKey: BOOKKEEPING_PROPERTY }),
        );
      } catch (error) {
        if (error instanceof JiraRequestError && error.status === 404) return undefined;
        throw error;
      }
      const problems: MappingProblem[] = [];
      const bookkeeping = bookkeepingOf(property.value, problems);
      report(key, problems);
      return bookkeeping;
    },

    calls(): CallCount[] {
      return [...counts.values()].map((entry) => ({ ...entry }));
    },

    noteChanged(issueId: number): void {
      writes.changed(issueId);
    },

    // Read-only calls about the site (`runbot doctor`), through the same wrapper.
    ...reads,
  };

  async function addComment(key: string, body: AdfDocument, { once = false } = {}): Promise<void> {
    // Always ADF: jira.js sends a string body to v2 as wiki markup.
    // Not repeated after a 5xx or a lost answer: the comment may have landed. The job fails, its
    // retry re-reads the ticket and finds the comment by its reference instead of posting it again.
    try {
      await call(
        ENDPOINT.addComment,
        key,
        () => client.issueComments.addComment({ issueIdOrKey: key, body: { ...body }, ...commentProperties }),
        { idempotent: false, once },
      );
    } catch (error) {
      if (!(error instanceof JiraRequestError) || error.status !== 403) throw error;
      logger.warn(
        { ticket: key, messages: error.messages },
        'jira refused the comment: the bot account needs an agent seat',
      );
      throw new JiraRequestError({
        endpoint: error.endpoint,
        status: 403,
        messages: [...error.messages, AGENT_SEAT_HINT],
        issueKey: key,
        attempts: error.attempts,
        cause: error,
      });
    }
    writes.wrote(key);
  }

  async function transitionTargetOrGone(
    key: string,
    move: { from: string; to: string },
  ): Promise<MoveTarget | undefined> {
    try {
      return await transitionTarget(key, move);
    } catch (error) {
      // Deleted since the worker read it: nothing to move, like a human having moved it.
      if (error instanceof JiraRequestError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The move, re-read once after a 400/409; on a refusal, where that re-read found the ticket. */
  async function moveWithRetry(
    key: string,
    move: { from: string; to: string },
    id: string,
    options: Parameters<typeof postTransition>[2],
  ): Promise<{ outcome: TransitionOutcome; now?: MoveTarget | undefined }> {
    try {
      await postTransition(key, id, options);
      return { outcome: 'transitioned' };
    } catch (error) {
      if (!(error instanceof JiraRequestError) || (error.status !== 400 && error.status !== 409)) throw error;
      // The ticket may have moved between the two calls: ask again, once.
      const now = await transitionTargetOrGone(key, move);
      if (now?.id === undefined) return { outcome: refused(key, move), now };
      if (now.id === id) throw error; // still offered, so Jira refused for another reason: report it
      await postTransition(key, now.id, options);
      return { outcome: 'transitioned' };
    }
  }

  function refused(key: string, move: { from: string; to: string }): TransitionOutcome {
    logger.info({ ticket: key, ...move }, 'transition not offered, ticket moved on');
    return 'refused';
  }
}

/** jira.js builds the requests; our transport sends them (it keeps the rate-limit headers: transport.ts). */
function createClient(options: JiraAdapterOptions, credentials: JiraCredentials) {
  let base: URL;
  try {
    base = new URL(options.url);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw new Error('Jira client settings rejected (host: expected an http(s) URL). Check JIRA_URL.');
  }
  return createCloudClient(
    createJiraTransport({
      baseUrl: base.toString(),
      credentials,
      ...(options.now ? { now: options.now } : {}),
    }),
  );
}

function basicCredentials(options: JiraAdapterOptions): JiraCredentials {
  const missing = [
    options.email && /^[^@\s]+@[^@\s]+$/.test(options.email) ? [] : ['auth.email: expected an email address'],
    options.apiToken ? [] : ['auth.apiToken: required'],
  ].flat();
  if (missing.length > 0)
    throw new Error(
      `Jira client settings rejected (${missing.join('; ')}). Check JIRA_URL and JIRA_EMAIL (and JIRA_API_TOKEN).`,
    );
  return createJiraCredentials({
    mode: 'basic',
    email: options.email ?? '',
    apiToken: options.apiToken ?? '',
  });
}

function describeFailure(failure: Failure): Record<string, unknown> {
  return failure.kind === 'network' ? { code: failure.code } : { status: failure.status };
}
