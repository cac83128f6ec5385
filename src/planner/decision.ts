// What the planner decides for one ticket: data, never a callback. The worker turns it into calls.
import type { BmcTarget, IpmiAction, RedfishAction, RedfishTarget, SshTarget } from '../definitions/index.js';
import type { Hold } from './holds.js';
import type { Bookkeeping } from './ticket.js';

/** One visit of a ticket to a status: the unit that is done once (job ids and comment markers). */
export interface StepVisit {
  key: string;
  workflow: string;
  status: string;
  /** The bookkeeping of this visit as it stands (a new visit when the status changed). */
  bookkeeping: Bookkeeping;
  /** True when the bot has not yet recorded this visit in Jira. */
  isNew: boolean;
}

export interface StepRef {
  name: string;
  runbook: string;
  runbookVersion: string;
  /** Status the ticket moves to when the step succeeds. */
  next: string;
}

interface RunStepBase {
  kind: 'runStep';
  visit: StepVisit;
  step: StepRef;
  /** The inventory site of the ticket's host: its queue and its caps. */
  site?: string;
  /** The host the step is about (for a BMC step: the host, with its BMC's address, port and user). */
  target: SshTarget;
  /** The command lines: run over SSH, or for a BMC step the line a person would type (shown, never
   * run by a shell). */
  commands: string[];
  timeoutSeconds: number;
  /** A run of this visit began before and its worker is gone; done_when decides whether to run again. */
  resumed: boolean;
  expect: { exit: number; output?: string };
}

/** Commands run over SSH on the target. */
export interface RunSshStep extends RunStepBase {
  transport: 'ssh';
  /** When this check passes the step is already done: it is not run again. */
  doneWhen?: { command: string; output?: string };
}

/** An action against the host's BMC over IPMI (ipmitool). */
export interface RunIpmiStep extends RunStepBase {
  transport: 'ipmi';
  ipmi: { action: IpmiAction; bmc: BmcTarget };
}

/** An action against the host's BMC over Redfish (HTTPS). */
export interface RunRedfishStep extends RunStepBase {
  transport: 'redfish';
  redfish: { action: RedfishAction; bmc: RedfishTarget };
}

/** Run a step: one variant per transport, each carrying only what its executor needs. */
export type RunStep = RunSshStep | RunIpmiStep | RunRedfishStep;

export type Decision =
  | RunStep
  | {
      kind: 'checkStep';
      visit: StepVisit;
      step: StepRef;
      site?: string;
      target: SshTarget;
      command: string;
      timeoutSeconds: number;
      doneWhen: string;
      failWhen?: string;
      /** Which interval of the wait this check belongs to; one check per round. */
      round: number;
      /** When the next round begins: a check that finds the step still running waits until then. */
      nextRoundAt: string;
      /** The deadline has passed: this check is the last; not done means the step timed out. */
      final: boolean;
      startedAt: string;
      deadline: string;
    }
  | {
      kind: 'postInstructions';
      visit: StepVisit;
      step: StepRef;
      site?: string;
      /** The host the person runs the commands on. */
      where: string;
      title: string;
      blocks: { text: string; commands: string[] }[];
      /** The person the ticket is assigned to (Atlassian account id), mentioned in the comment. */
      assignee?: string;
      /** The step routes to a field that names nobody: said in the comment, not guessed. */
      unassigned?: string;
      /** The ticket's due date (YYYY-MM-DD, UTC), from the step's due_in. */
      dueDate?: string;
      /** What the comment is about when it is not the step's own instructions (its reference). */
      purpose?: string;
      /** A move this visit needs cannot succeed (transition-fields.ts): acted on whatever job found it. */
      refusedMove?: true;
    }
  | {
      kind: 'transition';
      visit: StepVisit;
      to: string;
      reason: string;
      /** Recorded in the bookkeeping of the status entered (a plan a person approved). */
      approved?: { step: string; hash: string };
    }
  | {
      kind: 'escalate';
      visit: StepVisit;
      /** Human status the ticket goes to. */
      to: string;
      title: string;
      reason: string;
      /** What a person should do next. */
      nextStep: string;
      /** A move this visit needs cannot succeed (transition-fields.ts): acted on whatever job found it. */
      refusedMove?: true;
    }
  | {
      /** A step held back by an open breaker: say so once in the ticket, then wait in the status. */
      kind: 'noteHold';
      visit: StepVisit;
      step: StepRef;
      site: string;
      hold: Hold;
      /** The tickets whose failures opened the breaker. */
      tickets: string[];
    }
  | {
      /** Another open ticket holds an exclusive input value (e.g. the host): wait at the gate. */
      kind: 'hold';
      visit: StepVisit;
      /** The key of the ticket holding it. */
      holder: string;
      input: string;
      value: string;
      /** Where the ticket goes once the holder is done. */
      next: string;
    }
  | {
      /** A step marked approve: post its plan and move to the approval status. */
      kind: 'requestApproval';
      visit: StepVisit;
      step: StepRef;
      site?: string;
      /** The approval status. */
      to: string;
      /** The status a person moves the ticket to, to approve. */
      approved: string;
      /** The plan as it would run: the step decision, shown in the comment. */
      plan: string[];
      /** sha256 of the plan (hex); a different plan needs approval again. */
      hash: string;
    }
  /**
   * `hold`: the step waits for a breaker, a window or a freeze (its job waits too, it is not stale).
   * `running`: the step began in this visit and may still be running until `until` (runningState).
   */
  | { kind: 'nothing'; reason: string; hold?: Hold; running?: RunningStep };

/** A step that began in a visit and may still be running (its running mark, and when that lapses). */
export interface RunningStep {
  step: string;
  status: string;
  visit: number;
  /** When every command could have timed out and the report reached Jira, ISO 8601. */
  until: string;
}
