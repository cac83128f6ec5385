// The values of a ticket's fields as the planner reads them: a workflow input as text (a text field,
// a number, a paragraph, a select, a list of them) and a user field as account ids. Anything else is
// reported, never guessed at.
import { z } from 'zod';
import { plainText } from './adf.js';

export const unreadable = Symbol('unreadable');

/**
 * The text of a text-like field: a string; a number; an ADF document (paragraph field) as plain text;
 * a select option's value; a list of strings or options joined by commas. Anything else (a user, a
 * date range…) is not guessed at.
 */
export function textOf(value: unknown): string | undefined | typeof unreadable {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) {
    const parts = value.map(optionText);
    return parts.every((part) => part !== undefined) ? parts.join(',') : unreadable;
  }
  if (isAdfDocument(value)) return plainText(value);
  return optionText(value) ?? unreadable;
}

function optionText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'value' in value && typeof value.value === 'string') {
    return value.value;
  }
  return undefined;
}

function isAdfDocument(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'type' in value && value.type === 'doc';
}

/** What an unreadable field value looks like, for the message that names it. */
export function shapeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object' && value !== null)
    return `object with keys ${Object.keys(value).slice(0, 5).join(', ')}`;
  return typeof value;
}

const UserSchema = z.looseObject({ accountId: z.string().regex(/^[A-Za-z0-9:_-]{1,128}$/) });

/** Account ids in a user field: one user, or a list (JSM's request participants); others are skipped. */
export function accountIdsOf(value: unknown): string[] {
  const users = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return users.flatMap((user) => {
    const parsed = UserSchema.safeParse(user);
    return parsed.success ? [parsed.data.accountId] : [];
  });
}
