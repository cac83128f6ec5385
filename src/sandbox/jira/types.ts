// Jira sandbox: the public configuration types and the in-memory records the store keeps.
// Records hold what Jira would persist; the Jira JSON shapes are produced from them in render.ts.

export interface SandboxStatus {
  name: string;
  category: 'new' | 'indeterminate' | 'done';
}

/** A field on a transition's screen, as Jira's FieldMetadata describes it. */
export interface ScreenField {
  /** Field id, e.g. resolution. */
  key: string;
  /** Display name, e.g. Resolution. */
  name: string;
  required: boolean;
  /** Jira's JsonTypeBean of the field, e.g. { type: 'resolution', system: 'resolution' }. */
  schema: { type: string; system?: string; custom?: string; customId?: number };
  /** The values the screen accepts, e.g. resolutions `{ id, name }`; a value is given by id or name. */
  allowedValues?: { id: string; name: string }[];
  /** Jira fills the field itself when the move gives no value. */
  defaultValue?: { id: string; name: string };
}

export interface SandboxTransition {
  id: string;
  name: string;
  to: string;
  from: string[] | 'any';
  /** The transition's screen: its fields, required ones refused with Jira's 400 when missing. */
  screen?: ScreenField[];
}

/** A custom field as GET /rest/api/3/field describes it; values are stored as sent. */
export interface SandboxCustomField {
  id: string;
  name: string;
  /** JsonTypeBean `type` (default `string`), e.g. `number`, `user`, `array`. */
  type?: string;
  /** For `array`: the items' type, e.g. `string`, `option`. */
  items?: string;
}

export interface SandboxWorkflow {
  statuses: SandboxStatus[];
  transitions: SandboxTransition[];
  initial: string;
}

export interface SandboxProject {
  key: string;
  name: string;
  /** Jira's project type (default service_desk, like the seed's service desk). */
  projectTypeKey?: 'service_desk' | 'software' | 'business';
  issueTypes: string[];
  workflow: SandboxWorkflow;
}

/** Jira's bad days, on demand: rate limits, outages and slowness, decided per request. */
export interface SandboxFaults {
  /** Share of requests answered 429 with `Retry-After` (0…1, default 0). */
  rateLimitRate?: number;
  /** The `Retry-After` those 429s carry, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** Share of requests answered 500, 502 or 503 before doing anything (0…1, default 0). */
  serverErrorRate?: number;
  /** Delay before every answer, in milliseconds (default 0). */
  latencyMs?: number;
  /** The `Retry-After` (seconds) the injected 503s carry, as Jira's do when a resource limit is hit (default none). */
  serverErrorRetryAfterSeconds?: number;
  /** The `RateLimit-Reason` the 429s carry (default `jira-burst-based`). */
  rateLimitReason?: string;
  /** Every served answer says `X-RateLimit-NearLimit: true` with this many calls left (default: not near). */
  nearLimitRemaining?: number;
}

export interface SandboxOptions {
  projects: SandboxProject[];
  /** Custom fields issues may carry, e.g. `{ id: 'customfield_10042', name: 'Service Hosts' }` (free values). */
  customFields?: SandboxCustomField[];
  /** Issue link types of the site (default Blocks and Relates, as a fresh Jira Cloud site has). */
  linkTypes?: LinkType[];
  /** Project permissions every caller holds (GET /mypermissions); default all the bot uses. */
  permissions?: string[];
  /** When set, every request needs HTTP basic auth with these; otherwise 401 like Jira. */
  credentials?: { email: string; apiToken: string };
  /** Scoped / service-account API tokens accepted as `Authorization: Bearer` under `/ex/jira/{cloudId}`. */
  bearerTokens?: string[];
  /** The cloud id the gateway prefix `/ex/jira/{cloudId}` must name (default `sandbox-cloud`). */
  cloudId?: string;
  /** OAuth 2.0 client credentials `POST /oauth/token` accepts; its tokens work under the gateway prefix. */
  oauthClients?: { clientId: string; clientSecret: string }[];
  /** Lifetime of the OAuth access tokens it issues, in seconds (default 3600, like Atlassian's). */
  oauthTokenTtlSeconds?: number;
  /** Largest page the enhanced search returns (default 100). */
  searchPageMax?: number;
  /** Most comments GET issue embeds and GET …/comment returns per page (default 5000, Jira's). */
  commentPageMax?: number;
  /** Search sees a write only this many milliseconds after it happened (default 0), like Jira's index. */
  searchLagMs?: number;
  /** Clock for timestamps and search lag (default Date.now). */
  now?: () => number;
  /** Injected failures and latency (default none); change them later with `setFaults`. */
  faults?: SandboxFaults;
  /** Decides which requests fail (default Math.random); tests pin it. */
  random?: () => number;
}

/** Who may call the sandbox, and how (see auth.ts). */
export type SandboxAuthOptions = Pick<
  SandboxOptions,
  'credentials' | 'bearerTokens' | 'cloudId' | 'oauthClients' | 'oauthTokenTtlSeconds'
>;

export interface IssueSnapshot {
  key: string;
  status: string;
  labels: string[];
  fields: Record<string, unknown>;
  comments: { id: string; author: string; body: unknown; created: string }[];
  properties: Record<string, unknown>;
}

/** Who made a request: the basic-auth email, or anonymous when the sandbox has no credentials. */
export interface Actor {
  email: string;
}

export interface CommentRecord {
  id: string;
  author: string;
  updateAuthor: string;
  body: unknown;
  created: number;
  updated: number;
  visibility?: { type?: string; value?: string; identifier?: string } | undefined;
  properties: Record<string, unknown>;
}

export interface IssueRecord {
  id: string;
  key: string;
  projectKey: string;
  issueType: string;
  status: string;
  summary: string;
  description: unknown;
  labels: string[];
  custom: Record<string, unknown>;
  /** Account id of the assignee (PUT issue `fields.assignee`). */
  assignee?: string;
  /** Due date, `yyyy-MM-dd` (PUT issue `fields.duedate`). */
  duedate?: string;
  created: number;
  updated: number;
  comments: CommentRecord[];
  properties: Record<string, unknown>;
}

export interface LinkRecord {
  id: string;
  typeName: string;
  /** The "from" issue: it `blocks` the inward one (spec: "the from (outward) issue"). */
  outwardKey: string;
  inwardKey: string;
}

export interface LinkType {
  id: string;
  name: string;
  inward: string;
  outward: string;
}
