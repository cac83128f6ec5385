// Jira sandbox: zod schemas for the request bodies the sandbox accepts (the spec's
// IssueUpdateDetails, LinkIssueRequestJsonBean, Comment, SearchAndReconcileRequestBean…) and the
// ADF checks Jira applies to rich-text values. Lenient like Jira: unknown keys are ignored.
import { z } from 'zod';
import { badRequest, fieldError, notAdf } from './errors.js';

const COMMENT_LIMIT = 32_767; // characters per comment body (Jira Cloud)
const PROPERTY_LIMIT = 32_768; // characters per entity property value (Jira Cloud)

const entityProperty = z.object({ key: z.string().min(1), value: z.unknown() });
const visibility = z.object({
  type: z.string().optional(),
  value: z.string().optional(),
  identifier: z.string().optional(),
});

export const commentInput = z.object({
  body: z.unknown().optional(),
  visibility: visibility.optional(),
  properties: z.array(entityProperty).optional(),
});
export type CommentInput = z.infer<typeof commentInput>;

const operation = z.record(z.string(), z.unknown());

export const issueUpdateDetails = z.object({
  transition: z.object({ id: z.string().optional(), looped: z.boolean().optional() }).optional(),
  fields: z.record(z.string(), z.unknown()).optional(),
  update: z.record(z.string(), z.array(operation)).optional(),
  properties: z.array(entityProperty).optional(),
  historyMetadata: z.unknown().optional(),
});

const issueRef = z.object({ id: z.string().optional(), key: z.string().optional() });

export const linkIssueRequest = z.object({
  type: z.object({ id: z.string().optional(), name: z.string().optional() }),
  inwardIssue: issueRef,
  outwardIssue: issueRef,
  comment: commentInput.optional(),
});

const stringList = z.union([z.array(z.string()), z.string()]);

export const searchRequest = z.object({
  jql: z.string().optional(),
  nextPageToken: z.string().optional(),
  maxResults: z.number().int().optional(),
  fields: stringList.optional(),
  properties: stringList.optional(),
  fieldsByKeys: z.boolean().optional(),
  expand: z.string().optional(),
  reconcileIssues: z.array(z.number()).optional(),
});

/** Parses a body with a schema, answering 400 with the first problem zod found. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.join('.') ?? '';
  throw badRequest(
    `Invalid request payload${where ? ` at '${where}'` : ''}: ${issue?.message ?? 'unreadable'}`,
  );
}

export function isAdfDocument(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const doc = value as { type?: unknown; version?: unknown; content?: unknown };
  return doc.type === 'doc' && doc.version === 1 && Array.isArray(doc.content);
}

/** A comment body as Jira v3 checks it: an ADF document, within the size limit. */
export function checkCommentBody(body: unknown): void {
  if (body === undefined || body === null) throw fieldError('comment', 'Comment body can not be empty!');
  if (!isAdfDocument(body)) throw notAdf('comment');
  if (JSON.stringify(body).length > COMMENT_LIMIT) {
    throw fieldError(
      'comment',
      'The entered text is too long. It exceeds the allowed limit of 32,767 characters.',
    );
  }
}

export function checkPropertyValue(key: string, value: unknown): void {
  if (value === undefined) throw badRequest(`The property '${key}' has no value.`);
  if (key.length > 255) throw badRequest('The property key cannot be longer than 255 characters.');
  if (JSON.stringify(value).length > PROPERTY_LIMIT) {
    throw badRequest(`The property value exceeds the maximum length of ${PROPERTY_LIMIT} characters.`);
  }
}
