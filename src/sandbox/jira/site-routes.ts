// Jira sandbox: the site's configuration as a caller reads it (what `runbot doctor` checks; the
// fields are field-routes.ts's) — a project's statuses per issue type, the issue link types, and the
// caller's project permissions — shaped as the spec's IssueTypeWithStatus, IssueLinkTypes and
// Permissions.
import { JiraError } from './errors.js';
import type { RequestContext, Route } from './http.js';
import type { SandboxState } from './state.js';
import { listParam } from './state.js';

/** The project permissions a caller holds unless the sandbox is told otherwise. */
export const DEFAULT_PERMISSIONS = [
  'BROWSE_PROJECTS',
  'CREATE_ISSUES',
  'EDIT_ISSUES',
  'TRANSITION_ISSUES',
  'ADD_COMMENTS',
  'LINK_ISSUES',
  'DELETE_OWN_COMMENTS',
];

// Jira Cloud's ids and names of the project permissions (GET /rest/api/3/permissions).
const PERMISSIONS: Record<string, { id: string; name: string; description: string }> = {
  BROWSE_PROJECTS: { id: '10', name: 'Browse Projects', description: 'Ability to browse projects.' },
  CREATE_ISSUES: { id: '11', name: 'Create Issues', description: 'Ability to create issues.' },
  EDIT_ISSUES: { id: '12', name: 'Edit Issues', description: 'Ability to edit issues.' },
  ADD_COMMENTS: { id: '15', name: 'Add Comments', description: 'Ability to comment on issues.' },
  LINK_ISSUES: { id: '21', name: 'Link Issues', description: 'Ability to link issues.' },
  TRANSITION_ISSUES: { id: '46', name: 'Transition Issues', description: 'Ability to transition issues.' },
  DELETE_OWN_COMMENTS: {
    id: '37',
    name: 'Delete Own Comments',
    description: 'Ability to delete own comments made on issues.',
  },
};

function projectStatuses(state: SandboxState, context: RequestContext) {
  const info = state.catalog.findProject(context.params.projectIdOrKey ?? '');
  if (!info)
    throw new JiraError(404, [`No project could be found with key '${context.params.projectIdOrKey}'.`]);
  const statuses = info.project.workflow.statuses.map((status) => state.render.status(status.name));
  return {
    status: 200,
    body: info.project.issueTypes.map((name) => {
      const id = state.catalog.issueTypeId(name);
      return { id, name, self: state.render.url(`/rest/api/3/issuetype/${id}`), subtask: false, statuses };
    }),
  };
}

function linkTypes(state: SandboxState) {
  return {
    status: 200,
    body: {
      issueLinkTypes: state.linkTypes.map((type) => ({
        ...type,
        self: state.render.url(`/rest/api/3/issueLinkType/${type.id}`),
      })),
    },
  };
}

function myPermissions(state: SandboxState, context: RequestContext) {
  const projectKey = context.query.get('projectKey');
  if (projectKey !== null && !state.catalog.findProject(projectKey)) {
    throw new JiraError(404, [`No project could be found with key '${projectKey}'.`]);
  }
  const wanted = listParam(context.query, 'permissions');
  // Jira Cloud refuses the call without `permissions` (too costly to list them all).
  if (wanted.length === 0) throw new JiraError(400, ["The 'permissions' query parameter is required."]);
  const unknown = wanted.filter((key) => !PERMISSIONS[key]);
  if (unknown.length > 0) throw new JiraError(404, [`Permission(s) not found: ${unknown.join(', ')}.`]);
  return {
    status: 200,
    body: {
      permissions: Object.fromEntries(
        wanted.map((key) => {
          const known = PERMISSIONS[key] ?? { id: '0', name: key, description: '' };
          return [key, { ...known, key, type: 'PROJECT', havePermission: state.permissions.has(key) }];
        }),
      ),
    },
  };
}

export function siteRoutes(state: SandboxState): Route[] {
  return [
    {
      method: 'GET',
      template: '/rest/api/3/project/{projectIdOrKey}/statuses',
      handle: (c) => projectStatuses(state, c),
    },
    { method: 'GET', template: '/rest/api/3/issueLinkType', handle: () => linkTypes(state) },
    { method: 'GET', template: '/rest/api/3/mypermissions', handle: (c) => myPermissions(state, c) },
  ];
}
