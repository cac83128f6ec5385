// Lenient schemas for the slices of Jira's JSON the bot reads (IssueBean, transitions, comments),
// and the mapping of an IssueBean to the planner's Ticket (field values: field-values.ts; error
// bodies: errors.ts). Unknown keys pass through untouched; shapes are those of Atlassian's spec
// (test/contract/jira-platform-v3.json) and of live Jira Cloud.
import { z } from 'zod';
import { BOOKKEEPING_PROPERTY, BookkeepingSchema } from '../planner/ticket.js';
import type {
  Bookkeeping,
  Ticket,
  TicketComment,
  TicketLink,
  TicketTransition,
  TransitionField,
} from '../planner/ticket.js';
import { plainText } from './adf.js';
import { accountIdsOf, shapeOf, textOf, unreadable } from './field-values.js';
import { isIssueBean, isIssueLink, isIssueTransition, isOfferedMoves } from './issue-checks.js';
import type { TicketShape } from './port.js';

const NamedSchema = z.looseObject({ name: z.string() });

const LinkedIssueSchema = z.looseObject({
  key: z.string(),
  fields: z
    .looseObject({
      status: z
        .looseObject({
          name: z.string(),
          // The spec's examples omit it on linked issues; live Jira sends it.
          statusCategory: z.looseObject({ key: z.string() }).optional(),
        })
        .optional(),
    })
    .optional(),
});

export const IssueLinkSchema = z.looseObject({
  type: z.looseObject({ inward: z.string(), outward: z.string() }),
  inwardIssue: LinkedIssueSchema.optional(),
  outwardIssue: LinkedIssueSchema.optional(),
});

const CommentSchema = z.looseObject({ id: z.string(), body: z.unknown() });

/** A page of comments (GET issue's `comment` field, GET …/comment): `total` tells whether more exist. */
export const PageOfCommentsSchema = z.looseObject({
  comments: z.array(CommentSchema),
  total: z.number().int().optional(),
  startAt: z.number().int().optional(),
});

/** Jira's FieldMetadata on a transition (expand=transitions.fields): what its screen asks for. */
const FieldMetadataSchema = z.looseObject({
  key: z.string().optional(),
  name: z.string().optional(),
  required: z.boolean().optional(),
  hasDefaultValue: z.boolean().optional(),
  allowedValues: z.array(z.unknown()).optional(),
});

export const IssueTransitionSchema = z.looseObject({
  isAvailable: z.boolean().optional(),
  to: z.looseObject({ name: z.string() }),
  fields: z.record(z.string(), FieldMetadataSchema).optional(),
});

export const IssueBeanSchema = z.looseObject({
  key: z.string(),
  fields: z.looseObject({
    status: NamedSchema,
    project: z.looseObject({ key: z.string() }),
    issuetype: NamedSchema,
    labels: z.array(z.string()).nullish(),
    // Each link is parsed on its own (linksOf): one malformed link drops that link, not the ticket.
    issuelinks: z.array(z.unknown()).nullish(),
    // Live Jira answers a page of comments ({comments, total, …}); the spec's example shows a bare array.
    comment: z.union([PageOfCommentsSchema, z.array(CommentSchema)]).nullish(),
  }),
  properties: z.record(z.string(), z.unknown()).nullish(),
  // With expand=transitions(.fields): parsed one by one too (transitionsOf).
  transitions: z.array(z.unknown()).optional(),
});
export type IssueBean = z.infer<typeof IssueBeanSchema>;

/** GET issue with fields=status and expand=transitions: where the ticket is and where it can go. */
export const TransitionsSchema = z.looseObject({
  fields: z.looseObject({
    status: z.looseObject({ name: z.string() }),
    project: z.looseObject({ projectTypeKey: z.string().optional() }).optional(),
  }),
  transitions: z.array(
    z.looseObject({
      id: z.string(),
      isAvailable: z.boolean().optional(),
      to: z.looseObject({ name: z.string() }),
    }),
  ),
});

/** Where a ticket was and where it could go, as one read (GET issue?expand=transitions) found it. */
export type OfferedMoves = z.infer<typeof TransitionsSchema>;

/** What mapping an IssueBean noticed but could not use; the adapter logs these with the ticket key. */
export type MappingProblem =
  | { kind: 'invalidBookkeeping'; issues: string }
  | { kind: 'malformedLink'; index: number; issues: string }
  | { kind: 'malformedTransition'; index: number; issues: string }
  | { kind: 'unreadableInput'; input: string; field: string; shape: string };

export type MappedIssue =
  | {
      ok: true;
      ticket: Ticket;
      problems: MappingProblem[];
      /** Comments Jira has beyond the page the read returned (GET …/comment pages them). */
      moreComments?: { startAt: number; total: number };
    }
  | { ok: false; reason: string };

/** The fields a read asks for: what the planner needs plus the workflow's input fields. */
export function fieldsFor(shape: TicketShape): string[] {
  return [
    ...new Set([
      'status',
      'labels',
      'issuetype',
      'project',
      'issuelinks',
      ...Object.values(shape.inputFields),
      ...(shape.userFields ?? []),
    ]),
  ];
}

/** The transitions of a read (TransitionsSchema) without zod's copy when they are plainly well formed. */
export function offeredMoves(raw: unknown): OfferedMoves | undefined {
  if (isOfferedMoves(raw)) return raw;
  const parsed = TransitionsSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

export function mapIssue(raw: unknown, shape: TicketShape): MappedIssue {
  let issue: IssueBean;
  if (isIssueBean(raw)) issue = raw;
  else {
    const parsed = IssueBeanSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, reason: z.prettifyError(parsed.error) };
    issue = parsed.data;
  }
  const problems: MappingProblem[] = [];
  const inputs: Record<string, string | undefined> = {};
  for (const [input, field] of Object.entries(shape.inputFields)) {
    const value = textOf(issue.fields[field]);
    if (value === unreadable) {
      problems.push({ kind: 'unreadableInput', input, field, shape: shapeOf(issue.fields[field]) });
      inputs[input] = undefined;
    } else inputs[input] = value;
  }
  const ticket: Ticket = {
    key: issue.key,
    status: issue.fields.status.name,
    project: issue.fields.project.key,
    issueType: issue.fields.issuetype.name,
    labels: issue.fields.labels ? [...issue.fields.labels] : [],
    inputs,
    links: linksOf(issue.fields.issuelinks ?? [], problems),
    bookkeeping: bookkeepingOf(issue.properties?.[BOOKKEEPING_PROPERTY], problems),
  };
  if (shape.userFields && shape.userFields.length > 0) {
    ticket.people = Object.fromEntries(
      shape.userFields.map((field) => [field, accountIdsOf(issue.fields[field])]),
    );
  }
  if (issue.transitions) ticket.transitions = transitionsOf(issue.transitions, problems);
  if (!issue.fields.comment) return { ok: true, ticket, problems };
  ticket.comments = commentsOf(issue.fields.comment);
  const page = issue.fields.comment;
  if (Array.isArray(page) || page.total === undefined) return { ok: true, ticket, problems };
  const startAt = (page.startAt ?? 0) + page.comments.length;
  // Fewer comments than `total`: the rest are paged by the adapter before anyone looks for a marker.
  if (startAt >= page.total || page.comments.length === 0) return { ok: true, ticket, problems };
  return { ok: true, ticket, problems, moreComments: { startAt, total: page.total } };
}

function linksOf(raw: unknown[], problems: MappingProblem[]): TicketLink[] {
  return raw.flatMap((entry, index) => {
    if (isIssueLink(entry)) return linkOf(entry);
    const parsed = IssueLinkSchema.safeParse(entry);
    if (parsed.success) return linkOf(parsed.data);
    problems.push({ kind: 'malformedLink', index, issues: z.prettifyError(parsed.error) });
    return [];
  });
}

function transitionsOf(raw: unknown[], problems: MappingProblem[]): TicketTransition[] {
  return raw.flatMap((entry, index) => {
    const parsed = isIssueTransition(entry)
      ? { success: true as const, data: entry }
      : IssueTransitionSchema.safeParse(entry);
    if (!parsed.success) {
      problems.push({ kind: 'malformedTransition', index, issues: z.prettifyError(parsed.error) });
      return [];
    }
    if (parsed.data.isAvailable === false) return [];
    const fields = Object.entries(parsed.data.fields ?? {}).map(([id, meta]): TransitionField => ({
      key: meta.key ?? id,
      name: meta.name ?? id,
      required: meta.required ?? false,
      hasDefaultValue: meta.hasDefaultValue ?? false,
      allowedValues: (meta.allowedValues ?? []).flatMap((value) => allowedName(value) ?? []),
    }));
    return [{ to: parsed.data.to.name, fields }];
  });
}

/** An allowed value as a person names it: a resolution's or option's name or value. */
function allowedName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return undefined;
  const named = value as { name?: unknown; value?: unknown };
  if (typeof named.name === 'string') return named.name;
  return typeof named.value === 'string' ? named.value : undefined;
}

function linkOf(link: z.infer<typeof IssueLinkSchema>): TicketLink[] {
  const [relation, other] = link.inwardIssue
    ? [link.type.inward, link.inwardIssue]
    : link.outwardIssue
      ? [link.type.outward, link.outwardIssue]
      : [undefined, undefined];
  if (relation === undefined || other === undefined) return [];
  const status = other.fields?.status;
  // An empty category never reads as "done", so a gate stays closed rather than guessing it open.
  return [
    {
      relation,
      key: other.key,
      status: status?.name ?? '',
      statusCategory: status?.statusCategory?.key ?? '',
    },
  ];
}

export function bookkeepingOf(raw: unknown, problems: MappingProblem[]): Bookkeeping | undefined {
  if (raw === undefined || raw === null) return undefined;
  const parsed = BookkeepingSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  problems.push({ kind: 'invalidBookkeeping', issues: z.prettifyError(parsed.error) });
  return undefined;
}

export function commentsOf(comment: NonNullable<IssueBean['fields']['comment']>): TicketComment[] {
  const list = Array.isArray(comment) ? comment : comment.comments;
  // v3 bodies are ADF documents; a string body (v2, or the spec's example) is already plain text.
  return list.map((c) => ({ id: c.id, text: typeof c.body === 'string' ? c.body : plainText(c.body) }));
}
