// Jira sites for `runbot doctor` to examine: the restore project deliberately broken in each way
// doctor checks for (`runbot sandbox --broken`, and the doctor tests), a Resolution screen on the
// moves into Done, and one ticket in each status the bot acts on, so transitions can be read.
import type { Workflow } from '../definitions/index.js';
import type { JiraSandbox, SandboxOptions, SandboxProject, ScreenField } from './jira/index.js';
import { LINK_TYPES } from './jira/store.js';
import { HOST_FIELD, RMA_PROJECT, restoreProject } from './rma-jira.js';
import type { Credentials } from './seed.js';

/** Jira's usual required field on a move into Done: Resolution, with no default. */
export const DONE_RESOLUTION: ScreenField = {
  key: 'resolution',
  name: 'Resolution',
  required: true,
  schema: { type: 'resolution', system: 'resolution' },
  allowedValues: [{ id: '10000', name: 'Done' }],
};

/** A required custom field no workflow gives a value for: the broken site's screen on moves into Done. */
const VERIFIED_BY_FIELD: ScreenField = {
  key: 'customfield_10050',
  name: 'Restore Verified By',
  required: true,
  schema: {
    type: 'string',
    custom: 'com.atlassian.jira.plugin.system.customfieldtypes:textfield',
    customId: 10050,
  },
};

/** The project with `field` on the screen of every transition into `status` (once). */
export function withTransitionScreen(
  project: SandboxProject,
  status: string,
  field: ScreenField,
): SandboxProject {
  const transitions = project.workflow.transitions.map((t) =>
    t.to === status && !(t.screen ?? []).some((f) => f.key === field.key)
      ? { ...t, screen: [...(t.screen ?? []), field] }
      : t,
  );
  return { ...project, workflow: { ...project.workflow, transitions } };
}

/** What the broken site breaks, by name, so a test can look for each. */
export interface SiteBreaks {
  missingStatus: string;
  missingTransition: { from: string; to: string };
  requiredField: { into: string; field: string };
  wrongTypeField: string;
  missingLinkType: string;
  missingPermission: string;
}

/**
 * The restore project broken once in each way doctor checks: a status missing, a transition the bot
 * takes missing, a required field on moves into Done that the workflow gives no value for, the
 * host field of the wrong type, the gate's link type missing, and no Edit issues permission.
 */
export function brokenSite(
  workflow: Workflow,
): Pick<SandboxOptions, 'projects' | 'customFields' | 'linkTypes' | 'permissions'> & { breaks: SiteBreaks } {
  const bound = Object.entries(workflow.statuses);
  const missingStatus = bound[4]?.[0] ?? bound.at(-1)?.[0] ?? workflow.done;
  const [from, binding] = bound[2] ?? bound[0] ?? ['', { next: '' }];
  const healthy = withTransitionScreen(restoreProject(workflow), workflow.done, VERIFIED_BY_FIELD);
  const gone = (name: string) => name === missingStatus;
  const project: SandboxProject = {
    ...healthy,
    workflow: {
      ...healthy.workflow,
      statuses: healthy.workflow.statuses.filter((s) => !gone(s.name)),
      transitions: healthy.workflow.transitions
        .filter((t) => !gone(t.to) && !(t.to === binding.next && t.from !== 'any' && t.from.includes(from)))
        .map((t) => (t.from === 'any' ? t : { ...t, from: t.from.filter((f) => !gone(f)) }))
        .filter((t) => t.from === 'any' || t.from.length > 0),
    },
  };
  const link = workflow.gate?.link ?? '';
  const hostField = Object.values(workflow.fields)[0] ?? HOST_FIELD.id;
  return {
    projects: [project, RMA_PROJECT],
    customFields: [{ id: hostField, name: HOST_FIELD.name, type: 'user' }],
    linkTypes: LINK_TYPES.filter((t) => t.inward !== link && t.outward !== link),
    permissions: [
      'BROWSE_PROJECTS',
      'CREATE_ISSUES',
      'TRANSITION_ISSUES',
      'ADD_COMMENTS',
      'DELETE_OWN_COMMENTS',
    ],
    breaks: {
      missingStatus,
      missingTransition: { from, to: binding.next },
      requiredField: { into: workflow.done, field: VERIFIED_BY_FIELD.key },
      wrongTypeField: hostField,
      missingLinkType: link,
      missingPermission: 'EDIT_ISSUES',
    },
  };
}

/**
 * One restore ticket in each status the bot acts on that the project has, created through the API
 * and moved there as a person would (to the failure queue, then handed back), so doctor can read
 * each status's transitions. Returns the keys by status.
 */
export async function seedOnePerStatus(
  sandbox: JiraSandbox,
  jiraUrl: string,
  credentials: Credentials,
  workflow: Workflow,
): Promise<Record<string, string>> {
  const auth = Buffer.from(`${credentials.email}:${credentials.apiToken}`).toString('base64');
  const statuses = [...(workflow.gate ? [workflow.gate.status] : []), ...Object.keys(workflow.statuses)];
  const keys: Record<string, string> = {};
  for (const status of statuses) {
    const response = await fetch(`${jiraUrl}/rest/api/3/issue`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${auth}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({
        fields: {
          project: { key: workflow.jira.project },
          issuetype: { name: workflow.jira.issue_type },
          summary: `Doctor's sample ticket in ${status}`,
        },
      }),
    });
    const created = (await response.json()) as { key?: string };
    if (!response.ok || !created.key) throw new Error(`Jira POST /issue answered ${response.status}`);
    const start = sandbox.snapshot(created.key)?.status;
    if (start !== status) {
      try {
        sandbox.moveAsHuman(created.key, workflow.failure);
        sandbox.moveAsHuman(created.key, status);
      } catch {
        continue; // the (broken) project has no such status: doctor reports that instead
      }
    }
    keys[status] = created.key;
  }
  return keys;
}
