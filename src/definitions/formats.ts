// Built-in formats for runbook inputs: checks a regular expression cannot say well (a length per
// label and in total). `format: hostname` is RFC 1123's host name, in the lower-case ASCII that the
// inventory, known_hosts and the fleet's tools use, so one host has one spelling everywhere.
export const INPUT_FORMATS = ['hostname'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

const HOSTNAME_MAX = 253;
const LABEL_MAX = 63;
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** A whole valid host name at once: the planner checks every ticket's input on every plan, and
 * nearly all are valid; the checks below only say what is wrong with the rest. */
const VALID_HOSTNAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Why a value is not an RFC 1123 host name (lower-case ASCII), or undefined when it is one. */
export function hostnameProblem(value: string): string | undefined {
  if (value.length <= HOSTNAME_MAX && VALID_HOSTNAME.test(value)) return undefined;
  if (value.length > HOSTNAME_MAX)
    return `is ${value.length} characters long; a host name has at most ${HOSTNAME_MAX}`;
  // Checked before the labels, so the answer names the real problem (not "label 1 is invalid").
  const foreign = [...value].find((char) => !/^[\x21-\x7e]$/.test(char));
  if (foreign !== undefined)
    return `contains ${JSON.stringify(foreign)} (U+${foreign.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}); a host name is ASCII letters, digits, dashes and dots only`;
  if (/[A-Z]/.test(value))
    return 'contains upper-case letters; host names are written in lower case here (the inventory, known_hosts and the tools compare them as written)';
  const labels = value.split('.');
  for (const [index, label] of labels.entries()) {
    const which = `label ${index + 1} (${JSON.stringify(label.slice(0, 70))})`;
    if (label === '') return `has an empty label (two dots in a row, or a dot at an end)`;
    if (label.length > LABEL_MAX)
      return `${which} is ${label.length} characters long; a label has at most ${LABEL_MAX}`;
    if (!LABEL.test(label))
      return `${which} is not letters, digits and inner dashes (a label may not start or end with "-")`;
  }
  return undefined;
}

/** Why a value does not have the format, or undefined when it has it. */
export function inputFormatProblem(format: InputFormat, value: string): string | undefined {
  switch (format) {
    case 'hostname':
      return hostnameProblem(value);
  }
}
