// Zod schemas for the three kinds of definition file. They are the single source of the types
// (z.infer) and of the JSON Schemas editors use. Our own files are strict: unknown keys are errors.
import { z } from 'zod';

const DURATION = /^(\d+)(s|m|h)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

/** A duration in seconds, written as a number of seconds or as "90s", "10m", "12h". */
export const Duration = z
  .union([
    z.number().int().positive(),
    z.string().regex(DURATION, 'expected a duration like "90s", "10m" or "2h"'),
  ])
  .transform((value) => {
    if (typeof value === 'number') return value;
    const [, amount, unit] = DURATION.exec(value) ?? [];
    return Number(amount) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
  });

/** A regular expression, checked to compile. */
const Pattern = z.string().refine((source) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

const OutputCheck = z.strictObject({
  /** Regular expression the command's stdout must match. */
  output: Pattern.optional(),
  /** Exit code the command must end with (default 0). */
  exit: z.number().int().min(0).max(255).optional(),
});

const Target = z.string().min(1).describe('where the commands run: "{{ host }}" or "{{ site.manager }}"');

const SshStep = z.strictObject({
  kind: z.literal('ssh'),
  description: z.string().optional(),
  target: Target,
  commands: z.array(z.string().min(1)).min(1),
  timeout: Duration,
  expect: OutputCheck.optional(),
  /** A check run first: when it passes, the step is already done and is not run again. */
  done_when: z.strictObject({ command: z.string().min(1), output: Pattern.optional() }).optional(),
});

const WaitStep = z.strictObject({
  kind: z.literal('wait'),
  description: z.string().optional(),
  target: Target,
  /** Command run on every check; its output is matched against done_when / fail_when. */
  check: z.string().min(1),
  done_when: z.strictObject({ output: Pattern }),
  fail_when: z.strictObject({ output: Pattern }).optional(),
  interval: Duration,
  timeout: Duration,
  /** Timeout of one check command. */
  check_timeout: Duration.default(60),
});

const InstructionBlock = z.strictObject({
  text: z.string().min(1),
  commands: z.array(z.string().min(1)).optional(),
});

const ManualStep = z.strictObject({
  kind: z.literal('manual'),
  description: z.string().optional(),
  target: Target,
  title: z.string().min(1),
  instructions: z.array(InstructionBlock).min(1),
});

export const StepSchema = z.discriminatedUnion('kind', [SshStep, WaitStep, ManualStep]);

export const RunbookSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  description: z.string().optional(),
  inputs: z.record(
    z.string().regex(/^[a-z][a-z0-9_]*$/),
    z.strictObject({ pattern: Pattern, description: z.string().optional() }),
  ),
  steps: z.record(
    z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    StepSchema,
  ),
});

const StatusBinding = z.strictObject({
  /** The runbook step run while the ticket is in this status. */
  step: z.string(),
  /** Where the ticket goes when the step succeeds (for a manual step: where the human moves it). */
  next: z.string(),
});

export const WorkflowSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  description: z.string().optional(),
  runbook: z.string(),
  jira: z.strictObject({
    project: z.string().min(1),
    issue_type: z.string().min(1),
    /** Extra JQL ANDed to the bot's own query. */
    jql: z.string().optional(),
  }),
  /** Which Jira field feeds which runbook input, e.g. host: customfield_10042 ("Service Hosts"). */
  fields: z.record(z.string(), z.string().min(1)),
  /** Restore starts only when the linked ticket (e.g. the RMA) is done. */
  gate: z
    .strictObject({
      status: z.string(),
      link: z.string().describe('link phrase seen from the restore ticket, e.g. "is blocked by"'),
      next: z.string(),
    })
    .optional(),
  statuses: z.record(z.string(), StatusBinding),
  /** Human status for failures and bad tickets. */
  failure: z.string(),
  /** The final status. */
  done: z.string(),
  /** A ticket carrying this label is left alone. */
  pause_label: z.string().default('runbot-pause'),
});

const SshAccess = z.strictObject({
  user: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  /** Connect to this address instead of resolving the host name (the key is still checked for the name). */
  address: z.string().optional(),
});

export const SiteSchema = z.strictObject({
  /** Regular expression matched against the full host name. */
  hosts: Pattern,
  manager: z.string().min(1),
  ssh: SshAccess,
});

export const InventorySchema = z.strictObject({
  sites: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), SiteSchema),
});

export type Step = z.infer<typeof StepSchema>;
export type SshStep = z.infer<typeof SshStep>;
export type WaitStep = z.infer<typeof WaitStep>;
export type ManualStep = z.infer<typeof ManualStep>;
export type Runbook = z.infer<typeof RunbookSchema>;
export type Workflow = z.infer<typeof WorkflowSchema>;
export type Site = z.infer<typeof SiteSchema>;
export type Inventory = z.infer<typeof InventorySchema>;
