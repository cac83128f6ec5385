// Jira sandbox: issue routes — create (POST /issue), read and edit (GET/PUT /issue/{issueIdOrKey}),
// workflow transitions (GET/POST …/transitions) and issue links (POST /issueLink).
import { issueUpdateDetails, linkIssueRequest, parseBody } from './bodies.js';
import { JiraError, badRequest, fieldError, issueNotFound } from './errors.js';
import { addComment, applyFieldChanges, setProperties } from './fields.js';
import type { FieldContext } from './fields.js';
import type { RequestContext, Route } from './http.js';
import { fieldSelector } from './render.js';
import type { SandboxState } from './state.js';
import { listParam, requireIssue } from './state.js';
import type { IssueRecord, SandboxTransition } from './types.js';

const ISSUE = '/rest/api/3/issue/{issueIdOrKey}';

function fieldContext(state: SandboxState, context: RequestContext): FieldContext {
  return { customFieldIds: state.customFieldIds, store: state.store, author: context.actor.email };
}

function nameOrId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const ref = value as { key?: unknown; name?: unknown; id?: unknown };
  const found = ref.key ?? ref.name ?? ref.id;
  return typeof found === 'string' ? found : undefined;
}

function createIssue(state: SandboxState, context: RequestContext) {
  const body = parseBody(issueUpdateDetails, context.body);
  const { project: projectRef, issuetype: typeRef, ...fields } = body.fields ?? {};
  const projectName = nameOrId(projectRef);
  const project = projectName === undefined ? undefined : state.catalog.findProject(projectName);
  if (!project) throw fieldError('project', 'Specify a valid project ID or key');
  const typeName = nameOrId(typeRef);
  const issueType = project.project.issueTypes.find((t) => t.toLowerCase() === typeName?.toLowerCase());
  if (!issueType) throw fieldError('issuetype', 'Specify an issue type');
  if (!('summary' in fields)) throw fieldError('summary', 'You must specify a summary of the issue.');
  const draft: IssueRecord = {
    id: '',
    key: '',
    projectKey: project.key,
    issueType,
    status: project.project.workflow.initial,
    summary: '',
    description: null,
    labels: [],
    custom: {},
    created: 0,
    updated: 0,
    comments: [],
    properties: {},
  };
  applyFieldChanges(draft, fields, body.update, fieldContext(state, context));
  setProperties(draft, body.properties);
  const { projectKey, status, summary, description, labels, custom } = draft;
  const created = state.store.create({ projectKey, issueType, status, summary, description, labels, custom });
  if (Object.keys(draft.properties).length > 0 || draft.comments.length > 0) {
    state.store.mutate(created.key, (issue) => {
      issue.properties = draft.properties;
      issue.comments = draft.comments;
    });
  }
  return {
    status: 201,
    body: { id: created.id, key: created.key, self: state.render.url(`/rest/api/3/issue/${created.id}`) },
  };
}

function getIssue(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  const wanted = fieldSelector(listParam(context.query, 'fields'), '*all');
  const bean = state.render.issueBean(issue, wanted, listParam(context.query, 'properties'));
  const expand = listParam(context.query, 'expand');
  const withFields = expand.includes('transitions.fields');
  if (!expand.includes('transitions') && !withFields) return { status: 200, body: bean };
  // expand=transitions: the transitions available now, in the same read as the status;
  // transitions.fields adds each one's screen fields.
  const transitions = state.catalog.availableTransitions(issue.projectKey, issue.status);
  return {
    status: 200,
    body: { ...bean, transitions: transitions.map((t) => state.render.transition(t, withFields)) },
  };
}

function editIssue(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  const body = parseBody(issueUpdateDetails, context.body);
  state.store.mutate(issue.key, (draft) => {
    applyFieldChanges(draft, body.fields, body.update, fieldContext(state, context));
    setProperties(draft, body.properties);
  });
  return { status: 204 };
}

function getTransitions(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  const only = context.query.get('transitionId');
  const available = state.catalog
    .availableTransitions(issue.projectKey, issue.status)
    .filter((t) => only === null || t.id === only);
  const withFields = listParam(context.query, 'expand').includes('transitions.fields');
  return {
    status: 200,
    body: {
      expand: 'transitions',
      transitions: available.map((t) => state.render.transition(t, withFields)),
    },
  };
}

/** Moves the issue and applies comment, fields and properties in one step — all or nothing. */
function doTransition(state: SandboxState, context: RequestContext) {
  const issue = requireIssue(state, context.params.issueIdOrKey);
  const body = parseBody(issueUpdateDetails, context.body);
  const id = body.transition?.id;
  if (id === undefined) throw badRequest("Missing 'transition' identifier");
  const transition = state.catalog
    .availableTransitions(issue.projectKey, issue.status)
    .find((t) => t.id === id);
  if (!transition) throw badRequest(`Transition id '${id}' is not valid for this issue.`);
  const { screenValues, otherFields } = screenFields(transition, body.fields);
  state.store.mutate(issue.key, (draft) => {
    draft.status = state.catalog.status(transition.to).name;
    Object.assign(draft.custom, screenValues);
    applyFieldChanges(draft, otherFields, body.update, fieldContext(state, context));
    setProperties(draft, body.properties);
  });
  return { status: 204 };
}

/**
 * The values a transition's screen takes (checked: every required field given, or defaulted; a value
 * must be one of the allowed ones, by id or name), apart from the other fields of the body. Jira
 * answers a missing required field with 400 and `errors: {field: "<Name> is required."}`.
 */
function screenFields(transition: SandboxTransition, fields: Record<string, unknown> | undefined) {
  const errors: Record<string, string> = {};
  const screenValues: Record<string, unknown> = {};
  const otherFields = { ...fields };
  for (const field of transition.screen ?? []) {
    const given = otherFields[field.key];
    delete otherFields[field.key];
    if (given === undefined || given === null) {
      if (field.defaultValue) screenValues[field.key] = { ...field.defaultValue };
      else if (field.required) errors[field.key] = `${field.name} is required.`;
      continue;
    }
    const wanted = nameOrId(given);
    const value = field.allowedValues
      ? field.allowedValues.find((allowed) => allowed.id === wanted || allowed.name === wanted)
      : given;
    if (value === undefined)
      errors[field.key] = `Could not find a ${field.name} with the name or id '${wanted ?? ''}'.`;
    else screenValues[field.key] = structuredClone(value);
  }
  if (Object.keys(errors).length > 0) throw new JiraError(400, [], errors);
  return { screenValues, otherFields };
}

function linkIssues(state: SandboxState, context: RequestContext) {
  const body = parseBody(linkIssueRequest, context.body);
  const wanted = (body.type.name ?? body.type.id ?? '').toLowerCase();
  const type = state.linkTypes.find((t) => t.name.toLowerCase() === wanted || t.id === wanted);
  if (!type)
    throw new JiraError(404, [`No issue link type with name '${body.type.name ?? body.type.id}' found.`]);
  const find = (ref: { id?: string | undefined; key?: string | undefined }) => {
    const found = state.store.find(ref.key ?? ref.id ?? '');
    if (!found) throw issueNotFound();
    return found;
  };
  const outward = find(body.outwardIssue);
  const inward = find(body.inwardIssue);
  if (body.comment) {
    const comment = body.comment;
    // The spec: the optional comment goes on the "from" (outward) issue; checked before linking.
    state.store.mutate(outward.key, (draft) => addComment(draft, comment, fieldContext(state, context)));
  }
  state.store.addLink(type.name, outward.key, inward.key);
  return { status: 201 };
}

export function issueRoutes(state: SandboxState): Route[] {
  return [
    { method: 'POST', template: '/rest/api/3/issue', handle: (c) => createIssue(state, c) },
    { method: 'GET', template: ISSUE, handle: (c) => getIssue(state, c) },
    { method: 'PUT', template: ISSUE, handle: (c) => editIssue(state, c) },
    { method: 'GET', template: `${ISSUE}/transitions`, handle: (c) => getTransitions(state, c) },
    { method: 'POST', template: `${ISSUE}/transitions`, handle: (c) => doTransition(state, c) },
    { method: 'POST', template: '/rest/api/3/issueLink', handle: (c) => linkIssues(state, c) },
    // The caller (runbot's /readyz probes Jira with it: cheap, and proves the credentials work).
    {
      method: 'GET',
      template: '/rest/api/3/myself',
      // The spec's User, as for any account (render.user), so the probe reads what Jira sends.
      handle: (c) => ({ status: 200, body: state.render.user(c.actor.email) }),
    },
  ];
}
