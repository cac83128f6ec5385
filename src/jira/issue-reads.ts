// Reading issues into the planner's Tickets: the worker's consistent read (GET issue with its
// comments, the later pages of comments fetched), a search result's tickets, the newest comments for
// the service-desk report, and the problems mapping noticed, logged with the ticket key.
import type { z } from 'zod';
import { BOOKKEEPING_PROPERTY, type Ticket, type TicketComment } from '../planner/ticket.js';
import type { JiraCore } from './client.js';
import { ENDPOINT } from './endpoints.js';
import { JiraRequestError } from './errors.js';
import {
  PageOfCommentsSchema,
  commentsOf,
  fieldsFor,
  mapIssue,
  offeredMoves,
  type MappingProblem,
  type OfferedMoves,
} from './issue-schema.js';
import type { TicketShape } from './port.js';
import { RecentCommentsSchema, type PostedComment } from './service-desk-report.js';

/** Newest comments read to find the copies of a report just posted (they are the newest). */
const RECENT = 50;
/** Comments per page when the embedded first page was not all of them (Jira's own limit is 5000). */
const COMMENT_PAGE = 1000;
/** Issues whose project kind is remembered: far more than the jobs one process runs at a time. */
const KINDS_KEPT = 4096;

export function createIssueReads({ call, client, writes, logger }: JiraCore) {
  /** What each ticket's read offered (status, project type, transitions with their ids), by the very
   * Ticket object getTicket returned: a move made at once takes its transition from here (moves.ts). */
  const offers = new WeakMap<Ticket, OfferedMoves>();
  /** Whether each issue read lately is in a service project, by key, oldest first. A Map keeps its
   * insertion order, which is all the eviction this needs (no cache package for it). */
  const serviceDesk = new Map<string, boolean>();
  function noteKind(key: string, raw: unknown): void {
    const kind = (raw as { fields?: { project?: { projectTypeKey?: unknown } } } | undefined)?.fields?.project
      ?.projectTypeKey;
    if (typeof kind !== 'string') return;
    serviceDesk.delete(key);
    serviceDesk.set(key, kind === 'service_desk');
    if (serviceDesk.size > KINDS_KEPT) serviceDesk.delete(serviceDesk.keys().next().value as string);
  }

  /** The worker's read: fields, comments and the transitions with their screens' fields. */
  async function readIssue(key: string, shape: TicketShape): Promise<Ticket | undefined> {
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
    reportProblems(mapped.ticket.key, mapped.problems);
    const offered = offeredMoves(raw);
    if (offered) offers.set(mapped.ticket, offered);
    noteKind(key, raw);
    if (mapped.moreComments) {
      // Jira embeds only the first page of comments: the bot's own comment may be on a later one.
      const rest = await commentsFrom(key, mapped.moreComments.startAt);
      mapped.ticket.comments = [...(mapped.ticket.comments ?? []), ...rest];
    }
    return mapped.ticket;
  }

  /** A check round's light read: the shape's fields and the bookkeeping, no comments, no transitions. */
  async function readIssueFields(key: string, shape: TicketShape): Promise<Ticket | undefined> {
    const raw = await call(ENDPOINT.getIssue, key, () =>
      client.issues.getIssue({
        issueIdOrKey: key,
        fields: fieldsFor(shape),
        properties: [BOOKKEEPING_PROPERTY],
      }),
    );
    noteKind(key, raw);
    return toTicket(raw, shape, ENDPOINT.getIssue);
  }

  /** Every comment from `startAt` on, page by page (GET …/comment), until a page comes back short. */
  async function commentsFrom(key: string, startAt: number): Promise<TicketComment[]> {
    const comments: TicketComment[] = [];
    for (let at = startAt; ;) {
      const raw = await call(ENDPOINT.getComments, key, () =>
        client.issueComments.getComments({ issueIdOrKey: key, startAt: at, maxResults: COMMENT_PAGE }),
      );
      const page = commentPage(PageOfCommentsSchema, raw, key);
      comments.push(...commentsOf(page));
      at += page.comments.length;
      if (page.comments.length === 0 || at >= (page.total ?? at)) return comments;
    }
  }

  /** The newest comments first, one page (the copies of a report just posted are among them). */
  async function recentComments(key: string): Promise<PostedComment[]> {
    const raw = await call(ENDPOINT.getComments, key, () =>
      client.issueComments.getComments({ issueIdOrKey: key, orderBy: '-created', maxResults: RECENT }),
    );
    return commentPage(RecentCommentsSchema, raw, key).comments;
  }

  /** One issue of a search page as a Ticket; undefined (logged) when it cannot be read. */
  function toTicket(raw: unknown, shape: TicketShape, endpoint: string): Ticket | undefined {
    writes.remember(raw);
    const mapped = mapIssue(raw, shape);
    if (!mapped.ok) return unreadable(raw, endpoint, mapped.reason);
    reportProblems(mapped.ticket.key, mapped.problems);
    return mapped.ticket;
  }

  function unreadable(raw: unknown, endpoint: string, reason: string): undefined {
    const key = typeof raw === 'object' && raw !== null && 'key' in raw ? String(raw.key) : undefined;
    logger.warn({ endpoint, ticket: key, reason }, 'jira issue not readable, skipped');
    return undefined;
  }

  function reportProblems(ticket: string, problems: MappingProblem[]): void {
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

  return {
    readIssue,
    readIssueFields,
    recentComments,
    toTicket,
    reportProblems,
    offeredBy: (ticket: Ticket) => offers.get(ticket),
    serviceDeskHint: (key: string) => serviceDesk.get(key),
  };
}

/** A page of `GET …/comment` as `schema` reads it, or the error every comment read throws. */
function commentPage<S extends z.ZodType>(schema: S, raw: unknown, key: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new JiraRequestError({
    endpoint: ENDPOINT.getComments,
    status: 200,
    messages: ['the page of comments did not have the expected shape'],
    issueKey: key,
    attempts: 1,
  });
}
