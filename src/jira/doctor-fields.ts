// `runbot doctor`'s field and link checks: each input field exists and reads as text, and the gate's
// link type has the name the workflow gives.
import type { Workflow } from '../definitions/index.js';
import { failedRead, ok, problem, quoted, type DoctorRow } from './doctor-rows.js';
import type { SiteField, SiteReads } from './site-reads.js';

/** Field types whose values the adapter reads as text (src/jira/field-values.ts, textOf). */
const TEXT_LIKE = new Set(['string', 'number', 'option']);
const TEXT_LIKE_ITEMS = new Set(['string', 'option']);
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

export function checkFields(workflow: Workflow, fields: SiteField[] | Error): DoctorRow[] {
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

export function checkLinkType(
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
