// The hand-written shape checks (issue-checks.ts) stand in for zod's parse on the hot paths: each
// may refuse a value zod accepts (zod then reads it), never accept one zod refuses, and what it
// accepts must read as zod's output (which keeps unknown keys as they are; symbol keys, which JSON
// cannot carry and nothing reads, are left out here).
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { isIssueBean, isIssueLink, isIssueTransition, isOfferedMoves } from '../../src/jira/issue-checks.js';
import {
  IssueBeanSchema,
  IssueLinkSchema,
  IssueTransitionSchema,
  TransitionsSchema,
  mapIssue,
} from '../../src/jira/issue-schema.js';

const status = (name: string) => ({ self: 'x', name, id: '1', statusCategory: { key: 'done', id: 3 } });
const link = {
  id: '7',
  type: { name: 'Blocks', inward: 'is blocked by', outward: 'blocks' },
  inwardIssue: { key: 'OPS-2', fields: { status: status('Done'), summary: 's' } },
};
const transition = {
  id: '11',
  name: 'Done',
  to: status('Done'),
  isAvailable: true,
  fields: { resolution: { key: 'resolution', required: true, allowedValues: [{ name: 'Fixed' }] } },
};
const bean = {
  id: '10001',
  key: 'OPS-1',
  fields: {
    status: status('Sync'),
    project: { key: 'OPS', projectTypeKey: 'service_desk' },
    issuetype: { name: 'Server Restore' },
    labels: ['a'],
    issuelinks: [link],
    comment: { comments: [{ id: '1', body: 'hi' }], total: 1, startAt: 0 },
    customfield_1: 'host1',
  },
  properties: { 'runbot.bookkeeping': { status: 'Sync', visit: 1, enteredAt: 'now' } },
  transitions: [transition],
};

/** `base` with the value at `path` replaced (undefined deletes the key). */
function variant(base: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let at = copy;
  for (const step of path.slice(0, -1)) at = at[step] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

const oddValues = [
  undefined,
  null,
  1,
  1.5,
  Number.NaN,
  'x',
  true,
  [],
  {},
  [{}],
  { name: 1 },
  new Date(0),
  new Map(),
  Object.assign(Object.create(null) as object, { a: 1 }),
];

function variants(base: unknown, paths: (string | number)[][]): unknown[] {
  return [base, ...paths.flatMap((path) => oddValues.map((value) => variant(base, path, value)))];
}

function agrees(check: (value: unknown) => boolean, schema: z.ZodType, values: unknown[]): number {
  let accepted = 0;
  for (const value of values) {
    if (!check(value)) continue;
    accepted += 1;
    const parsed = schema.safeParse(value);
    expect(parsed.success, JSON.stringify(value)).toBe(true);
    expect(parsed.data).toEqual(value);
  }
  return accepted;
}

describe('hand-written issue shape checks', () => {
  it('accept only what the IssueBean schema accepts, as it reads it', () => {
    const paths = [
      [],
      ['key'],
      ['fields'],
      ['fields', 'status'],
      ['fields', 'status', 'name'],
      ['fields', 'project'],
      ['fields', 'project', 'key'],
      ['fields', 'issuetype'],
      ['fields', 'issuetype', 'name'],
      ['fields', 'labels'],
      ['fields', 'labels', 0],
      ['fields', 'issuelinks'],
      ['fields', 'comment'],
      ['fields', 'comment', 'comments'],
      ['fields', 'comment', 'comments', 0],
      ['fields', 'comment', 'comments', 0, 'id'],
      ['fields', 'comment', 'total'],
      ['fields', 'comment', 'startAt'],
      ['properties'],
      ['transitions'],
    ];
    const values = [...variants(bean, paths), variant(bean, ['fields', 'comment'], [{ id: '1', body: 'x' }])];
    expect(agrees(isIssueBean, IssueBeanSchema, values)).toBeGreaterThan(10);
  });

  it('accept only the links, transitions and offered moves their schemas accept', () => {
    const linkPaths = [
      ['type'],
      ['type', 'inward'],
      ['type', 'outward'],
      ['inwardIssue'],
      ['inwardIssue', 'key'],
      ['inwardIssue', 'fields'],
      ['inwardIssue', 'fields', 'status'],
      ['inwardIssue', 'fields', 'status', 'name'],
      ['inwardIssue', 'fields', 'status', 'statusCategory'],
      ['inwardIssue', 'fields', 'status', 'statusCategory', 'key'],
      ['outwardIssue'],
    ];
    expect(agrees(isIssueLink, IssueLinkSchema, variants(link, linkPaths))).toBeGreaterThan(5);
    const transitionPaths = [
      ['to'],
      ['to', 'name'],
      ['isAvailable'],
      ['fields'],
      ['fields', 'resolution'],
      ['fields', 'resolution', 'key'],
      ['fields', 'resolution', 'required'],
      ['fields', 'resolution', 'allowedValues'],
    ];
    expect(
      agrees(isIssueTransition, IssueTransitionSchema, variants(transition, transitionPaths)),
    ).toBeGreaterThan(5);
    const offeredPaths = [
      ['fields', 'status'],
      ['fields', 'project'],
      ['fields', 'project', 'projectTypeKey'],
      ['transitions'],
      ['transitions', 0],
      ['transitions', 0, 'id'],
      ['transitions', 0, 'isAvailable'],
      ['transitions', 0, 'to'],
    ];
    expect(agrees(isOfferedMoves, TransitionsSchema, variants(bean, offeredPaths))).toBeGreaterThan(5);
  });

  it('a malformed link or transition is still reported by zod, the rest of the ticket read', () => {
    const raw = variant(variant(bean, ['fields', 'issuelinks', 1], { type: 1 }), ['transitions', 1], {
      to: 2,
    });
    const mapped = mapIssue(raw, { inputFields: { host: 'customfield_1' } });
    expect(mapped.ok).toBe(true);
    if (!mapped.ok) return;
    expect(mapped.ticket).toMatchObject({
      key: 'OPS-1',
      status: 'Sync',
      labels: ['a'],
      inputs: { host: 'host1' },
      links: [{ relation: 'is blocked by', key: 'OPS-2', status: 'Done', statusCategory: 'done' }],
      transitions: [{ to: 'Done' }],
    });
    expect(mapped.problems.map((problem) => problem.kind)).toEqual(['malformedLink', 'malformedTransition']);
  });
});
