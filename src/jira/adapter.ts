// The JiraPort over jira.js 6 (Jira Cloud, REST v3), put together from its parts: every call goes
// through one wrapper (call.ts: concurrency cap, rate-limit gate, backoff, counting, JiraRequestError),
// reads map issues into Tickets (issue-reads.ts), moves find and take transitions (moves.ts), and the
// writes (comments, the bookkeeping property, field edits) are here.
import type { Logger } from '../logger.js';
import type { Bookkeeping } from '../planner/ticket.js';
import { BOOKKEEPING_PROPERTY } from '../planner/ticket.js';
import type { AdfDocument } from './adf.js';
import type { JiraCredentials } from './auth.js';
import type { Random, Sleep } from './backoff.js';
import { DEFAULT_BACKOFF, realSleep, retryDelayMs } from './backoff.js';
import { createCaller, type CallCount } from './call.js';
import { basicCredentials, createClient, type JiraCore } from './client.js';
import { ENDPOINT } from './endpoints.js';
import { JiraRequestError, orGone } from './errors.js';
import { fieldNameCache } from './field-names.js';
import { createIssueReads } from './issue-reads.js';
import { bookkeepingOf, fieldsFor, type MappingProblem } from './issue-schema.js';
import { createMoves } from './moves.js';
import type { JiraPort, SearchPage, TicketShape } from './port.js';
import { createRateGate, type RateGate } from './rate-limit.js';
import { createRecentWrites } from './recent-writes.js';
import type { ReportCalls } from './service-desk-report.js';
import { siteReads, type SiteReads } from './site-reads.js';

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

export type { CallCount };

export type JiraAdapter = JiraPort &
  SiteReads & {
    calls(): CallCount[];
    /** A ticket known to have changed (a verified webhook): reconciled into the next searches by id. */
    noteChanged(issueId: number): void;
  };

export { JiraRequestError };

const PAGE_SIZE = 100;
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
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const gate =
    options.gate ??
    createRateGate({ now: options.now ?? Date.now, sleep, maxWaitMs: policy.maxRetryAfterMs });
  const caller = createCaller({
    logger,
    credentials,
    policy,
    sleep,
    random,
    gate,
    concurrency: options.concurrency ?? 4,
  });
  const { call } = caller;
  const core: JiraCore = { client, call, writes, logger };
  const names = fieldNameCache(
    () => call(ENDPOINT.getFields, undefined, () => client.issueFields.getFields()),
    logger,
  );
  const issues = createIssueReads(core);

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
    recent: (key) => issues.recentComments(key),
    async remove(key, id) {
      await orGone(
        call(ENDPOINT.deleteComment, key, () =>
          client.issueComments.deleteComment({ issueIdOrKey: key, id }),
        ),
      );
      writes.wrote(key);
    },
  };
  const moves = createMoves(core, {
    internalComments,
    commentProperties,
    reportCalls,
    offeredBy: (ticket) => issues.offeredBy(ticket),
    serviceDeskHint: (key) => issues.serviceDeskHint(key),
  });

  return {
    async searchPage(jql: string, shape: TicketShape, nextPageToken?: string): Promise<SearchPage> {
      // Read-your-writes: the issues the bot changed lately are reconciled into the (lagging) search,
      // the same id list on every page of one walk, as the spec asks.
      const reconcileIssues = writes.reconcileList(nextPageToken);
      const page = await call(
        ENDPOINT.search,
        undefined,
        () =>
          client.issueSearch.searchAndReconsileIssuesUsingJql({
            jql,
            fields: fieldsFor(shape),
            properties: [BOOKKEEPING_PROPERTY],
            maxResults: PAGE_SIZE,
            ...(nextPageToken ? { nextPageToken } : {}),
            ...(reconcileIssues.length > 0 ? { reconcileIssues } : {}),
          }),
        { idempotent: true, first: true },
      );
      const tickets = (page.issues ?? []).flatMap(
        (issue) => issues.toTicket(issue, shape, ENDPOINT.search) ?? [],
      );
      // No total on this endpoint: isLast (or a missing token) ends the walk.
      const next = page.isLast === true ? undefined : (page.nextPageToken ?? undefined);
      if (next !== undefined) writes.continueWalk(next, reconcileIssues);
      return { tickets, nextPageToken: next };
    },

    getTicket: (key: string, shape: TicketShape) => orGone(issues.readIssue(key, shape)),

    getTicketFields: (key: string, shape: TicketShape) => orGone(issues.readIssueFields(key, shape)),

    transitionTo: moves.transitionTo,

    async addComment(key: string, body: AdfDocument, options?: { once?: boolean }): Promise<void> {
      await addComment(key, body, options);
    },

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
      const property = await orGone(
        call(ENDPOINT.getProperty, key, () =>
          client.issueProperties.getIssueProperty({ issueIdOrKey: key, propertyKey: BOOKKEEPING_PROPERTY }),
        ),
      );
      if (!property) return undefined;
      const problems: MappingProblem[] = [];
      const bookkeeping = bookkeepingOf(property.value, problems);
      issues.reportProblems(key, problems);
      return bookkeeping;
    },

    calls: () => caller.calls(),

    noteChanged(issueId: number): void {
      writes.changed(issueId);
    },

    // Read-only calls about the site (`runbot doctor`), through the same wrapper.
    ...reads,
  };

  /** Posts a comment; the created comment's id, when Jira's answer carried one. */
  async function addComment(
    key: string,
    body: AdfDocument,
    { once = false } = {},
  ): Promise<string | undefined> {
    // Always ADF: jira.js sends a string body to v2 as wiki markup.
    // Not repeated after a 5xx or a lost answer: the comment may have landed. The job fails, its
    // retry re-reads the ticket and finds the comment by its reference instead of posting it again.
    let created: { id?: unknown } | undefined;
    try {
      created = await call(
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
    return typeof created?.id === 'string' ? created.id : undefined;
  }
}
