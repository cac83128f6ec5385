// `runbot doctor`: checks a Jira site against the workflows before the bot runs there, read-only
// (GET calls only), and says for each problem what to change. One row per check: the auth, each
// status the workflow names, each transition the bot takes (with the fields its screen requires),
// the input fields and their types, the gate's link type, and the bot's project permissions. The
// checks live by subject: transitions in doctor-transitions.ts, fields and the link type in
// doctor-fields.ts, the rows and their table in doctor-rows.ts; auth, the project, its statuses and
// the permissions here.
import type { Workflow } from '../definitions/index.js';
import { checkFields, checkLinkType } from './doctor-fields.js';
import { asError, failedRead, ok, problem, quoted, type DoctorRow } from './doctor-rows.js';
import { checkTransitionTargets, checkTransitions } from './doctor-transitions.js';
import { JiraRequestError } from './errors.js';
import type { SiteField, SiteReads } from './site-reads.js';

export type { DoctorResult, DoctorRow } from './doctor-rows.js';
export { formatDoctorTable } from './doctor-rows.js';

/** The project permissions the bot uses, and what for. */
const BOT_PERMISSIONS: Record<string, string> = {
  BROWSE_PROJECTS: 'Browse projects (search and read tickets)',
  TRANSITION_ISSUES: 'Transition issues (move tickets along the runbook)',
  ADD_COMMENTS: 'Add comments (report each step)',
  EDIT_ISSUES: "Edit issues (write the bot's bookkeeping issue property)",
  DELETE_OWN_COMMENTS:
    'Delete own comments (in a service project, the copy of a report when two jobs of one visit raced)',
};

/** Runs every check against the site; rows in the order a person fixes them (auth first). */
export async function runDoctor(jira: SiteReads, workflows: Workflow[]): Promise<DoctorRow[]> {
  const auth = await checkAuth(jira);
  if (auth.result !== 'ok') return [auth];
  const rows: DoctorRow[] = [auth];
  let fields: SiteField[] | Error | undefined;
  let linkTypes: Awaited<ReturnType<SiteReads['linkTypes']>> | Error | undefined;
  for (const workflow of workflows) {
    rows.push(...(await checkProject(jira, workflow)));
    fields ??= await jira.fields().catch(asError);
    rows.push(...checkFields(workflow, fields));
    if (workflow.gate) {
      linkTypes ??= await jira.linkTypes().catch(asError);
      rows.push(checkLinkType(workflow, workflow.gate.link, linkTypes));
    }
    rows.push(...(await checkPermissions(jira, workflow)));
  }
  return rows;
}

async function checkAuth(jira: SiteReads): Promise<DoctorRow> {
  const check = 'auth (GET /myself)';
  try {
    const me = await jira.myself();
    return ok(check, `authenticated as ${me.displayName ?? me.accountId} (${me.accountId})`);
  } catch (error) {
    if (error instanceof JiraRequestError && error.status === 401) {
      return problem(
        check,
        'Jira answered 401: the credentials were refused',
        // The auth mode's own variables (basic, bearer or OAuth), as the adapter's errors name them.
        `${error.hint} No other check ran.`,
      );
    }
    return problem(
      check,
      `no answer: ${asError(error).message}`,
      'check JIRA_URL and that this machine reaches Jira; no other check ran',
    );
  }
}

/** Every status the workflow names, with what it is for, in the order a ticket meets them. */
function namedStatuses(workflow: Workflow): Map<string, string[]> {
  const roles = new Map<string, string[]>();
  const add = (status: string, role: string) => roles.set(status, [...(roles.get(status) ?? []), role]);
  if (workflow.gate) {
    add(workflow.gate.status, 'gate');
    add(workflow.gate.next, `next of ${workflow.gate.status}`);
  }
  for (const [status, binding] of Object.entries(workflow.statuses)) {
    add(status, `step ${binding.step}`);
    add(binding.next, `next of ${status}`);
  }
  if (workflow.approval) {
    add(workflow.approval.status, 'approval: plans wait here');
    add(workflow.approval.approved, 'approval: a person approves');
  }
  add(workflow.failure, 'failure');
  add(workflow.done, 'done');
  // A status with a role of its own is named by it; "next of" only for one that is nothing else.
  for (const [status, list] of roles) {
    const own = list.filter((role) => !role.startsWith('next of '));
    if (own.length > 0) roles.set(status, own);
  }
  return roles;
}

async function checkProject(jira: SiteReads, workflow: Workflow): Promise<DoctorRow[]> {
  const { project, issue_type: issueType } = workflow.jira;
  const check = `project ${project}, issue type ${quoted(issueType)}`;
  let types: Awaited<ReturnType<SiteReads['projectStatuses']>>;
  try {
    types = await jira.projectStatuses(project);
  } catch (error) {
    if (error instanceof JiraRequestError && error.status === 404) {
      return [
        problem(
          check,
          `project ${project} does not exist or the bot's account cannot see it`,
          `fix jira.project in workflow ${workflow.name}, or grant the bot's account Browse projects in ${project}`,
        ),
      ];
    }
    return [failedRead(check, asError(error))];
  }
  const type = types.find((t) => t.name === issueType);
  if (!type) {
    return [
      problem(
        check,
        `no issue type ${quoted(issueType)} in ${project} (it has: ${types.map((t) => quoted(t.name)).join(', ') || 'none'})`,
        `fix jira.issue_type in workflow ${workflow.name}, or add the issue type to ${project}'s issue type scheme`,
      ),
    ];
  }
  const rows = [ok(check, `found, ${type.statuses.length} statuses in its workflow`)];
  const existing = new Set(type.statuses);
  for (const [status, roles] of namedStatuses(workflow)) {
    const rowCheck = `status ${quoted(status)} (${roles.join(', ')})`;
    if (existing.has(status)) {
      rows.push(ok(rowCheck, `in ${project}'s workflow for ${quoted(issueType)}`));
      continue;
    }
    const alike = type.statuses.find((s) => s.toLowerCase() === status.toLowerCase());
    rows.push(
      problem(
        rowCheck,
        alike
          ? `not found; Jira spells it ${quoted(alike)} (the bot matches status names exactly)`
          : `not in ${project}'s workflow for ${quoted(issueType)}`,
        alike
          ? `write ${quoted(alike)} in workflow ${workflow.name}`
          : `add the status ${quoted(status)} to the Jira workflow of ${quoted(issueType)} in ${project}, or rename it in workflow ${workflow.name}`,
      ),
    );
  }
  rows.push(...(await checkTransitions(jira, workflow, existing)));
  rows.push(...checkTransitionTargets(workflow));
  return rows;
}

async function checkPermissions(jira: SiteReads, workflow: Workflow): Promise<DoctorRow[]> {
  const project = workflow.jira.project;
  const keys = Object.keys(BOT_PERMISSIONS);
  let held: Record<string, boolean>;
  try {
    held = await jira.myPermissions(project, keys);
  } catch (error) {
    return keys.map((key) => failedRead(`permission ${key} in ${project}`, asError(error)));
  }
  return keys.map((key) => {
    const check = `permission ${key} in ${project}`;
    const what = BOT_PERMISSIONS[key] ?? key;
    return held[key]
      ? ok(check, `held: ${what}`)
      : problem(
          check,
          `the bot's account lacks ${what}`,
          `grant it to the bot's account (or a group or role it is in) in ${project}'s permission scheme`,
        );
  });
}
