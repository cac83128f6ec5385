// Jira sandbox: turns store records into Jira Cloud REST v3 JSON — IssueBean, StatusDetails,
// Comment, PageOfComments, IssueTransition, IssueLink — as the OpenAPI spec shapes them.
import { createHash } from 'node:crypto';
import type { IssueStore } from './store.js';
import { LINK_TYPES } from './store.js';
import type { CommentRecord, IssueRecord, SandboxTransition, ScreenField } from './types.js';
import type { WorkflowCatalog } from './workflow.js';

/** Jira's timestamp format: `2021-01-17T12:34:00.000+0000`, always UTC here. */
function jiraTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** A stable, Atlassian-looking account id for an email. */
function accountIdFor(email: string): string {
  return `712020:${createHash('sha256').update(email).digest('hex').slice(0, 32)}`;
}

// Fields a search returns for `*navigable`; `comment` is only returned when asked for.
const NOT_NAVIGABLE = new Set(['comment']);

/** Which fields to return, from Jira's `fields` parameter: names, `*all`, `*navigable`, `id`, `-name`. */
export function fieldSelector(requested: string[], fallback: '*all' | 'id'): (field: string) => boolean {
  const tokens = requested
    .flatMap((value) => value.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  const effective = tokens.length === 0 ? [fallback] : tokens;
  const named = new Set(effective.filter((t) => !t.startsWith('*') && !t.startsWith('-') && t !== 'id'));
  const excluded = new Set(effective.filter((t) => t.startsWith('-')).map((t) => t.slice(1)));
  const all = effective.includes('*all');
  const onlyExclusions = named.size === 0 && excluded.size > 0 && !all;
  const navigable = effective.includes('*navigable') || onlyExclusions;
  return (field) => {
    if (excluded.has(field)) return false;
    return all || named.has(field) || (navigable && !NOT_NAVIGABLE.has(field));
  };
}

export class JiraRenderer {
  constructor(
    private readonly catalog: WorkflowCatalog,
    private readonly store: IssueStore,
    private readonly baseUrl: () => string,
    private readonly commentPageMax = 5000,
  ) {}

  url(path: string): string {
    return `${this.baseUrl()}${path}`;
  }

  user(email: string): Record<string, unknown> {
    const accountId = accountIdFor(email);
    return {
      self: this.url(`/rest/api/3/user?accountId=${accountId}`),
      accountId,
      emailAddress: email,
      displayName: email.split('@')[0] ?? email,
      active: true,
      timeZone: 'UTC',
      accountType: 'atlassian',
    };
  }

  /** A user known only by account id (an assignee set through the API), shaped like the spec's User. */
  userById(accountId: string): Record<string, unknown> {
    return {
      self: this.url(`/rest/api/3/user?accountId=${accountId}`),
      accountId,
      displayName: accountId,
      active: true,
      timeZone: 'UTC',
      accountType: 'atlassian',
    };
  }

  status(name: string): Record<string, unknown> {
    const status = this.catalog.status(name);
    const { id, key, name: categoryName, colorName } = status.category;
    return {
      self: this.url(`/rest/api/3/status/${status.id}`),
      description: '',
      iconUrl: this.url('/images/icons/statuses/generic.png'),
      name: status.name,
      id: status.id,
      statusCategory: {
        self: this.url(`/rest/api/3/statuscategory/${id}`),
        id,
        key,
        colorName,
        name: categoryName,
      },
    };
  }

  issueType(name: string): Record<string, unknown> {
    const id = this.catalog.issueTypeId(name);
    return {
      self: this.url(`/rest/api/3/issuetype/${id}`),
      id,
      description: '',
      iconUrl: this.url(`/rest/api/2/universal_avatar/view/type/issuetype/avatar/${id}`),
      name,
      subtask: false,
      hierarchyLevel: 0,
    };
  }

  project(key: string): Record<string, unknown> {
    const project = this.catalog.project(key);
    return {
      self: this.url(`/rest/api/3/project/${project.id}`),
      id: project.id,
      key: project.key,
      name: project.name,
      projectTypeKey: project.project.projectTypeKey ?? 'service_desk',
      simplified: false,
    };
  }

  comment(issue: IssueRecord, comment: CommentRecord, withProperties = false): Record<string, unknown> {
    const internal = (comment.properties['sd.public.comment'] as { internal?: unknown } | undefined)
      ?.internal;
    return {
      self: this.url(`/rest/api/3/issue/${issue.id}/comment/${comment.id}`),
      id: comment.id,
      author: this.user(comment.author),
      body: comment.body,
      updateAuthor: this.user(comment.updateAuthor),
      created: jiraTime(comment.created),
      updated: jiraTime(comment.updated),
      jsdPublic: internal !== true,
      ...(comment.visibility ? { visibility: comment.visibility } : {}),
      ...(withProperties
        ? { properties: Object.entries(comment.properties).map(([key, value]) => ({ key, value })) }
        : {}),
    };
  }

  fieldMetadata(field: ScreenField): Record<string, unknown> {
    return {
      key: field.key,
      name: field.name,
      required: field.required,
      schema: field.schema,
      operations: ['set'],
      hasDefaultValue: field.defaultValue !== undefined,
      ...(field.defaultValue ? { defaultValue: this.screenValue(field.key, field.defaultValue) } : {}),
      ...(field.allowedValues
        ? { allowedValues: field.allowedValues.map((value) => this.screenValue(field.key, value)) }
        : {}),
    };
  }

  /** An allowed value of a screen field as Jira shows it (a resolution: self, id, name). */
  screenValue(key: string, value: { id: string; name: string }): Record<string, unknown> {
    return { self: this.url(`/rest/api/3/${key}/${value.id}`), id: value.id, name: value.name };
  }

  pageOfComments(issue: IssueRecord, startAt: number, maxResults: number, withProperties = false): object {
    maxResults = Math.min(maxResults, this.commentPageMax);
    const page = issue.comments.slice(startAt, startAt + maxResults);
    return {
      comments: page.map((c) => this.comment(issue, c, withProperties)),
      maxResults,
      total: issue.comments.length,
      startAt,
    };
  }

  /** IssueTransition; with `withFields` (expand=transitions.fields) its screen's FieldMetadata. */
  transition(transition: SandboxTransition, withFields = false): Record<string, unknown> {
    const screen = transition.screen ?? [];
    return {
      id: transition.id,
      name: transition.name,
      to: this.status(transition.to),
      hasScreen: screen.length > 0,
      ...(withFields
        ? { fields: Object.fromEntries(screen.map((field) => [field.key, this.fieldMetadata(field)])) }
        : {}),
      isGlobal: transition.from === 'any',
      isInitial: false,
      isAvailable: true,
      isConditional: false,
      looped: false,
    };
  }

  /** The `issuelinks` field: each link seen from `issue`, naming the other issue on its side. */
  issueLinks(issue: IssueRecord): Record<string, unknown>[] {
    return this.store.linksOf(issue.key).map((link) => {
      const type = LINK_TYPES.find((t) => t.name === link.typeName) ?? LINK_TYPES[0];
      const outward = link.outwardKey === issue.key;
      const other = outward ? link.inwardKey : link.outwardKey;
      return {
        id: link.id,
        self: this.url(`/rest/api/3/issueLink/${link.id}`),
        type: { ...type, self: this.url(`/rest/api/3/issueLinkType/${type?.id ?? ''}`) },
        [outward ? 'outwardIssue' : 'inwardIssue']: this.linkedIssue(other),
      };
    });
  }

  /** Every field of the issue, as GET issue with `fields=*all` returns them. */
  fields(issue: IssueRecord): Record<string, unknown> {
    return {
      summary: issue.summary,
      description: issue.description ?? null,
      status: this.status(issue.status),
      issuetype: this.issueType(issue.issueType),
      project: this.project(issue.projectKey),
      labels: [...issue.labels],
      assignee: issue.assignee === undefined ? null : this.userById(issue.assignee),
      duedate: issue.duedate ?? null,
      issuelinks: this.issueLinks(issue),
      comment: this.pageOfComments(issue, 0, 5000),
      created: jiraTime(issue.created),
      updated: jiraTime(issue.updated),
      ...structuredClone(issue.custom),
    };
  }

  issueBean(issue: IssueRecord, wantField: (field: string) => boolean, propertyKeys: string[]): object {
    const fields = Object.fromEntries(Object.entries(this.fields(issue)).filter(([name]) => wantField(name)));
    const wantAll = propertyKeys.includes('*all');
    const properties = Object.fromEntries(
      Object.entries(issue.properties).filter(([key]) => wantAll || propertyKeys.includes(key)),
    );
    return {
      expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
      id: issue.id,
      self: this.url(`/rest/api/3/issue/${issue.id}`),
      key: issue.key,
      ...(Object.keys(fields).length > 0 ? { fields } : {}),
      ...(propertyKeys.length > 0 ? { properties } : {}),
    };
  }

  private linkedIssue(key: string): Record<string, unknown> {
    const issue = this.store.find(key);
    if (!issue) return { key };
    return {
      id: issue.id,
      key: issue.key,
      self: this.url(`/rest/api/3/issue/${issue.id}`),
      fields: {
        summary: issue.summary,
        status: this.status(issue.status),
        issuetype: this.issueType(issue.issueType),
      },
    };
  }
}
