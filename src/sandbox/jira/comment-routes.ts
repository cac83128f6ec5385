// Jira sandbox: issue comment routes (GET/POST …/comment, GET/PUT/DELETE …/comment/{id}) and
// issue entity property routes (GET …/properties, GET/PUT/DELETE …/properties/{propertyKey}).
import { checkCommentBody, checkPropertyValue, commentInput, parseBody } from './bodies.js';
import { JiraError, badRequest } from './errors.js';
import { addComment } from './fields.js';
import type { RequestContext, Route } from './http.js';
import type { SandboxState } from './state.js';
import { intParam, listParam, requireIssue } from './state.js';
import type { CommentRecord, IssueRecord } from './types.js';

const ISSUE = '/rest/api/3/issue/{issueIdOrKey}';

function commentOf(issue: IssueRecord, id: string | undefined): CommentRecord {
  const comment = issue.comments.find((c) => c.id === id);
  if (!comment) throw new JiraError(404, [`Can not find a comment for the id: ${id ?? ''}.`]);
  return comment;
}

function withProperties(context: RequestContext): boolean {
  return listParam(context.query, 'expand').includes('properties');
}

function getComments(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  const orderBy = context.query.get('orderBy');
  if (orderBy !== null && !['created', '+created', '-created'].includes(orderBy)) {
    throw badRequest(`The 'orderBy' parameter must be 'created', got '${orderBy}'.`);
  }
  const startAt = intParam(context.query, 'startAt', 0);
  const maxResults = Math.min(intParam(context.query, 'maxResults', 100), 5000);
  const ordered = orderBy === '-created' ? { ...issue, comments: [...issue.comments].reverse() } : issue;
  return {
    status: 200,
    body: state.render.pageOfComments(ordered, startAt, maxResults, withProperties(context)),
  };
}

function postComment(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  const input = parseBody(commentInput, context.body);
  const author = context.actor.email;
  const id = state.store.mutate(issue.key, (draft) => addComment(draft, input, { ...state, author }));
  const saved = requireIssue(state, issue.key);
  return { status: 201, body: state.render.comment(saved, commentOf(saved, id), withProperties(context)) };
}

function getComment(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  const comment = commentOf(issue, context.params.id);
  return { status: 200, body: state.render.comment(issue, comment, withProperties(context)) };
}

function putComment(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  commentOf(issue, context.params.id);
  const input = parseBody(commentInput, context.body);
  checkCommentBody(input.body);
  state.store.mutate(issue.key, (draft) => {
    const comment = commentOf(draft, context.params.id);
    comment.body = structuredClone(input.body);
    comment.updateAuthor = context.actor.email;
    comment.updated = state.store.now();
    if (input.visibility) comment.visibility = input.visibility;
    for (const { key, value } of input.properties ?? []) {
      checkPropertyValue(key, value);
      comment.properties[key] = structuredClone(value);
    }
  });
  const saved = requireIssue(state, issue.key);
  return {
    status: 200,
    body: state.render.comment(saved, commentOf(saved, context.params.id), withProperties(context)),
  };
}

function deleteComment(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  commentOf(issue, context.params.id);
  state.store.mutate(issue.key, (draft) => {
    draft.comments = draft.comments.filter((c) => c.id !== context.params.id);
  });
  return { status: 204 };
}

function propertyNotFound(key: string | undefined): JiraError {
  return new JiraError(404, [`The property with key '${key ?? ''}' does not exist.`]);
}

function listProperties(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  const keys = Object.keys(issue.properties).map((key) => ({
    self: state.render.url(`/rest/api/3/issue/${issue.id}/properties/${encodeURIComponent(key)}`),
    key,
  }));
  return { status: 200, body: { keys } };
}

function getProperty(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  const key = context.params.propertyKey ?? '';
  if (!(key in issue.properties)) throw propertyNotFound(key);
  return { status: 200, body: { key, value: issue.properties[key] } };
}

function putProperty(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  const key = context.params.propertyKey ?? '';
  checkPropertyValue(key, context.body);
  const existed = key in issue.properties;
  state.store.mutate(issue.key, (draft) => {
    draft.properties[key] = structuredClone(context.body);
  });
  return { status: existed ? 200 : 201 };
}

function deleteProperty(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  const key = context.params.propertyKey ?? '';
  if (!(key in issue.properties)) throw propertyNotFound(key);
  state.store.mutate(issue.key, (draft) => {
    delete draft.properties[key];
  });
  return { status: 204 };
}

export function commentRoutes(state: SandboxState): Route[] {
  const comment = `${ISSUE}/comment/{id}`;
  const property = `${ISSUE}/properties/{propertyKey}`;
  return [
    { method: 'GET', template: `${ISSUE}/comment`, handle: (c) => getComments(state, c) },
    { method: 'POST', template: `${ISSUE}/comment`, handle: (c) => postComment(state, c) },
    { method: 'GET', template: comment, handle: (c) => getComment(state, c) },
    { method: 'PUT', template: comment, handle: (c) => putComment(state, c) },
    { method: 'DELETE', template: comment, handle: (c) => deleteComment(state, c) },
    { method: 'GET', template: `${ISSUE}/properties`, handle: (c) => listProperties(state, c) },
    { method: 'GET', template: property, handle: (c) => getProperty(state, c) },
    { method: 'PUT', template: property, handle: (c) => putProperty(state, c) },
    { method: 'DELETE', template: property, handle: (c) => deleteProperty(state, c) },
  ];
}
