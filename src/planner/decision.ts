// What the planner decides for one ticket: data, never a callback. The worker turns it into calls.
import type { BmcTarget, IpmiAction, SshTarget } from '../executors/types.js';
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

export type Decision =
  | {
      kind: 'runStep';
      visit: StepVisit;
      step: StepRef;
      /** The inventory site of the ticket's host: its queue and its caps. */
      site?: string;
      /** For an IPMI step: the host, and its BMC's address, port and user. */
      target: SshTarget;
      /** For an IPMI step: the ipmitool command line a person would type (shown, never run by a shell). */
      commands: string[];
      /** Set for an IPMI step: the action runs against the host's BMC, not over SSH. */
      ipmi?: { action: IpmiAction; bmc: BmcTarget };
      timeoutSeconds: number;
      /** A run of this visit began before and its worker is gone; done_when decides whether to run again. */
      resumed: boolean;
      expect: { exit: number; output?: string };
      /** When this check passes the step is already done: it is not run again. */
      doneWhen?: { command: string; output?: string };
    }
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
      /** What the comment is about when it is not the step's own instructions (its reference). */
      purpose?: string;
      /** A move this visit needs cannot succeed (transition-fields.ts): acted on whatever job found it. */
      refusedMove?: true;
    }
  | { kind: 'transition'; visit: StepVisit; to: string; reason: string }
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
  | { kind: 'nothing'; reason: string };

export type DecisionKind = Decision['kind'];
