// Hand-written checks that a value has the shape a schema of issue-schema.ts accepts. Each is only
// ever stricter than its schema: a value it refuses goes to zod, which accepts it or says why not, so
// a value it accepts reads exactly as zod's output would (looseObject keeps unknown keys as they are).
// The poller maps every ticket of every search page each cycle, the worker every ticket it reads;
// zod's parse, a copy of each object, was ~3 % of the service's CPU in the batch benchmark.
import type { z } from 'zod';
import type { IssueBean, IssueLinkSchema, IssueTransitionSchema, OfferedMoves } from './issue-schema.js';

type Plain = Record<string, unknown>;
/** Every element (holes included, which `every` would skip) passes `check`. */
function all(values: unknown[], check: (value: unknown) => boolean): boolean {
  for (let i = 0; i < values.length; i += 1) if (!check(values[i])) return false;
  return true;
}
/** An object as JSON.parse makes it: zod's objects take any non-array object and copy its string
 * keys, its records only plain objects. Symbol keys (which JSON cannot carry) are not looked at:
 * zod's copy drops them, and nothing reads them. */
function isPlain(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
const isString = (value: unknown): value is string => typeof value === 'string';
const isBoolean = (value: unknown): boolean => typeof value === 'boolean';
const isNamed = (value: unknown): boolean => isPlain(value) && isString(value.name);
const absentOr = (value: unknown, check: (present: unknown) => boolean): boolean =>
  value === undefined || check(value);
const nullishOr = (value: unknown, check: (present: unknown) => boolean): boolean =>
  value === undefined || value === null || check(value);
const isInt = (value: unknown): boolean => typeof value === 'number' && Number.isSafeInteger(value);
const isComment = (value: unknown): boolean => isPlain(value) && isString(value.id);
const isCommentPage = (value: unknown): boolean =>
  isPlain(value) &&
  Array.isArray(value.comments) &&
  all(value.comments, isComment) &&
  absentOr(value.total, isInt) &&
  absentOr(value.startAt, isInt);

export function isIssueBean(raw: unknown): raw is IssueBean {
  if (!isPlain(raw) || !isString(raw.key) || !isPlain(raw.fields)) return false;
  const { fields } = raw;
  return (
    isNamed(fields.status) &&
    isPlain(fields.project) &&
    isString(fields.project.key) &&
    isNamed(fields.issuetype) &&
    nullishOr(fields.labels, (labels) => Array.isArray(labels) && all(labels, isString)) &&
    nullishOr(fields.issuelinks, Array.isArray) &&
    nullishOr(
      fields.comment,
      (comment) => isCommentPage(comment) || (Array.isArray(comment) && all(comment, isComment)),
    ) &&
    nullishOr(raw.properties, isPlain) &&
    absentOr(raw.transitions, Array.isArray)
  );
}

const isLinkedIssue = (value: unknown): boolean =>
  isPlain(value) &&
  isString(value.key) &&
  absentOr(
    value.fields,
    (fields) =>
      isPlain(fields) &&
      absentOr(
        fields.status,
        (status) =>
          isNamed(status) &&
          absentOr(
            (status as Plain).statusCategory,
            (category) => isPlain(category) && isString(category.key),
          ),
      ),
  );

export function isIssueLink(value: unknown): value is z.infer<typeof IssueLinkSchema> {
  return (
    isPlain(value) &&
    isPlain(value.type) &&
    isString(value.type.inward) &&
    isString(value.type.outward) &&
    absentOr(value.inwardIssue, isLinkedIssue) &&
    absentOr(value.outwardIssue, isLinkedIssue)
  );
}

const isFieldMetadata = (value: unknown): boolean =>
  isPlain(value) &&
  absentOr(value.key, isString) &&
  absentOr(value.name, isString) &&
  absentOr(value.required, isBoolean) &&
  absentOr(value.hasDefaultValue, isBoolean) &&
  absentOr(value.allowedValues, Array.isArray);

export function isIssueTransition(value: unknown): value is z.infer<typeof IssueTransitionSchema> {
  return (
    isPlain(value) &&
    absentOr(value.isAvailable, isBoolean) &&
    isNamed(value.to) &&
    absentOr(value.fields, (fields) => isPlain(fields) && Object.values(fields).every(isFieldMetadata))
  );
}

export function isOfferedMoves(raw: unknown): raw is OfferedMoves {
  return (
    isPlain(raw) &&
    isPlain(raw.fields) &&
    isNamed(raw.fields.status) &&
    absentOr(
      raw.fields.project,
      (project) => isPlain(project) && absentOr(project.projectTypeKey, isString),
    ) &&
    Array.isArray(raw.transitions) &&
    all(
      raw.transitions,
      (t: unknown) => isPlain(t) && isString(t.id) && absentOr(t.isAvailable, isBoolean) && isNamed(t.to),
    )
  );
}
