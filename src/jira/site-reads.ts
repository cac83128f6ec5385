// Read-only calls about the Jira site itself (who the bot is, what it may do, which statuses, fields,
// link types and transitions exist), for `runbot doctor`. Every one is a GET through the adapter's
// one call wrapper (backoff, counting, JiraRequestError), mapped to small lenient shapes here.
import type { createCloudClient } from 'jira.js';
import { z } from 'zod';

type Client = ReturnType<typeof createCloudClient>;
/** The adapter's wrapper: retries, counts and turns failures into JiraRequestError. */
type Call = <T>(endpoint: string, issueKey: string | undefined, send: () => Promise<T>) => Promise<T>;

const SITE_ENDPOINT = {
  myself: 'GET /rest/api/3/myself',
  projectStatuses: 'GET /rest/api/3/project/{projectIdOrKey}/statuses',
  fields: 'GET /rest/api/3/field',
  linkTypes: 'GET /rest/api/3/issueLinkType',
  myPermissions: 'GET /rest/api/3/mypermissions',
  search: 'GET /rest/api/3/search/jql',
  transitions: 'GET /rest/api/3/issue/{issueIdOrKey}/transitions',
} as const;

const Named = z.looseObject({ name: z.string() });

const IssueTypeStatusesSchema = z.array(z.looseObject({ name: z.string(), statuses: z.array(Named) }));

const FieldSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  custom: z.boolean().optional(),
  schema: z.looseObject({ type: z.string(), items: z.string().optional() }).optional(),
});

const LinkTypesSchema = z.looseObject({
  issueLinkTypes: z.array(z.looseObject({ name: z.string(), inward: z.string(), outward: z.string() })),
});

const PermissionsSchema = z.looseObject({
  permissions: z.record(z.string(), z.looseObject({ havePermission: z.boolean().optional() })),
});

const MyselfSchema = z.looseObject({
  accountId: z.string(),
  displayName: z.string().optional(),
  emailAddress: z.string().optional(),
});

const TransitionFieldSchema = z.looseObject({
  name: z.string(),
  required: z.boolean(),
  hasDefaultValue: z.boolean().optional(),
  allowedValues: z
    .array(
      z.looseObject({ id: z.string().optional(), name: z.string().optional(), value: z.string().optional() }),
    )
    .optional(),
});

const TransitionsWithFieldsSchema = z.looseObject({
  transitions: z.array(
    z.looseObject({
      id: z.string(),
      name: z.string().optional(),
      to: Named,
      isAvailable: z.boolean().optional(),
      hasScreen: z.boolean().optional(),
      fields: z.record(z.string(), TransitionFieldSchema).optional(),
    }),
  ),
});

const SearchSchema = z.looseObject({ issues: z.array(z.looseObject({ key: z.string() })).optional() });

export type SiteField = z.infer<typeof FieldSchema>;
export type SiteTransition = z.infer<typeof TransitionsWithFieldsSchema>['transitions'][number];

export interface SiteReads {
  /** The account the credentials belong to (GET /myself). */
  myself(): Promise<{ accountId: string; displayName?: string | undefined }>;
  /** Each issue type of the project with the statuses its workflow has. */
  projectStatuses(project: string): Promise<{ name: string; statuses: string[] }[]>;
  fields(): Promise<SiteField[]>;
  linkTypes(): Promise<{ name: string; inward: string; outward: string }[]>;
  /** Which of `keys` the bot's account holds in the project. */
  myPermissions(project: string, keys: string[]): Promise<Record<string, boolean>>;
  /** The key of one issue matching `jql` (the most recently updated), if any. */
  findOneIssue(jql: string): Promise<string | undefined>;
  /** The transitions available from the issue's status now, each with its screen's fields. */
  transitionsWithFields(key: string): Promise<SiteTransition[]>;
}

function parsed<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const result = schema.safeParse(raw);
  if (!result.success)
    throw new Error(`Jira answered ${what} in an unexpected shape: ${result.error.message}`);
  return result.data;
}

export function siteReads(client: Client, call: Call): SiteReads {
  return {
    async myself() {
      const raw = await call(SITE_ENDPOINT.myself, undefined, () => client.myself.getCurrentUser());
      return parsed(MyselfSchema, raw, SITE_ENDPOINT.myself);
    },

    async projectStatuses(project) {
      const raw = await call(SITE_ENDPOINT.projectStatuses, undefined, () =>
        client.projects.getAllStatuses({ projectIdOrKey: project }),
      );
      return parsed(IssueTypeStatusesSchema, raw, SITE_ENDPOINT.projectStatuses).map((type) => ({
        name: type.name,
        statuses: type.statuses.map((status) => status.name),
      }));
    },

    async fields() {
      const raw = await call(SITE_ENDPOINT.fields, undefined, () => client.issueFields.getFields());
      return parsed(z.array(FieldSchema), raw, SITE_ENDPOINT.fields);
    },

    async linkTypes() {
      const raw = await call(SITE_ENDPOINT.linkTypes, undefined, () =>
        client.issueLinkTypes.getIssueLinkTypes(),
      );
      return parsed(LinkTypesSchema, raw, SITE_ENDPOINT.linkTypes).issueLinkTypes;
    },

    async myPermissions(project, keys) {
      const raw = await call(SITE_ENDPOINT.myPermissions, undefined, () =>
        client.permissions.getMyPermissions({ projectKey: project, permissions: keys.join(',') }),
      );
      const { permissions } = parsed(PermissionsSchema, raw, SITE_ENDPOINT.myPermissions);
      return Object.fromEntries(keys.map((key) => [key, permissions[key]?.havePermission === true]));
    },

    async findOneIssue(jql) {
      const raw = await call(SITE_ENDPOINT.search, undefined, () =>
        client.issueSearch.searchAndReconsileIssuesUsingJql({ jql, fields: ['status'], maxResults: 1 }),
      );
      return parsed(SearchSchema, raw, SITE_ENDPOINT.search).issues?.[0]?.key;
    },

    async transitionsWithFields(key) {
      const raw = await call(SITE_ENDPOINT.transitions, key, () =>
        client.issues.getTransitions({ issueIdOrKey: key, expand: 'transitions.fields' }),
      );
      return parsed(TransitionsWithFieldsSchema, raw, SITE_ENDPOINT.transitions).transitions;
    },
  };
}
