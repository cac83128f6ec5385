// Moving a ticket: where it can go now (GET issue?expand=transitions), the move with its comment and
// bookkeeping in one POST, one re-read after a 400/409 (a person's move wins), and in a service
// project a report that quotes commands posted first as its own internal comment
// (service-desk-report.ts).
import type { Bookkeeping, Ticket } from '../planner/ticket.js';
import { BOOKKEEPING_PROPERTY } from '../planner/ticket.js';
import { quotesCommands, type AdfDocument } from './adf.js';
import type { JiraCore } from './client.js';
import { commentRefIn } from './comment-ref.js';
import { ENDPOINT } from './endpoints.js';
import { JiraRequestError, orGone } from './errors.js';
import { offeredMoves, type OfferedMoves } from './issue-schema.js';
import type { JiraPort, TransitionOutcome } from './port.js';
import { postReport, withdrawReport, type ReportCalls } from './service-desk-report.js';

/** Where a move would go from: the ticket's status, its project's kind, the transition to take. */
interface MoveTarget {
  id: string | undefined;
  status: string;
  serviceDesk: boolean;
}

type Move = { from: string; to: string };
interface MoveOptions {
  comment?: AdfDocument | undefined;
  bookkeeping?: Bookkeeping;
  fields?: Record<string, unknown>;
}

export function createMoves(
  { call, client, writes, logger }: JiraCore,
  settings: {
    /** Service-project comments are internal: the report goes as its own comment (see above). */
    internalComments: boolean;
    /** The comment properties every comment of the bot carries (`sd.public.comment`). */
    commentProperties: { properties?: { key: string; value: unknown }[] };
    reportCalls: ReportCalls;
    /** What the read that returned this Ticket offered (issue-reads.ts), if the adapter made it. */
    offeredBy: (ticket: Ticket) => OfferedMoves | undefined;
  },
): Pick<JiraPort, 'transitionTo'> {
  const { internalComments, commentProperties, reportCalls, offeredBy } = settings;

  /**
   * Where the ticket is, whether its project is a service project, and the transition to `to` if the
   * ticket is still in `from`: one read.
   */
  async function transitionTarget(key: string, move: Move): Promise<MoveTarget> {
    const raw = await call(ENDPOINT.getIssue, key, () =>
      client.issues.getIssue({ issueIdOrKey: key, fields: ['status', 'project'], expand: 'transitions' }),
    );
    writes.remember(raw);
    const offered = offeredMoves(raw);
    if (!offered) {
      throw new JiraRequestError({
        endpoint: ENDPOINT.getIssue,
        status: 200,
        messages: ['the issue with its transitions did not have the expected shape'],
        issueKey: key,
        attempts: 1,
      });
    }
    return targetIn(offered, move);
  }

  /**
   * The target as the caller's own read of the ticket found it, when nothing ran since (`freshRead`):
   * no second read. Only when that read offered the move; otherwise Jira is asked again, as always.
   */
  function targetFromRead(key: string, move: Move, read: Ticket | undefined): MoveTarget | undefined {
    const offered = read && read.key === key ? offeredBy(read) : undefined;
    const target = offered && targetIn(offered, move);
    return target?.id === undefined ? undefined : target;
  }

  /** Deleted since the worker read it: nothing to move, like a human having moved it. */
  function transitionTargetOrGone(key: string, move: Move): Promise<MoveTarget | undefined> {
    return orGone(transitionTarget(key, move));
  }

  async function postTransition(key: string, id: string, options: MoveOptions): Promise<void> {
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

  /** The move, re-read once after a 400/409; on a refusal, where that re-read found the ticket. */
  async function moveWithRetry(
    key: string,
    move: Move,
    id: string,
    options: MoveOptions,
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

  function refused(key: string, move: Move): TransitionOutcome {
    logger.info({ ticket: key, ...move }, 'transition not offered, ticket moved on');
    return 'refused';
  }

  return {
    async transitionTo(key, move, options): Promise<TransitionOutcome> {
      const target =
        targetFromRead(key, move, options.freshRead) ?? (await transitionTargetOrGone(key, move));
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
  };
}

/** Where the ticket is, its project's kind, and the transition to `to` if it is still in `from`. */
function targetIn(offered: OfferedMoves, move: Move): MoveTarget {
  const { status, project } = offered.fields;
  const id =
    status.name === move.from
      ? offered.transitions.find((t) => t.to.name === move.to && t.isAvailable !== false)?.id
      : undefined;
  return { id, status: status.name, serviceDesk: project?.projectTypeKey === 'service_desk' };
}
