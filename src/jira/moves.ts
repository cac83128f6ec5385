// Moving a ticket: where it can go now (GET issue?expand=transitions), the move with its comment and
// bookkeeping in one POST, one re-read after a 400/409 (a person's move wins), and in a service
// project a report that quotes commands posted first as its own internal comment
// (service-desk-report.ts). When the worker's read already said the project is a service project,
// the report is posted before that read, and the read brings the comments: it is the report's
// read-back too, so a step's move there costs three calls instead of four.
import type { Bookkeeping, Ticket } from '../planner/ticket.js';
import { BOOKKEEPING_PROPERTY, BookkeepingSchema } from '../planner/ticket.js';
import { quotesCommands, type AdfDocument } from './adf.js';
import type { JiraCore } from './client.js';
import { commentRefIn } from './comment-ref.js';
import { ENDPOINT } from './endpoints.js';
import { JiraRequestError, orGone } from './errors.js';
import { offeredMoves, type OfferedMoves } from './issue-schema.js';
import type { JiraPort, TransitionOutcome } from './port.js';
import {
  allCommentsIn,
  keepEarliest,
  mayHaveLanded,
  postOnce,
  postReport,
  settleLateReport,
  withdrawReport,
  type ReportCalls,
} from './service-desk-report.js';

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
    /** Whether the adapter's latest read of this issue found it in a service project, if it read it. */
    serviceDeskHint: (key: string) => boolean | undefined;
  },
): Pick<JiraPort, 'transitionTo'> {
  const { internalComments, commentProperties, reportCalls, offeredBy, serviceDeskHint } = settings;

  /**
   * Where the ticket is, whether its project is a service project, and the transition to `to` if the
   * ticket is still in `from`: one read.
   */
  async function transitionTarget(key: string, move: Move): Promise<MoveTarget> {
    return targetIn((await readMoves(key, ['status', 'project'])).offered, move);
  }

  /**
   * The same read made after the report was posted, with the ticket's comments and the bot's
   * bookkeeping: the move's read and the report's read-back in one call (`seen` is undefined when
   * Jira did not embed them all; `movedFrom`, the visit the bot's own last move left).
   */
  async function targetAfterReport(key: string, move: Move) {
    const { raw, offered } = await readMoves(key, ['status', 'project', 'comment'], [BOOKKEEPING_PROPERTY]);
    const seen = allCommentsIn(raw.fields?.comment);
    const stored = BookkeepingSchema.safeParse(raw.properties?.[BOOKKEEPING_PROPERTY]);
    return {
      target: targetIn(offered, move),
      seen,
      movedFrom: stored.success ? stored.data.from : undefined,
    };
  }

  async function readMoves(key: string, fields: string[], properties?: string[]) {
    const raw = await call(ENDPOINT.getIssue, key, () =>
      client.issues.getIssue({
        issueIdOrKey: key,
        fields,
        expand: 'transitions',
        ...(properties ? { properties } : {}),
      }),
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
    return { raw, offered };
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

  /** The move after its report is on the ticket; a refusal to elsewhere takes the report back. */
  async function moveAfterReport(
    key: string,
    move: Move,
    id: string,
    options: MoveOptions,
    ref: string,
  ): Promise<TransitionOutcome> {
    const moved = await moveWithRetry(key, move, id, { ...options, comment: undefined });
    // Refused, and the ticket is elsewhere (not deleted): a person moved it, so take the report back.
    if (moved.outcome === 'refused' && moved.now && moved.now.status !== move.to) {
      await withdrawReport(reportCalls, key, ref);
    }
    return moved.outcome;
  }

  /** A service project known from the worker's read: the report first, then the one read after it. */
  async function reportThenMove(
    key: string,
    move: Move,
    options: MoveOptions,
    report: AdfDocument,
    ref: string,
  ): Promise<TransitionOutcome> {
    let mine: string | undefined;
    try {
      mine = await postOnce(reportCalls, key, report, ref);
    } catch (error) {
      // Refused (a 4xx): Jira saved nothing. A ticket deleted, or moved to where comments are
      // closed, while the step ran is a person's doing: no report, as when the read comes first.
      if (!(error instanceof JiraRequestError) || mayHaveLanded(error)) throw error;
      const now = await transitionTargetOrGone(key, move);
      if (now?.id === undefined) return refused(key, move);
      throw error;
    }
    const read = await orGone(targetAfterReport(key, move));
    if (!read) return refused(key, move); // deleted, report and all
    const { target, seen, movedFrom } = read;
    if (target.id === undefined) {
      // It left `from` since the worker read it: by the bot's own move out of this visit (a twin of
      // this job, the visit's other check), which records the visit it left, or by a person.
      const visitLeft = options.bookkeeping?.from;
      const botMoved = visitLeft !== undefined && movedFrom === visitLeft;
      await settleLateReport(reportCalls, key, ref, { mine, botMoved, seen });
      return refused(key, move);
    }
    await keepEarliest(reportCalls, key, ref, seen);
    return moveAfterReport(key, move, target.id, options, ref);
  }

  return {
    async transitionTo(key, move, options): Promise<TransitionOutcome> {
      const report = options.comment;
      const ref = report && commentRefIn(report);
      // In a service project a report that quotes commands or their output goes first, as its own
      // internal comment (service-desk-report.ts).
      const ownComment =
        internalComments && report !== undefined && ref !== undefined && quotesCommands(report);
      const fromRead = targetFromRead(key, move, options.freshRead);
      if (ownComment && !fromRead && serviceDeskHint(key) === true) {
        return reportThenMove(key, move, options, report, ref);
      }
      const target = fromRead ?? (await transitionTargetOrGone(key, move));
      if (target?.id === undefined) return refused(key, move);
      if (!ownComment || !target.serviceDesk) {
        return (await moveWithRetry(key, move, target.id, options)).outcome;
      }
      await postReport(reportCalls, key, report, ref);
      return moveAfterReport(key, move, target.id, options, ref);
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
