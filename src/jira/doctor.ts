// `runbot doctor`: checks a Jira site against the workflows before the bot runs there, read-only
// (GET calls only), and says for each problem what to change. One row per check: the auth, each
// status the workflow names, each transition the bot takes (with the fields its screen requires),
// the input fields and their types, the gate's link type, and the bot's project permissions.
import type { Workflow } from '../definitions/index.js';
import { JiraRequestError } from './errors.js';
import type { SiteField, SiteReads, SiteTransition } from './site-reads.js';

export type DoctorResult = 'ok' | 'problem' | 'unchecked';

export interface DoctorRow {
  check: string;
  result: DoctorResult;
  /** What was found. */
  found: string;
  /** What to do about it (empty when ok). */
  fix: string;
}

/** The project permissions the bot uses, and what for. */
const BOT_PERMISSIONS: Record<string, string> = {
  BROWSE_PROJECTS: 'Browse projects (search and read tickets)',
  TRANSITION_ISSUES: 'Transition issues (move tickets along the runbook)',
  ADD_COMMENTS: 'Add comments (report each step)',
  EDIT_ISSUES: "Edit issues (write the bot's bookkeeping issue property)",
  DELETE_OWN_COMMENTS:
    'Delete own comments (in a service project, the copy of a report when two jobs of one visit raced)',
};

/** Field types whose values the adapter reads as text (src/jira/issue-schema.ts, textOf). */
const TEXT_LIKE = new Set(['string', 'number', 'option']);
const TEXT_LIKE_ITEMS = new Set(['string', 'option']);

const ok = (check: string, found: string): DoctorRow => ({ check, result: 'ok', found, fix: '' });
const problem = (check: string, found: string, fix: string): DoctorRow => ({
  check,
  result: 'problem',
  found,
  fix,
});

const quoted = (value: string) => JSON.stringify(value);

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

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A failed read as a row: what Jira said and its hint (JiraRequestError's message carries both). */
function failedRead(check: string, error: Error): DoctorRow {
  return problem(check, `could not read: ${error.message}`, 'fix what Jira said, then run doctor again');
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
        'check JIRA_EMAIL and JIRA_API_TOKEN (the token may be expired or revoked); no other check ran',
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
  add(workflow.failure, 'failure');
  add(workflow.done, 'done');
  // A status with a role of its own is named by it; "next of" only for one that is nothing else.
  for (const [status, list] of roles) {
    const own = list.filter((role) => !role.startsWith('next of '));
    if (own.length > 0) roles.set(status, own);
  }
  return roles;
}

/** The moves the bot makes: from each status it acts on, to its next and to the failure status. */
function botMoves(workflow: Workflow): { from: string; to: string }[] {
  const moves = [
    ...(workflow.gate ? [{ from: workflow.gate.status, to: workflow.gate.next }] : []),
    ...(workflow.gate ? [{ from: workflow.gate.status, to: workflow.failure }] : []),
    ...Object.entries(workflow.statuses).flatMap(([from, binding]) => [
      { from, to: binding.next },
      { from, to: workflow.failure },
    ]),
  ];
  const seen = new Set<string>();
  return moves.filter((move) => {
    const id = `${move.from}\u0000${move.to}`;
    if (move.from === move.to || seen.has(id)) return false;
    seen.add(id);
    return true;
  });
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

/**
 * Transitions are read the way the bot itself reads them: from a ticket in each status it acts on
 * (GET …/transitions?expand=transitions.fields). Jira shows a whole workflow only to Jira admins
 * (and GET /workflow/search is deprecated), and the bot's account is no admin.
 */
async function checkTransitions(
  jira: SiteReads,
  workflow: Workflow,
  existing: Set<string>,
): Promise<DoctorRow[]> {
  const rows: DoctorRow[] = [];
  const moves = botMoves(workflow).filter((move) => existing.has(move.from) && existing.has(move.to));
  const sources = [...new Set(moves.map((move) => move.from))];
  for (const from of sources) {
    const outgoing = moves.filter((move) => move.from === from);
    const checks = outgoing.map((move) => `transition ${quoted(from)} → ${quoted(move.to)}`);
    let read: { key: string; transitions: SiteTransition[] } | undefined;
    try {
      const key = await jira.findOneIssue(
        `project = ${quoted(workflow.jira.project)} AND issuetype = ${quoted(workflow.jira.issue_type)} AND status = ${quoted(from)} ORDER BY updated DESC`,
      );
      if (key) read = { key, transitions: await jira.transitionsWithFields(key) };
    } catch (error) {
      rows.push(...checks.map((check) => failedRead(check, asError(error))));
      continue;
    }
    if (!read) {
      rows.push(
        ...checks.map((check) => ({
          check,
          result: 'unchecked' as const,
          found: `no ${workflow.jira.project} ${quoted(workflow.jira.issue_type)} ticket is in ${quoted(from)} to read its transitions from`,
          fix: `move a test ticket to ${quoted(from)} and run doctor again`,
        })),
      );
      continue;
    }
    for (const move of outgoing) rows.push(checkMove(workflow, move, read));
  }
  return rows;
}

function checkMove(
  workflow: Workflow,
  move: { from: string; to: string },
  read: { key: string; transitions: SiteTransition[] },
): DoctorRow {
  const check = `transition ${quoted(move.from)} → ${quoted(move.to)}`;
  const transition = read.transitions.find((t) => t.to.name === move.to && t.isAvailable !== false);
  if (!transition) {
    return problem(
      check,
      `${read.key} (in ${quoted(move.from)}) offers no transition to ${quoted(move.to)}`,
      `add a transition ${quoted(move.from)} → ${quoted(move.to)} to the Jira workflow (or lift the condition that hides it from the bot's account)`,
    );
  }
  const given = workflow.transitions?.[move.to]?.fields ?? {};
  const screen = transition.fields ?? {};
  const missing = Object.entries(screen).filter(
    ([id, field]) => field.required && field.hasDefaultValue !== true && !(id in given),
  );
  const offScreen = Object.keys(given).filter((id) => !(id in screen));
  const name = quoted(transition.name ?? transition.id);
  if (missing.length > 0) {
    const listed = missing.map(([id, field]) => `${id} (${quoted(field.name)})`).join(', ');
    const example = missing.map(([id]) => `${id}: …`).join(', ');
    return problem(
      check,
      `transition ${name} requires ${listed}, and workflow ${workflow.name} gives no value`,
      `give it in workflow ${workflow.name}: transitions: { ${quoted(move.to)}: { fields: { ${example} } } }, or give the field a default / make it optional on the transition's screen`,
    );
  }
  if (offScreen.length > 0) {
    return problem(
      check,
      `workflow ${workflow.name} gives ${offScreen.join(', ')} for moves into ${quoted(move.to)}, but transition ${name} has no such field on its screen (Jira refuses the move)`,
      `add the field to the transition's screen, or remove it from transitions.${move.to}.fields in workflow ${workflow.name}`,
    );
  }
  const refused = Object.entries(given).flatMap(([id, value]) => {
    const allowed = screen[id]?.allowedValues;
    const wanted = valueName(value);
    if (!allowed || wanted === undefined) return [];
    const names = allowed.flatMap((a) => [a.id, a.name, a.value]).filter((n) => n !== undefined);
    return names.includes(wanted)
      ? []
      : [{ id, wanted, names: allowed.map((a) => a.name ?? a.value ?? a.id) }];
  });
  if (refused.length > 0) {
    const listed = refused
      .map((r) => `${r.id} ${quoted(r.wanted)} (allowed: ${r.names.join(', ')})`)
      .join('; ');
    return problem(
      check,
      `workflow ${workflow.name} gives a value transition ${name} does not accept: ${listed}`,
      `give one of the allowed values in transitions.${move.to}.fields of workflow ${workflow.name}, or add the value in Jira`,
    );
  }
  const covered = Object.keys(screen).filter((id) => id in given);
  return ok(
    check,
    `transition ${name} (read on ${read.key})${covered.length > 0 ? `, fields given: ${covered.join(', ')}` : ''}`,
  );
}

/** The name or id a field value picks (`{name: Done}`, `{id: '1'}`, `{value: x}` or a plain string). */
function valueName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return undefined;
  const ref = value as { name?: unknown; id?: unknown; value?: unknown };
  const picked = ref.name ?? ref.id ?? ref.value;
  return typeof picked === 'string' ? picked : undefined;
}

/** `transitions:` keys the bot never moves into are typos: their values would never be sent. */
function checkTransitionTargets(workflow: Workflow): DoctorRow[] {
  const targets = new Set(botMoves(workflow).map((move) => move.to));
  return Object.keys(workflow.transitions ?? {})
    .filter((status) => !targets.has(status))
    .map((status) =>
      problem(
        `transitions.${status} (workflow ${workflow.name})`,
        `the bot never moves a ticket into ${quoted(status)}, so these field values are never sent`,
        `name a status the bot moves into (${[...targets].map(quoted).join(', ')})`,
      ),
    );
}

function typeOf(field: SiteField): string {
  const schema = field.schema;
  if (!schema) return 'unknown';
  return schema.type === 'array' ? `array of ${schema.items ?? 'unknown'}` : schema.type;
}

function readsAsText(field: SiteField): boolean {
  const schema = field.schema;
  if (!schema) return false;
  if (schema.type === 'array') return TEXT_LIKE_ITEMS.has(schema.items ?? '');
  return TEXT_LIKE.has(schema.type);
}

function checkFields(workflow: Workflow, fields: SiteField[] | Error): DoctorRow[] {
  return Object.entries(workflow.fields).map(([input, id]) => {
    const check = `field ${id} (input ${input})`;
    if (fields instanceof Error) return failedRead(check, fields);
    const field = fields.find((f) => f.id === id);
    if (!field) {
      const named = fields.find((f) => f.name.toLowerCase() === id.toLowerCase());
      return problem(
        check,
        named
          ? `no field with id ${id}; a field named ${quoted(named.name)} has id ${named.id}`
          : `no field ${id} on this site`,
        named
          ? `write fields.${input}: ${named.id} in workflow ${workflow.name}`
          : `create the custom field (a short text field) or fix fields.${input} in workflow ${workflow.name}`,
      );
    }
    if (!readsAsText(field)) {
      return problem(
        check,
        `${quoted(field.name)} is of type ${typeOf(field)}; the bot reads text (short or paragraph text, a number, a select, labels)`,
        `point fields.${input} in workflow ${workflow.name} at a text field, or change the field's type in Jira`,
      );
    }
    return ok(check, `${quoted(field.name)}, type ${typeOf(field)}`);
  });
}

function checkLinkType(
  workflow: Workflow,
  link: string,
  linkTypes: Awaited<ReturnType<SiteReads['linkTypes']>> | Error,
): DoctorRow {
  const check = `link type ${quoted(link)} (gate.link)`;
  if (linkTypes instanceof Error) return failedRead(check, linkTypes);
  const found = linkTypes.find((t) => t.inward === link || t.outward === link);
  if (found) {
    const side = found.inward === link ? 'inward' : 'outward';
    return ok(check, `the ${side} name of link type ${quoted(found.name)}`);
  }
  const alike = linkTypes.find(
    (t) => t.inward.toLowerCase() === link.toLowerCase() || t.outward.toLowerCase() === link.toLowerCase(),
  );
  const names = linkTypes.map((t) => `${quoted(t.inward)}/${quoted(t.outward)}`).join(', ');
  return problem(
    check,
    alike
      ? `no link type has that name exactly; ${quoted(alike.name)} is spelled ${quoted(alike.inward)}/${quoted(alike.outward)}`
      : `no issue link type has ${quoted(link)} as its inward or outward name (site has: ${names || 'none'})`,
    `add a link type with inward name ${quoted(link)} (Jira settings → Issues → Issue linking, e.g. Blocks: "blocks" / "is blocked by"), or set gate.link in workflow ${workflow.name} to an existing name`,
  );
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

/** The rows as a table: check, result, what was found, what to do. */
export function formatDoctorTable(rows: DoctorRow[]): string[] {
  const header: [string, string, string, string] = ['CHECK', 'RESULT', 'FOUND', 'WHAT TO DO'];
  const cells = rows.map((row): [string, string, string, string] => [
    row.check,
    row.result,
    row.found,
    row.fix || '-',
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...[header, ...cells].map((line) => line[i]?.length ?? 0)));
  const line = (cols: [string, string, string, string]) =>
    cols
      .map((col, i) => (i < 3 ? col.padEnd(widths[i] ?? 0) : col))
      .join('  ')
      .trimEnd();
  const problems = rows.filter((row) => row.result === 'problem').length;
  const unchecked = rows.filter((row) => row.result === 'unchecked').length;
  return [
    line(header),
    ...cells.map(line),
    `doctor: ${rows.length} checks, ${problems} problem${problems === 1 ? '' : 's'}, ${unchecked} unchecked`,
  ];
}
