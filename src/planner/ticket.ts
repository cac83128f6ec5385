// The planner's view of a Jira ticket: only what a decision needs, already parsed at the Jira edge.
import { z } from 'zod';

/** The bot's bookkeeping, kept in Jira as the issue entity property `runbot` (Jira is the only state). */
export const BookkeepingSchema = z.object({
  /** The status this record is about; a different current status means a new visit began. */
  status: z.string(),
  /** Visit counter for this ticket; grows each time the ticket enters a status. */
  visit: z.number().int().nonnegative(),
  /** When the visit began or was first seen by the bot (ISO 8601, UTC). */
  enteredAt: z.string(),
  /** The visit the bot's own move left to begin this one; absent when a person's move began it. A
   * report posted late for that visit stays on the ticket only if the bot moved it on (moves.ts). */
  from: z.number().int().nonnegative().optional(),
  /** A step of this visit was started (wait steps: the start of the long operation). */
  startedAt: z.string().optional(),
  /** The step of this visit the bot began executing and when, written before it runs (at-most-once guard). */
  running: z
    .object({
      step: z.string(),
      since: z.string(),
      /** The claiming worker's token: after a Redis loss, the claimant whose token stays runs the step. */
      claim: z.string().optional(),
    })
    .optional(),
  /** Instructions for a manual step of this visit were posted. */
  instructed: z.boolean().optional(),
  /** The ticket was told in this visit that its step waits for this (e.g. "breaker dev2/sync"). */
  held: z.string().optional(),
  /** At the gate: the ticket that holds this one's exclusive input (e.g. its host); the comment saying so was posted. */
  heldBy: z.string().optional(),
  /** In the approval status: the step whose plan (sha256 of its rendered commands and targets) waits for a person. */
  awaiting: z.object({ step: z.string(), status: z.string(), hash: z.string() }).optional(),
  /** Back in the step's status after a person approved: the plan they approved. */
  approved: z.object({ step: z.string(), hash: z.string() }).optional(),
});
export type Bookkeeping = z.infer<typeof BookkeepingSchema>;

export const BOOKKEEPING_PROPERTY = 'runbot';

export interface TicketLink {
  /** The link type's phrase seen from this ticket, e.g. "is blocked by". */
  relation: string;
  key: string;
  status: string;
  /** Jira's status category key of the linked ticket: "new" | "indeterminate" | "done". */
  statusCategory: string;
}

export interface TicketComment {
  id: string;
  /** Plain text of the comment (ADF text nodes joined), for markers. */
  text: string;
}

/** A field on a transition's screen (Jira's FieldMetadata, from `expand=transitions.fields`). */
export interface TransitionField {
  /** Field id, e.g. resolution or customfield_10042. */
  key: string;
  /** Display name, e.g. Resolution. */
  name: string;
  required: boolean;
  hasDefaultValue: boolean;
  /** Names or values of the allowed options, when Jira lists them. */
  allowedValues: string[];
}

/** A transition available from the ticket's status now, with its screen's fields. */
export interface TicketTransition {
  to: string;
  fields: TransitionField[];
}

export interface Ticket {
  key: string;
  status: string;
  project: string;
  issueType: string;
  labels: string[];
  /** Raw values of the workflow's input fields, by input name (e.g. host). */
  inputs: Record<string, string | undefined>;
  links: TicketLink[];
  /** Account ids of the users in the user fields the runbook routes manual steps to, by field id. */
  people?: Record<string, string[]>;
  /** Undefined when the bot has never written one, or it could not be parsed. */
  bookkeeping: Bookkeeping | undefined;
  /** Present only on a full read (get issue), not on search results. */
  comments?: TicketComment[];
  /** Present only on a full read (get issue with expand=transitions.fields), not on search results. */
  transitions?: TicketTransition[];
}
