// Integration: the Jira sandbox driven over HTTP by jira.js 6 itself (strict schema audit on), with
// raw fetch only where jira.js cannot say it (status codes, a v3 string body), and response shapes
// checked against the property lists of Atlassian's OpenAPI spec.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CloudClient } from 'jira.js';
import { SPEC_PATH } from '../contract/openapi.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import type { SandboxOptions } from '../../src/sandbox/jira/index.js';

// jira.js builds strict response schemas when AUDIT_SCHEMAS=true is set at load time: any key the
// spec does not document, or any missing/mistyped field, is recorded or thrown. Load it that way.
const previousAudit = process.env.AUDIT_SCHEMAS;
process.env.AUDIT_SCHEMAS = 'true';
const jira = await import('jira.js');
const jiraCore = await import('jira.js/core');
const AUDIT_STORE = Symbol.for('apis-code-gen.schemaAudit');

const EMAIL = 'runbot@example.com';
const TOKEN = 'sandbox-token';
const SERVICE_HOSTS = 'customfield_10042';

const OPTIONS: SandboxOptions = {
  projects: [
    {
      key: 'RMAR',
      name: 'RMA Restores',
      issueTypes: ['Restore'],
      workflow: {
        initial: 'Waiting for RMA',
        statuses: [
          { name: 'Waiting for RMA', category: 'new' },
          { name: 'Memcheck', category: 'indeterminate' },
          { name: 'Sync', category: 'indeterminate' },
          { name: 'Actionable', category: 'indeterminate' },
          { name: 'Done', category: 'done' },
        ],
        transitions: [
          { id: '11', name: 'Start memcheck', from: ['Waiting for RMA'], to: 'Memcheck' },
          { id: '21', name: 'Memcheck passed', from: ['Memcheck'], to: 'Sync' },
          {
            id: '31',
            name: 'Finish',
            from: ['Sync'],
            to: 'Done',
            screen: [
              {
                key: 'resolution',
                name: 'Resolution',
                required: true,
                schema: { type: 'resolution', system: 'resolution' },
                allowedValues: [
                  { id: '10000', name: 'Done' },
                  { id: '10001', name: "Won't Do" },
                ],
              },
            ],
          },
          { id: '91', name: 'Needs a human', from: 'any', to: 'Actionable' },
        ],
      },
    },
    {
      key: 'RMA',
      name: 'RMA',
      issueTypes: ['Task'],
      workflow: {
        initial: 'Open',
        statuses: [
          { name: 'Open', category: 'new' },
          { name: 'Done', category: 'done' },
        ],
        transitions: [{ id: '5', name: 'Close', from: ['Open'], to: 'Done' }],
      },
    },
  ],
  customFields: [{ id: SERVICE_HOSTS, name: 'Service Hosts' }],
  credentials: { email: EMAIL, apiToken: TOKEN },
  searchPageMax: 5,
  commentPageMax: 3,
};

const doc = (text: string) => ({
  type: 'doc',
  version: 1,
  content: [{ type: 'paragraph', content: [{ type: 'text', text }] }],
});

type Spec = { components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };

const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Spec;

/** Keys of `value` that the spec's schema `name` does not declare (empty when the shape fits). */
function undeclaredKeys(name: string, value: unknown): string[] {
  const declared = Object.keys(spec.components.schemas[name]?.properties ?? {});
  return Object.keys(value ?? {}).filter((key) => !declared.includes(key));
}

// The slices of Jira JSON these tests read (jira.js types `fields` as a free record).
interface StatusJson {
  name: string;
  statusCategory: { key: string; id: number };
}
interface LinkedJson {
  key: string;
  fields: { summary: string; status: StatusJson };
}
interface LinkJson {
  type: { name: string; inward: string; outward: string };
  inwardIssue?: LinkedJson;
  outwardIssue?: LinkedJson;
}
interface FieldsJson {
  [field: string]: unknown;
  status: StatusJson;
  issuelinks: LinkJson[];
}

let sandbox: JiraSandbox;
let baseUrl: string;
let client: CloudClient;
const auth = `Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64')}`;

function raw(path: string, init: { method?: string; body?: unknown; authorization?: string | null } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (init.authorization !== null) headers.authorization = init.authorization ?? auth;
  return fetch(`${baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

async function createRestore(summary: string, labels: string[] = []): Promise<string> {
  const created = await client.issues.createIssue({
    fields: {
      project: { key: 'RMAR' },
      issuetype: { name: 'Restore' },
      summary,
      labels,
      description: doc(`Restore ${summary}`),
      [SERVICE_HOSTS]: 'container-101-08.dev2',
    },
  });
  return created.key ?? '';
}

async function expectApiError(promise: Promise<unknown>, status: number): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(jira.isApiError(error), `expected an ApiError ${status}, got ${String(error)}`).toBe(true);
  if (!jira.isApiError(error)) return undefined;
  expect(error.status).toBe(status);
  return error.body;
}

beforeAll(async () => {
  sandbox = new JiraSandbox(OPTIONS);
  baseUrl = await sandbox.start(0);
  client = jira.createCloudClient({
    host: baseUrl,
    auth: { type: 'basic', email: EMAIL, apiToken: TOKEN },
    onSchemaMismatch: 'throw',
  });
});

afterAll(async () => {
  await sandbox.stop();
  if (previousAudit === undefined) delete process.env.AUDIT_SCHEMAS;
  else process.env.AUDIT_SCHEMAS = previousAudit;
});

describe('jira sandbox: issues', () => {
  it('creates issues with sequential keys in the workflow initial status, readable with GET issue', async () => {
    const first = await createRestore('container-101-08.dev2');
    const second = await createRestore('container-101-09.dev2');
    expect(second).toBe(`RMAR-${Number(first.split('-')[1]) + 1}`);

    const issue = await client.issues.getIssue({ issueIdOrKey: first });
    expect(issue.key).toBe(first);
    const fields = issue.fields as FieldsJson;
    expect(fields.summary).toBe('container-101-08.dev2');
    expect(fields.status).toMatchObject({ name: 'Waiting for RMA', statusCategory: { key: 'new', id: 2 } });
    expect(fields.issuetype).toMatchObject({ name: 'Restore' });
    expect(fields.project).toMatchObject({ key: 'RMAR', name: 'RMA Restores' });
    expect(fields[SERVICE_HOSTS]).toBe('container-101-08.dev2');
    expect(fields.comment).toMatchObject({ comments: [], total: 0, startAt: 0 });
    expect(undeclaredKeys('IssueBean', issue)).toEqual([]);
    expect(undeclaredKeys('StatusDetails', fields.status)).toEqual([]);
    expect(undeclaredKeys('StatusCategory', fields.status.statusCategory)).toEqual([]);
  });

  it('returns only the requested fields and properties', async () => {
    const key = await createRestore('fields-only');
    await client.issueProperties.setIssueProperty({
      issueIdOrKey: key,
      propertyKey: 'runbot',
      body: { visit: 1 },
    });
    const issue = await client.issues.getIssue({
      issueIdOrKey: key,
      fields: ['summary', 'status'],
      properties: ['runbot'],
    });
    expect(Object.keys(issue.fields ?? {}).sort()).toEqual(['status', 'summary']);
    expect(issue.properties).toEqual({ runbot: { visit: 1 } });
  });

  it('answers 404 with Jira wording for an unknown issue', async () => {
    const body = await expectApiError(client.issues.getIssue({ issueIdOrKey: 'RMAR-9999' }), 404);
    expect(body).toEqual({
      errorMessages: ['Issue does not exist or you do not have permission to see it.'],
      errors: {},
    });
  });

  it('rejects a create without summary or with an unknown field, field by field', async () => {
    const missing = await expectApiError(
      client.issues.createIssue({ fields: { project: { key: 'RMAR' }, issuetype: { name: 'Restore' } } }),
      400,
    );
    expect(missing).toMatchObject({ errors: { summary: 'You must specify a summary of the issue.' } });
    const unknown = await expectApiError(
      client.issues.createIssue({
        fields: {
          project: { key: 'RMAR' },
          issuetype: { name: 'Restore' },
          summary: 'x',
          customfield_1: 'y',
        },
      }),
      400,
    );
    expect(unknown).toMatchObject({
      errors: { customfield_1: expect.stringContaining('cannot be set') as string },
    });
  });

  it('links issues with Blocks and shows the link on both sides, shaped like Jira', async () => {
    const rma =
      (
        await client.issues.createIssue({
          fields: { project: { key: 'RMA' }, issuetype: { name: 'Task' }, summary: 'RMA-1893' },
        })
      ).key ?? '';
    const restore = await createRestore('linked');
    await client.issueLinks.linkIssues({
      type: { name: 'Blocks' },
      outwardIssue: { key: rma },
      inwardIssue: { key: restore },
    });

    const restoreLinks = (await client.issues.getIssue({ issueIdOrKey: restore, fields: ['issuelinks'] }))
      .fields?.issuelinks as LinkJson[];
    expect(restoreLinks).toHaveLength(1);
    const [link] = restoreLinks;
    expect(link).toMatchObject({
      type: { name: 'Blocks', inward: 'is blocked by', outward: 'blocks' },
      inwardIssue: {
        key: rma,
        fields: { summary: 'RMA-1893', status: { name: 'Open', statusCategory: { key: 'new' } } },
      },
    });
    expect(link?.outwardIssue).toBeUndefined();
    expect(undeclaredKeys('IssueLink', link)).toEqual([]);
    expect(undeclaredKeys('IssueLinkType', link?.type)).toEqual([]);
    expect(undeclaredKeys('LinkedIssue', link?.inwardIssue)).toEqual([]);

    const rmaLinks = (await client.issues.getIssue({ issueIdOrKey: rma, fields: ['issuelinks'] })).fields
      ?.issuelinks as LinkJson[];
    expect(rmaLinks[0]).toMatchObject({ outwardIssue: { key: restore } });
    sandbox.moveAsHuman(rma, 'Done');
    const after = (await client.issues.getIssue({ issueIdOrKey: restore, fields: ['issuelinks'] })).fields
      ?.issuelinks as LinkJson[];
    expect(after[0]?.inwardIssue?.fields.status.statusCategory.key).toBe('done');
  });
});

describe('jira sandbox: enhanced search', () => {
  it('pages through 3 pages with nextPageToken and returns requested fields and properties', async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push(await createRestore(`paging-${i}`, ['paging']));
    await client.issueProperties.setIssueProperty({
      issueIdOrKey: created[0] ?? '',
      propertyKey: 'runbot',
      body: { step: 'x' },
    });

    const pages: Awaited<ReturnType<CloudClient['issueSearch']['searchAndReconsileIssuesUsingJql']>>[] = [];
    let nextPageToken: string | undefined;
    do {
      const page = await client.issueSearch.searchAndReconsileIssuesUsingJql({
        jql: 'project = RMAR AND labels = paging ORDER BY key ASC',
        maxResults: 3,
        fields: ['summary', 'status'],
        properties: ['runbot'],
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      pages.push(page);
      nextPageToken = page.nextPageToken ?? undefined;
    } while (nextPageToken);

    expect(pages.map((p) => p.issues?.length)).toEqual([3, 3, 1]);
    expect(pages.map((p) => p.isLast)).toEqual([false, false, true]);
    expect(pages[2]).not.toHaveProperty('nextPageToken');
    expect(pages[0]).not.toHaveProperty('total');
    expect(pages.flatMap((p) => p.issues ?? []).map((i) => i.key)).toEqual(created);
    const first = pages[0]?.issues?.[0];
    expect(Object.keys(first?.fields ?? {}).sort()).toEqual(['status', 'summary']);
    expect(first?.properties).toEqual({ runbot: { step: 'x' } });
    expect(pages[0]?.issues?.[1]?.properties).toEqual({});
    expect(undeclaredKeys('SearchAndReconcileResults', pages[0])).toEqual([]);
  });

  it('returns ids only by default, caps the page at searchPageMax, and supports POST and NOT IN', async () => {
    for (let i = 0; i < 6; i++) await createRestore(`capped-${i}`, ['capped']);
    const page = await client.issueSearch.searchAndReconsileIssuesUsingJql({
      jql: 'labels in (capped)',
      maxResults: 100,
    });
    expect(page.issues).toHaveLength(5); // searchPageMax
    expect(page.isLast).toBe(false);
    expect(page.issues?.[0]?.fields).toBeUndefined();

    await createRestore('no-labels');
    const response = await raw('/rest/api/3/search/jql', {
      method: 'POST',
      body: {
        jql: 'project = RMAR AND (labels not in (capped) OR labels is EMPTY) AND status = "waiting for rma" ORDER BY created DESC',
        fields: ['summary'],
      },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { issues: { fields: { summary: string } }[] };
    const summaries = body.issues.map((i) => i.fields.summary);
    expect(summaries).toContain('no-labels');
    expect(summaries.some((s) => s.startsWith('capped-'))).toBe(false);
  });

  it('text-searches a custom field with ~ and !~: a quoted phrase, words in any order', async () => {
    const hostOf: Record<string, string> = {
      a: 'db-1.dev2.internal',
      b: 'db-11.dev2.internal',
      c: 'internal dev2 db-1',
    };
    for (const [name, host] of Object.entries(hostOf)) {
      await client.issues.createIssue({
        fields: {
          project: { key: 'RMAR' },
          issuetype: { name: 'Restore' },
          summary: `text-${name}`,
          labels: ['text'],
          [SERVICE_HOSTS]: host,
        },
      });
    }
    await createRestore('text-none', ['text']);
    const found = async (jql: string) =>
      (
        await client.issueSearch.searchAndReconsileIssuesUsingJql({
          jql: `labels = text AND ${jql} ORDER BY key ASC`,
          fields: ['summary'],
        })
      ).issues?.map((issue) => String(issue.fields?.summary));
    const id = SERVICE_HOSTS.replace('customfield_', '');
    // The phrase: db-1 then dev2 then internal, next to each other; db-11 is another word.
    expect(await found(`cf[${id}] ~ "\\"db-1.dev2.internal\\""`)).toEqual(['text-a']);
    // Words in any order: c has them all too.
    expect(await found(`${SERVICE_HOSTS} ~ "db-1.dev2.internal"`)).toEqual(['text-a', 'text-c']);
    // !~: every other issue with a value (createRestore gives text-none container-101-08.dev2).
    expect(await found(`cf[${id}] !~ "\\"db-1.dev2.internal\\""`)).toEqual(['text-b', 'text-c', 'text-none']);
    const body = await expectApiError(
      client.issueSearch.searchAndReconsileIssuesUsingJql({ jql: `cf[${id}] = "db-1.dev2.internal"` }),
      400,
    );
    expect((body as { errorMessages: string[] }).errorMessages[0]).toContain("only '~' and '!~'");
  });

  it('answers 400 with the problem named for bad or unsupported JQL', async () => {
    const cases: [string, string][] = [
      ['project = RMAR AND', 'Expecting a field name but got the end of the query'],
      ['project RMAR', "Expecting operator but got 'RMAR'"],
      ['summary ~ disk', "Field 'summary' does not exist"],
      ['project = NOPE', "The value 'NOPE' does not exist for the field 'project'."],
      ['status = "Waiting for RMA', 'has not been completed'],
      ['ORDER BY key', 'Unbounded JQL queries are not allowed here'],
    ];
    for (const [jql, message] of cases) {
      const body = await expectApiError(client.issueSearch.searchAndReconsileIssuesUsingJql({ jql }), 400);
      expect((body as { errorMessages: string[] }).errorMessages[0], jql).toContain(message);
    }
  });

  it('sees writes only after searchLagMs, while GET issue is current', async () => {
    let now = 1_000_000;
    const lagging = new JiraSandbox({
      ...OPTIONS,
      credentials: undefined,
      searchLagMs: 5_000,
      now: () => now,
    });
    const url = await lagging.start(0);
    try {
      const lagClient = jira.createCloudClient({
        host: url,
        auth: { type: 'basic', email: EMAIL, apiToken: TOKEN },
      });
      const { key } = await lagClient.issues.createIssue({
        fields: { project: { key: 'RMAR' }, issuetype: { name: 'Restore' }, summary: 'lag' },
      });
      const search = () =>
        lagClient.issueSearch.searchAndReconsileIssuesUsingJql({ jql: 'project = RMAR', fields: ['status'] });
      expect((await search()).issues).toEqual([]);
      now += 5_000;
      expect((await search()).issues?.map((i) => i.key)).toEqual([key]);
      await lagClient.issues.doTransition({ issueIdOrKey: key ?? '', transition: { id: '11' } });
      const stale = (await search()).issues?.[0]?.fields as FieldsJson;
      expect(stale.status.name).toBe('Waiting for RMA');
      expect(lagging.snapshot(key ?? '')?.status).toBe('Memcheck');
      now += 5_000;
      expect(((await search()).issues?.[0]?.fields as FieldsJson).status.name).toBe('Memcheck');
    } finally {
      await lagging.stop();
    }
  });
});

describe('jira sandbox: transitions', () => {
  it('lists only the transitions available from the current status', async () => {
    const key = await createRestore('transitions');
    const { transitions } = await client.issues.getTransitions({ issueIdOrKey: key });
    expect(transitions?.map((t) => [t.id, t.to?.name, t.isGlobal])).toEqual([
      ['11', 'Memcheck', false],
      ['91', 'Actionable', true],
    ]);
    expect(undeclaredKeys('IssueTransition', transitions?.[0])).toEqual([]);
  });

  it('applies the transition, its comment and its properties together', async () => {
    const key = await createRestore('atomic-ok');
    const before = sandbox.snapshot(key);
    await client.issues.doTransition({
      issueIdOrKey: key,
      transition: { id: '11' },
      update: { comment: [{ add: { body: doc('Memcheck started') } }] },
      properties: [{ key: 'runbot', value: { visit: 'memcheck-1' } }],
    });
    const after = sandbox.snapshot(key);
    expect(after?.status).toBe('Memcheck');
    expect(after?.comments.map((c) => [c.author, c.body])).toEqual([[EMAIL, doc('Memcheck started')]]);
    expect(after?.properties).toEqual({ runbot: { visit: 'memcheck-1' } });
    expect(String(after?.fields.updated) > String(before?.fields.updated)).toBe(true);
  });

  it('refuses a transition not available from the current status and changes nothing', async () => {
    const key = await createRestore('atomic-refused');
    const before = sandbox.snapshot(key);
    const body = await expectApiError(
      client.issues.doTransition({
        issueIdOrKey: key,
        transition: { id: '31' },
        update: { comment: [{ add: { body: doc('should not appear') } }] },
        properties: [{ key: 'runbot', value: { visit: 'done' } }],
      }),
      400,
    );
    expect(body).toEqual({ errorMessages: ["Transition id '31' is not valid for this issue."], errors: {} });
    expect(sandbox.snapshot(key)).toEqual(before);
  });

  it('rolls back the move when the transition comment is invalid', async () => {
    const key = await createRestore('atomic-bad-comment');
    const before = sandbox.snapshot(key);
    await expectApiError(
      client.issues.doTransition({
        issueIdOrKey: key,
        transition: { id: '11' },
        update: { comment: [{ add: { body: 'plain' } }] },
      }),
      400,
    );
    expect(sandbox.snapshot(key)).toEqual(before);
  });

  it("shows a transition screen's fields with expand=transitions.fields, shaped like FieldMetadata", async () => {
    const key = await createRestore('screen-fields');
    sandbox.moveAsHuman(key, 'Memcheck');
    sandbox.moveAsHuman(key, 'Sync');
    const plain = await client.issues.getTransitions({ issueIdOrKey: key });
    expect(plain.transitions?.find((t) => t.id === '31')).not.toHaveProperty('fields');
    const { transitions } = await client.issues.getTransitions({
      issueIdOrKey: key,
      expand: 'transitions.fields',
    });
    const finish = transitions?.find((t) => t.id === '31');
    expect(finish).toMatchObject({ hasScreen: true });
    const resolution: unknown = finish?.fields?.resolution;
    expect(resolution).toMatchObject({
      key: 'resolution',
      name: 'Resolution',
      required: true,
      hasDefaultValue: false,
      schema: { type: 'resolution', system: 'resolution' },
      allowedValues: [
        { id: '10000', name: 'Done' },
        { id: '10001', name: "Won't Do" },
      ],
    });
    expect(undeclaredKeys('FieldMetadata', resolution)).toEqual([]);
    // The same in GET issue, beside the fields (one read).
    const issue = await raw(`/rest/api/3/issue/${key}?fields=status&expand=transitions.fields`);
    const bean = (await issue.json()) as { transitions: { id: string; fields?: object }[] };
    expect(bean.transitions.find((t) => t.id === '31')?.fields).toHaveProperty('resolution');
  });

  it("refuses a move without a required screen field with Jira's 400, changing nothing", async () => {
    const key = await createRestore('screen-required');
    sandbox.moveAsHuman(key, 'Memcheck');
    sandbox.moveAsHuman(key, 'Sync');
    const before = sandbox.snapshot(key);
    const body = await expectApiError(
      client.issues.doTransition({
        issueIdOrKey: key,
        transition: { id: '31' },
        update: { comment: [{ add: { body: doc('should not appear') } }] },
      }),
      400,
    );
    expect(body).toEqual({ errorMessages: [], errors: { resolution: 'Resolution is required.' } });
    expect(sandbox.snapshot(key)).toEqual(before);
    const unknown = await expectApiError(
      client.issues.doTransition({
        issueIdOrKey: key,
        transition: { id: '31' },
        fields: { resolution: { name: 'Fixed' } },
      }),
      400,
    );
    expect(unknown).toEqual({
      errorMessages: [],
      errors: { resolution: "Could not find a Resolution with the name or id 'Fixed'." },
    });
    await client.issues.doTransition({
      issueIdOrKey: key,
      transition: { id: '31' },
      fields: { resolution: { name: 'Done' } },
    });
    expect(sandbox.snapshot(key)).toMatchObject({ status: 'Done', fields: { resolution: { name: 'Done' } } });
  });

  it('moveAsHuman follows the workflow and refuses a move it has no transition for', async () => {
    const key = await createRestore('human');
    sandbox.moveAsHuman(key, 'Actionable');
    expect(sandbox.snapshot(key)?.status).toBe('Actionable');
    expect(() => sandbox.moveAsHuman(key, 'Done')).toThrow(/no transition from 'Actionable' to 'Done'/);
    const issue = await client.issues.getIssue({ issueIdOrKey: key, fields: ['status'] });
    expect((issue.fields as FieldsJson).status.name).toBe('Actionable');
  });
});

describe('jira sandbox: comments and properties', () => {
  it('adds, lists and updates ADF comments authored by the basic-auth user', async () => {
    const key = await createRestore('comments');
    const comment = await client.issueComments.addComment({ issueIdOrKey: key, body: doc('first') });
    expect(comment).toMatchObject({ body: doc('first'), author: { emailAddress: EMAIL }, jsdPublic: true });
    expect(undeclaredKeys('Comment', comment)).toEqual([]);
    expect(undeclaredKeys('UserDetails', comment.author)).toEqual([]);

    await client.issueComments.updateComment({
      issueIdOrKey: key,
      id: comment.id ?? '',
      body: { body: doc('edited') },
    });
    const page = await client.issueComments.getComments({ issueIdOrKey: key });
    expect(page).toMatchObject({ total: 1, startAt: 0, comments: [{ id: comment.id, body: doc('edited') }] });
    expect(undeclaredKeys('PageOfComments', page)).toEqual([]);
  });

  it('embeds a partial page of comments in GET issue, like Jira, and pages the rest with startAt', async () => {
    const key = await createRestore('comment-pages');
    for (const n of [1, 2, 3, 4, 5]) {
      await client.issueComments.addComment({ issueIdOrKey: key, body: doc(`note ${n}`) });
    }
    const issue = await client.issues.getIssue({ issueIdOrKey: key, fields: ['comment'] });
    const embedded = issue.fields?.comment as unknown as {
      total: number;
      maxResults: number;
      comments: unknown[];
    };
    expect(embedded).toMatchObject({ total: 5, maxResults: 3, startAt: 0 });
    expect(embedded.comments).toHaveLength(3);
    const rest = await client.issueComments.getComments({ issueIdOrKey: key, startAt: 3, maxResults: 100 });
    expect(rest).toMatchObject({ total: 5, startAt: 3, maxResults: 3 });
    expect(rest.comments?.map((c) => c.body)).toEqual([doc('note 4'), doc('note 5')]);
  });

  it('lists the fields with their display names (GET /rest/api/3/field)', async () => {
    const fields = await client.issueFields.getFields();
    expect(fields).toContainEqual(
      expect.objectContaining({ id: SERVICE_HOSTS, name: 'Service Hosts', custom: true }),
    );
    expect(fields).toContainEqual(expect.objectContaining({ id: 'resolution', name: 'Resolution' }));
    for (const field of fields) expect(undeclaredKeys('FieldDetails', field)).toEqual([]);
  });

  it('rejects a comment over 32,767 characters and a plain-string body', async () => {
    const key = await createRestore('comment-limits');
    const tooLong = await expectApiError(
      client.issueComments.addComment({ issueIdOrKey: key, body: doc('x'.repeat(32_767)) }),
      400,
    );
    expect(tooLong).toMatchObject({ errors: { comment: expect.stringContaining('32,767') as string } });

    const stringBody = await raw(`/rest/api/3/issue/${key}/comment`, {
      method: 'POST',
      body: { body: 'plain text' },
    });
    expect(stringBody.status).toBe(400);
    expect(await stringBody.json()).toMatchObject({
      errors: { comment: expect.stringContaining('Atlassian Document') as string },
    });

    // jira.js sends a string body to REST v2, which the sandbox (v3 only) does not serve.
    await expectApiError(client.issueComments.addComment({ issueIdOrKey: key, body: 'plain text' }), 404);
    expect(sandbox.snapshot(key)?.comments).toEqual([]);
  });

  it('puts (201 then 200), gets and deletes issue properties', async () => {
    const key = await createRestore('properties');
    const path = `/rest/api/3/issue/${key}/properties/runbot`;
    expect((await raw(path, { method: 'PUT', body: { visit: 1 } })).status).toBe(201);
    expect((await raw(path, { method: 'PUT', body: { visit: 2 } })).status).toBe(200);
    const property = await client.issueProperties.getIssueProperty({
      issueIdOrKey: key,
      propertyKey: 'runbot',
    });
    expect(property).toEqual({ key: 'runbot', value: { visit: 2 } });
    await client.issueProperties.deleteIssueProperty({ issueIdOrKey: key, propertyKey: 'runbot' });
    await expectApiError(
      client.issueProperties.getIssueProperty({ issueIdOrKey: key, propertyKey: 'runbot' }),
      404,
    );
  });
});

describe('jira sandbox: authentication and bookkeeping', () => {
  it('answers 401, Jira-shaped, without or with wrong credentials', async () => {
    const anonymous = await raw('/rest/api/3/issue/RMAR-1', { authorization: null });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({
      errorMessages: [expect.stringContaining('not authenticated') as string],
    });
    const wrong = jira.createCloudClient({
      host: baseUrl,
      auth: { type: 'basic', email: EMAIL, apiToken: 'nope' },
    });
    const error = await wrong.issues.getIssue({ issueIdOrKey: 'RMAR-1' }).catch((e: unknown) => e);
    expect(jira.isAuthError(error)).toBe(true);
  });

  it('counts requests per spec path template', () => {
    const counts = sandbox.requestCounts();
    expect(counts['POST /rest/api/3/issue/{issueIdOrKey}/transitions']).toBeGreaterThanOrEqual(3);
    expect(counts['GET /rest/api/3/search/jql']).toBeGreaterThanOrEqual(3);
    expect(counts['PUT /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}']).toBeGreaterThanOrEqual(2);
    expect(sandbox.keys()).toContain('RMAR-1');
  });

  it('gave jira.js nothing its strict schema audit complained about', () => {
    // Proof the audit is on: jira.js response objects reject keys the spec does not declare.
    expect(jiraCore.apiObject({ id: z.string() }).safeParse({ id: '1', undeclared: true }).success).toBe(
      false,
    );
    const store = globalThis as unknown as Record<symbol, unknown[] | undefined>;
    expect(store[AUDIT_STORE] ?? []).toEqual([]);
  });
});
