// Jira's display names of fields ("Service Hosts" for customfield_10042), read once per process from
// GET /rest/api/3/field, so the bot's comments name fields the way people see them in Jira.
import type { Logger } from '../logger.js';

/** Field id → display name. */
export type FieldNames = Record<string, string>;

/**
 * The names, read on first use and kept for the life of the process (fields are renamed rarely, and a
 * stale name only makes a comment less friendly). A failed read is not kept: the next use asks again,
 * and meanwhile comments fall back to the field ids.
 */
export function fieldNameCache(read: () => Promise<unknown>, logger: Logger) {
  let names: Promise<FieldNames> | undefined;
  return {
    get(): Promise<FieldNames> {
      names ??= read().then(namesOf, (error: unknown) => {
        names = undefined;
        logger.warn({ err: error }, 'jira field names not readable, comments name field ids');
        return {};
      });
      return names;
    },
  };
}

function namesOf(raw: unknown): FieldNames {
  if (!Array.isArray(raw)) return {};
  const names: FieldNames = {};
  for (const field of raw as unknown[]) {
    if (typeof field !== 'object' || field === null) continue;
    const { id, name } = field as { id?: unknown; name?: unknown };
    if (typeof id === 'string' && typeof name === 'string' && name.trim() !== '') names[id] = name;
  }
  return names;
}
