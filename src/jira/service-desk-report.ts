// In a Jira Service Management project the bot's report of a move (the step's output, why it moved)
// is posted as its own internal comment: `POST …/comment` with the documented `sd.public.comment`
// property. Inside a transition's `update.comment` Atlassian documents no comment properties, so
// there the report could show on the customer portal (issue 11, item 5; docs/jira.md).
//
// Posting and moving are then two calls, and the move no longer decides alone who explains it: two
// jobs of one visit (a wait step's check job and its last check past the deadline, a retry after a
// lost answer) may both post.
// So every poster, after its own post, reads the ticket's comments, keeps the earliest of the bot's
// own carrying the visit's reference and deletes the later ones. Each poster reads after it posted,
// so the last one sees every copy: the copies converge on one, whoever deletes first (a 404 is fine).
// A person's comment quoting the reference is never touched. The move's own read of where the ticket
// can go is made after the post and brings the comments along (moves.ts), so that read is the
// read-back; only when it did not bring them all are the newest read on their own.
import { z } from 'zod';
import type { AdfDocument } from './adf.js';
import { plainText } from './adf.js';
import { JiraRequestError } from './errors.js';

/** One comment of `GET …/comment?orderBy=-created`, as much of it as the de-duplication reads. */
const PostedCommentSchema = z.looseObject({
  id: z.string(),
  // The wire has a string (the transport hands it over as is); a Date is read the same way.
  created: z.union([z.string(), z.date()]).optional(),
  author: z.looseObject({ accountId: z.string().optional() }).optional(),
  body: z.unknown(),
});
export const RecentCommentsSchema = z.looseObject({ comments: z.array(PostedCommentSchema) });
// GET issue's `comment` field as a page; a bare list (the spec's example) does not parse, as it cannot
// say it holds every comment.
const EmbeddedCommentsSchema = z.looseObject({
  comments: z.array(PostedCommentSchema),
  total: z.number().int().optional(),
  startAt: z.number().int().optional(),
});
export type PostedComment = z.infer<typeof PostedCommentSchema>;

/** The calls it needs, each through the adapter's wrapper (rate-limit gate, counting, retries). */
export interface ReportCalls {
  /** The bot's own account id (GET /myself, once per process). */
  me(): Promise<string>;
  /** One POST of an internal comment: a 429 is waited out, an answer that may have landed is not
   * repeated. The created comment's id, when the answer carried one. */
  post(key: string, body: AdfDocument): Promise<string | undefined>;
  /** The newest comments first (one page: the copies of a report are among the newest). */
  recent(key: string): Promise<PostedComment[]>;
  /** Deletes one comment; already gone is fine. */
  remove(key: string, id: string): Promise<void>;
  /** Posts at most this often (the adapter's attempts per call), waiting `pause` between posts. */
  attempts: number;
  pause(failedAttempts: number): Promise<void>;
}

/**
 * GET issue's `comment` field as the read-back reads it: every comment of the ticket, or undefined
 * when the page is not all of them (or not readable), so the newest are read on their own instead.
 */
export function allCommentsIn(field: unknown): PostedComment[] | undefined {
  const parsed = EmbeddedCommentsSchema.safeParse(field);
  if (!parsed.success) return undefined;
  const page = parsed.data;
  // A page without its total cannot say it holds them all, and a page Jira cut holds the oldest:
  // the copies just posted would be the ones missing.
  if (page.total === undefined) return undefined;
  return (page.startAt ?? 0) === 0 && page.comments.length >= page.total ? page.comments : undefined;
}

/** Posts the report once, however its answers went, then leaves one copy of it on the ticket. */
export async function postReport(calls: ReportCalls, key: string, body: AdfDocument, ref: string) {
  await postOnce(calls, key, body, ref);
  await keepEarliest(calls, key, ref);
}

/**
 * Posts the report once, however its answers went; the caller reads back (keepEarliest). The id of
 * the copy this call posted, when Jira's answer said it (not after a lost answer).
 */
export async function postOnce(
  calls: ReportCalls,
  key: string,
  body: AdfDocument,
  ref: string,
): Promise<string | undefined> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await calls.post(key, body);
    } catch (error) {
      if (!mayHaveLanded(error) || attempt >= calls.attempts) throw error;
      // A 5xx or no answer at all: Jira may have saved it. Look before posting it again.
      if ((await ours(calls, key, ref)).length > 0) return undefined;
      await calls.pause(attempt);
    }
  }
}

/**
 * A report posted for a visit the ticket has left since the poster read it (`mine`: the copy this
 * poster made, if its id is known). Another copy besides this poster's is the visit's report already
 * (whoever moved the visit on kept it, or another late poster will take its own back): only this
 * poster's copy goes. This poster's copy alone stays only if the bot itself moved the visit on
 * (`botMoved`: a twin, the visit's other check, whose copy was later than this one); else a person
 * moved it, and the report goes. `seen` as for keepEarliest.
 */
export async function settleLateReport(
  calls: ReportCalls,
  key: string,
  ref: string,
  late: { mine: string | undefined; botMoved: boolean; seen?: PostedComment[] | undefined },
) {
  const copies = await ours(calls, key, ref, late.seen);
  const others = copies.filter((comment) => comment.id !== late.mine);
  if (late.mine !== undefined && others.length > 0) {
    if (others.length < copies.length) await calls.remove(key, late.mine);
    return;
  }
  if (late.botMoved) await keepEarliest(calls, key, ref, copies);
  else for (const comment of copies) await calls.remove(key, comment.id);
}

/** The move was refused and the ticket is not where the report says it went: take the report back. */
export async function withdrawReport(calls: ReportCalls, key: string, ref: string) {
  for (const comment of await ours(calls, key, ref)) await calls.remove(key, comment.id);
}

/**
 * Leaves the earliest of the bot's copies of the report. `seen`: every comment of the ticket, read
 * after the post; without it, the newest are read.
 */
export async function keepEarliest(calls: ReportCalls, key: string, ref: string, seen?: PostedComment[]) {
  const [, ...later] = (await ours(calls, key, ref, seen)).sort(byAge);
  for (const copy of later) await calls.remove(key, copy.id);
}

/** The bot's own comments carrying the reference, among `seen` or else the newest. */
async function ours(
  calls: ReportCalls,
  key: string,
  ref: string,
  seen?: PostedComment[],
): Promise<PostedComment[]> {
  const me = await calls.me();
  return (seen ?? (await calls.recent(key))).filter(
    (comment) => comment.author?.accountId === me && plainText(comment.body).includes(ref),
  );
}

/** Oldest first: by creation time, then by id (Jira's comment ids grow). */
function byAge(a: PostedComment, b: PostedComment): number {
  const created = new Date(a.created ?? NaN).getTime() - new Date(b.created ?? NaN).getTime();
  return Number.isNaN(created) || created === 0 ? Number(a.id) - Number(b.id) : created;
}

/** A 5xx or no answer: Jira may have saved what was sent. Anything else it refused (or never got). */
export function mayHaveLanded(error: unknown): boolean {
  return error instanceof JiraRequestError && (error.status === undefined || error.status >= 500);
}
