// The runbook file's schema (how: the steps, by kind) and the pieces other schemas share (a
// duration, a compiled-checked pattern). Strict: unknown keys are errors. Re-exported by schema.ts.
import { z } from 'zod';
import { INPUT_FORMATS } from './formats.js';

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
export const Pattern = z
  .string()
  .refine((source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression')
  .describe('a regular expression (JavaScript syntax)');

const OutputCheck = z.strictObject({
  output: Pattern.optional().describe("regular expression the command's stdout must match"),
  exit: z
    .number()
    .int()
    .min(0)
    .max(255)
    .optional()
    .describe('exit code the command must end with (default 0)'),
});

const Target = z.string().min(1).describe('where the commands run: "{{ host }}" or "{{ site.manager }}"');

const StepDescription = z.string().optional().describe('what the step does, for people');
const Command = z
  .string()
  .min(1)
  .describe('a shell command template; each {{ value }} becomes one quoted shell word');

const Approve = z
  .boolean()
  .optional()
  .describe(
    "post the step's plan and run it only after a person approves it (the workflow's approval statuses)",
  );

const SshStep = z.strictObject({
  kind: z.literal('ssh').describe('run commands on the target over SSH'),
  description: StepDescription,
  target: Target,
  commands: z.array(Command).min(1).describe('run in order; the step fails at the first that fails'),
  timeout: Duration.describe('limit of each command: seconds, or "90s", "10m", "2h"'),
  approve: Approve,
  expect: OutputCheck.optional().describe('what success looks like (default: exit 0)'),
  done_when: z
    .strictObject({
      command: Command,
      output: Pattern.optional().describe('regular expression its stdout must match (else: exit 0)'),
    })
    .optional()
    .describe('a check run first: when it passes, the step is already done and is not run again'),
});

const WaitStep = z.strictObject({
  kind: z.literal('wait').describe('check a long operation every interval until it is done'),
  description: StepDescription,
  target: Target,
  check: Command.describe('command run on every check; its stdout is matched by done_when / fail_when'),
  done_when: z
    .strictObject({ output: Pattern.describe('regular expression over the check output') })
    .describe('the operation is done (the ticket moves to next)'),
  fail_when: z
    .strictObject({ output: Pattern.describe('regular expression over the check output') })
    .optional()
    .describe('the operation failed (the ticket moves to the failure status)'),
  interval: Duration.describe('time between checks: seconds, or "90s", "10m", "2h"'),
  timeout: Duration.describe('give up this long after the start recorded in Jira'),
  check_timeout: Duration.default(60).describe('limit of one check command (default 60 s)'),
});

const InstructionBlock = z.strictObject({
  text: z.string().min(1).describe('a paragraph of the comment; {{ values }} are shown as they are'),
  commands: z.array(Command).optional().describe('commands shown in a code block under the text'),
});

const ManualStep = z.strictObject({
  kind: z.literal('manual').describe('post an Action Required comment; a person does the step'),
  description: StepDescription,
  target: Target,
  title: z.string().min(1).describe('heading of the Action Required comment'),
  instructions: z.array(InstructionBlock).min(1).describe('what to run and check, in order'),
  assign: z
    .union([
      z.strictObject({
        account_id: z
          .string()
          .regex(/^[A-Za-z0-9:_-]{1,128}$/, 'an Atlassian account id')
          .describe('the Atlassian account id of the person'),
      }),
      z.strictObject({
        field: z
          .string()
          .regex(/^[A-Za-z0-9_]+$/, 'a Jira field id')
          .describe('a ticket field holding a user or users (e.g. request participants): its first user'),
      }),
    ])
    .optional()
    .describe('who the ticket is assigned to when the instructions are posted (mentioned in the comment)'),
  due_in: Duration.optional().describe(
    "the ticket's due date: this long after the status was entered (Jira keeps the date, UTC)",
  ),
});

export const IPMI_ACTIONS = ['power-status', 'power-on', 'power-cycle', 'sel-read'] as const;

const IpmiStep = z.strictObject({
  kind: z.literal('ipmi').describe("power status/on/cycle or SEL read through the host's BMC"),
  description: StepDescription,
  /** The host whose BMC is addressed (the BMC's address comes from the site's `ipmi` access). */
  target: Target,
  action: z.enum(IPMI_ACTIONS).describe('what to do through the BMC'),
  approve: Approve,
  /** power-status only: the power state the step expects. */
  expect: z
    .strictObject({ power: z.enum(['on', 'off']).describe('the power state the step expects') })
    .optional()
    .describe('power-status only: what success looks like'),
  timeout: Duration.default(60).describe('limit of the BMC call (default 60 s)'),
  /** Where the site has no IPMI access: post these instructions (manual) or fail the step. */
  fallback: z
    .enum(['manual', 'fail'])
    .default('manual')
    .describe('where the site has no IPMI access: post the instructions (manual) or fail the step'),
  title: z.string().min(1).optional().describe('heading of the Action Required comment of the fallback'),
  instructions: z
    .array(InstructionBlock)
    .min(1)
    .optional()
    .describe('what a person runs instead, where the site has no IPMI access'),
});

export const REDFISH_ACTIONS = [
  'power-status',
  'power-on',
  'power-off',
  'power-cycle',
  'sel-read',
  'sel-clear',
  'boot-pxe',
  'boot-disk',
  'health',
] as const;

const RedfishStep = z.strictObject({
  kind: z
    .literal('redfish')
    .describe("power, SEL, one-time boot override or memory/CPU health through the host's Redfish BMC"),
  description: StepDescription,
  /** The host whose BMC is addressed (the BMC's address comes from the site's `redfish` access). */
  target: Target,
  action: z
    .enum(REDFISH_ACTIONS)
    .describe('what to do through the BMC; health fails the step when a DIMM or CPU is not OK'),
  expect: z
    .strictObject({ power: z.enum(['on', 'off']).describe('the power state the step expects') })
    .optional()
    .describe('power-status only: what success looks like'),
  timeout: Duration.default(60).describe('limit of each HTTPS call to the BMC (default 60 s)'),
  fallback: z
    .enum(['manual', 'fail'])
    .default('manual')
    .describe('where the site has no Redfish access: post the instructions (manual) or fail the step'),
  title: z.string().min(1).optional().describe('heading of the Action Required comment of the fallback'),
  instructions: z
    .array(InstructionBlock)
    .min(1)
    .optional()
    .describe('what a person runs instead, where the site has no Redfish access'),
});

export const StepSchema = z.discriminatedUnion('kind', [
  SshStep,
  WaitStep,
  ManualStep,
  IpmiStep,
  RedfishStep,
]);

export const RunbookSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes')
    .describe('unique name; workflows refer to the runbook by it'),
  description: z.string().optional().describe('what the runbook is for, for people'),
  inputs: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and underscores'),
      z
        .strictObject({
          pattern: Pattern.optional().describe('anchored regular expression (^…$) a ticket value must match'),
          format: z
            .enum(INPUT_FORMATS)
            .optional()
            .describe('a built-in format the value must have: hostname (RFC 1123, lower-case ASCII)'),
          description: z.string().optional().describe('where the value comes from, for people'),
        })
        .refine((input) => input.pattern !== undefined || input.format !== undefined, {
          message: 'an input needs a pattern or a format (or both)',
        }),
    )
    .describe('values taken from the ticket (host is required); templates name them as {{ input }}'),
  steps: z
    .record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'), StepSchema)
    .describe('the steps by name; a workflow binds each to a Jira status'),
});

export type Step = z.infer<typeof StepSchema>;
export type SshStep = z.infer<typeof SshStep>;
export type WaitStep = z.infer<typeof WaitStep>;
export type ManualStep = z.infer<typeof ManualStep>;
export type IpmiStep = z.infer<typeof IpmiStep>;
export type IpmiAction = (typeof IPMI_ACTIONS)[number];
export type RedfishStep = z.infer<typeof RedfishStep>;
export type Runbook = z.infer<typeof RunbookSchema>;
