// `runbot doctor`'s transition checks: every move the bot makes (gate → next, each step status → its
// next, each of them → the failure status) is offered in Jira, with every field its screen requires
// given by the workflow, and the workflow's `transitions:` name only statuses the bot moves into.
import type { Workflow } from '../definitions/index.js';
import { asError, failedRead, ok, problem, quoted, type DoctorRow } from './doctor-rows.js';
import type { SiteReads, SiteTransition } from './site-reads.js';

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

/**
 * Transitions are read the way the bot itself reads them: from a ticket in each status it acts on
 * (GET …/transitions?expand=transitions.fields). Jira shows a whole workflow only to Jira admins
 * (and GET /workflow/search is deprecated), and the bot's account is no admin.
 */
export async function checkTransitions(
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
export function checkTransitionTargets(workflow: Workflow): DoctorRow[] {
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
