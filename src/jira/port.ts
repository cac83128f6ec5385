// The narrow interface the service uses to talk to Jira. The jira.js adapter implements it; the
// planner never sees it.
import type { Bookkeeping, Ticket } from '../planner/ticket.js';
import type { AdfDocument } from './adf.js';

/** How to read a ticket for one workflow: which Jira fields feed which inputs. */
export interface TicketShape {
  /** input name → Jira field id, e.g. { host: 'customfield_10042' } */
  inputFields: Record<string, string>;
  /** User fields read as account ids (a manual step's `assign.field`), into Ticket.people. */
  userFields?: string[];
}

export interface SearchPage {
  tickets: Ticket[];
  nextPageToken: string | undefined;
}

export type TransitionOutcome = 'transitioned' | 'refused';

export interface JiraPort {
  /** One page of the enhanced search (/rest/api/3/search/jql), with properties=runbot. */
  searchPage(jql: string, shape: TicketShape, nextPageToken?: string): Promise<SearchPage>;
  /** A consistent read of one ticket, with its comments; undefined when it no longer exists. */
  getTicket(key: string, shape: TicketShape): Promise<Ticket | undefined>;
  /**
   * A wait step's check round: a consistent read of the ticket's fields and bookkeeping alone (no
   * comments, no transitions); undefined when it no longer exists. Nothing is written on the strength
   * of it: a write is decided on getTicket's full read (runner.ts).
   */
  getTicketFields(key: string, shape: TicketShape): Promise<Ticket | undefined>;
  /**
   * Moves the ticket from the status `from` to the status named `to`, with an optional comment and
   * bookkeeping in the same call. 'refused' when the ticket is no longer in `from` or no transition
   * to `to` is available now (a person moved the ticket: their move wins).
   */
  transitionTo(
    key: string,
    move: { from: string; to: string },
    options: {
      comment?: AdfDocument;
      bookkeeping?: Bookkeeping;
      /** Values for the transition screen's fields (the workflow's `transitions`), e.g. resolution. */
      fields?: Record<string, unknown>;
      /**
       * The Ticket object getTicket returned, when nothing ran since that read (a gate opening, an
       * escalation): the move takes the transition that read offered instead of reading the
       * transitions again. A move after a step ran omits it, so a person's move meanwhile wins; a
       * 400/409 on the move re-reads either way. An adapter that did not make the read ignores it.
       */
      freshRead?: Ticket;
    },
  ): Promise<TransitionOutcome>;
  /** `once`: a single attempt, a 429 thrown rather than waited out (the caller's retry decides again). */
  addComment(key: string, body: AdfDocument, options?: { once?: boolean }): Promise<void>;
  setBookkeeping(key: string, value: Bookkeeping): Promise<void>;
  /** Sets the assignee (an account id) and the due date (YYYY-MM-DD) in one edit; same values, same result. */
  editFields(key: string, fields: { assignee?: string; dueDate?: string }): Promise<void>;
  /** Field id → Jira display name, read once per process; empty when Jira could not say. */
  fieldNames?(): Promise<Record<string, string>>;
  /** A consistent read of the bookkeeping property alone; undefined when absent or unreadable. */
  getBookkeeping(key: string): Promise<Bookkeeping | undefined>;
}
