// Jira sandbox: applies `fields` (set) and `update` (operations) from create, edit and transition
// bodies to an issue draft. Problems are collected per field and thrown together, as Jira's
// `errors` map does; the caller's draft is discarded when this throws.
import { checkCommentBody, checkPropertyValue, isAdfDocument } from './bodies.js';
import type { CommentInput } from './bodies.js';
import { JiraError, notAdf } from './errors.js';
import type { IssueStore } from './store.js';
import type { IssueRecord } from './types.js';

export interface FieldContext {
  customFieldIds: Set<string>;
  store: IssueStore;
  author: string;
}

const CANNOT_SET = (field: string): string =>
  `Field '${field}' cannot be set. It is not on the appropriate screen, or unknown.`;

function setField(
  draft: IssueRecord,
  field: string,
  value: unknown,
  context: FieldContext,
): string | undefined {
  if (field === 'summary') {
    if (typeof value !== 'string' || value.trim() === '') return 'You must specify a summary of the issue.';
    if (value.length > 255) return 'Summary must be less than 255 characters.';
    draft.summary = value;
  } else if (field === 'description') {
    if (value !== null && !isAdfDocument(value)) return notAdf('description').errors.description;
    draft.description = value;
  } else if (field === 'labels') {
    if (!Array.isArray(value) || !value.every((l): l is string => typeof l === 'string')) {
      return 'Labels must be a list of strings.';
    }
    const spaced = value.find((l) => /\s/.test(l));
    if (spaced !== undefined) return `The label '${spaced}' contains spaces which is invalid.`;
    draft.labels = [...new Set(value)];
  } else if (field === 'assignee') {
    // The spec's UserDetails reference: {accountId}; null unassigns.
    if (value === null) delete draft.assignee;
    else {
      const accountId = typeof value === 'object' && 'accountId' in value ? value.accountId : undefined;
      if (typeof accountId !== 'string' || accountId === '') return 'Specify a valid value for assignee';
      draft.assignee = accountId;
    }
  } else if (field === 'duedate') {
    if (value === null) delete draft.duedate;
    else if (
      typeof value !== 'string' ||
      !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
      Number.isNaN(Date.parse(value))
    )
      return "Error parsing date string: the due date must be in the format 'yyyy-MM-dd'.";
    else draft.duedate = value;
  } else if (context.customFieldIds.has(field)) {
    if (value === null) delete draft.custom[field];
    else draft.custom[field] = value;
  } else {
    return CANNOT_SET(field);
  }
  return undefined;
}

function applyOperation(
  draft: IssueRecord,
  field: string,
  op: Record<string, unknown>,
  context: FieldContext,
) {
  if (field === 'comment') {
    if (!('add' in op)) return `The operation '${Object.keys(op).join(',')}' is not supported for comments.`;
    // Atlassian documents comment properties on POST …/comment only, not here: the sandbox takes the
    // cautious reading and drops them, so `sd.public.comment` in a transition leaves the comment public.
    addComment(draft, { ...(op.add as CommentInput), properties: [] }, context);
    return undefined;
  }
  if (field === 'labels') {
    const label = op.add ?? op.remove;
    if ('set' in op) return setField(draft, 'labels', op.set, context);
    if (typeof label !== 'string') return 'Labels must be strings.';
    draft.labels =
      'add' in op ? [...new Set([...draft.labels, label])] : draft.labels.filter((l) => l !== label);
    return undefined;
  }
  if ('set' in op) return setField(draft, field, op.set, context);
  return `The operation '${Object.keys(op).join(',')}' is not supported by the sandbox for field '${field}'.`;
}

/** Sets `fields` and runs `update` operations on the draft; throws one JiraError listing every bad field. */
export function applyFieldChanges(
  draft: IssueRecord,
  fields: Record<string, unknown> | undefined,
  update: Record<string, Record<string, unknown>[]> | undefined,
  context: FieldContext,
): void {
  const errors: Record<string, string> = {};
  for (const [field, value] of Object.entries(fields ?? {})) {
    if (update && field in update) {
      errors[field] = `Field '${field}' cannot be set in both 'fields' and 'update'.`;
      continue;
    }
    const problem = setField(draft, field, value, context);
    if (problem) errors[field] = problem;
  }
  for (const [field, operations] of Object.entries(update ?? {})) {
    for (const op of operations) {
      try {
        const problem = applyOperation(draft, field, op, context);
        if (problem) errors[field] = problem;
      } catch (error) {
        if (!(error instanceof JiraError)) throw error;
        Object.assign(errors, error.errors);
        if (error.errorMessages[0]) errors[field] = error.errorMessages[0];
      }
    }
  }
  if (Object.keys(errors).length > 0) throw new JiraError(400, [], errors);
}

export function setProperties(
  draft: IssueRecord,
  properties: { key: string; value: unknown }[] | undefined,
): void {
  for (const { key, value } of properties ?? []) {
    checkPropertyValue(key, value);
    draft.properties[key] = structuredClone(value);
  }
}

/** Adds a comment to the draft (validated like POST comment) and returns its id. */
export function addComment(draft: IssueRecord, input: CommentInput, context: FieldContext): string {
  checkCommentBody(input?.body);
  const at = context.store.now();
  const id = context.store.newCommentId();
  const properties: Record<string, unknown> = {};
  for (const { key, value } of input.properties ?? []) {
    checkPropertyValue(key, value);
    properties[key] = structuredClone(value);
  }
  draft.comments.push({
    id,
    author: context.author,
    updateAuthor: context.author,
    body: structuredClone(input.body),
    created: at,
    updated: at,
    visibility: input.visibility,
    properties,
  });
  return id;
}
