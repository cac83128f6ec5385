// An in-memory JiraPort for unit tests of the runner: tickets in a map, every call recorded. It keeps
// the contract the runner relies on: a move from a status the ticket is no longer in is refused (a
// person's move wins), the comment and the bookkeeping go with the move, reads return copies, and
// the light read (getTicketFields) has neither comments nor transitions.
import { plainText, type AdfDocument } from '../../src/jira/adf.js';
import type { JiraPort, SearchPage, TransitionOutcome } from '../../src/jira/port.js';
import type { Bookkeeping, Ticket } from '../../src/planner/index.js';

export type JiraCall =
  | { call: 'getTicket'; key: string }
  | { call: 'getTicketFields'; key: string }
  | { call: 'transitionTo'; key: string; from: string; to: string; outcome: TransitionOutcome }
  | { call: 'addComment'; key: string; text: string }
  | { call: 'setBookkeeping'; key: string; value: Bookkeeping }
  | { call: 'editFields'; key: string; fields: { assignee?: string; dueDate?: string } }
  | { call: 'getBookkeeping'; key: string };

export class MemoryJira implements JiraPort {
  readonly calls: JiraCall[] = [];
  private readonly tickets = new Map<string, Ticket>();
  private nextComment = 1;

  constructor(tickets: Ticket[] = []) {
    for (const ticket of tickets) this.put(ticket);
  }

  put(ticket: Ticket): void {
    this.tickets.set(ticket.key, structuredClone({ comments: [], ...ticket }));
  }

  remove(key: string): void {
    this.tickets.delete(key);
  }

  /** The ticket as stored (status, bookkeeping, comments), for assertions. */
  peek(key: string): Ticket | undefined {
    return this.tickets.get(key);
  }

  /** The plain text of the ticket's comments, oldest first. */
  comments(key: string): string[] {
    return (this.tickets.get(key)?.comments ?? []).map((comment) => comment.text);
  }

  /** The calls that write (transition, comment, bookkeeping, fields). */
  writes(): JiraCall[] {
    const reads = new Set<JiraCall['call']>(['getTicket', 'getTicketFields', 'getBookkeeping']);
    return this.calls.filter((call) => !reads.has(call.call));
  }

  searchPage(): Promise<SearchPage> {
    const tickets = [...this.tickets.values()].map((ticket) => structuredClone(ticket));
    return Promise.resolve({ tickets, nextPageToken: undefined });
  }

  getTicket(key: string): Promise<Ticket | undefined> {
    this.calls.push({ call: 'getTicket', key });
    const ticket = this.tickets.get(key);
    return Promise.resolve(ticket && structuredClone(ticket));
  }

  /** The light read: as getTicket, without the comments and the transitions. */
  getTicketFields(key: string): Promise<Ticket | undefined> {
    this.calls.push({ call: 'getTicketFields', key });
    const ticket = this.tickets.get(key);
    if (!ticket) return Promise.resolve(undefined);
    const fields = structuredClone(ticket);
    delete fields.comments;
    delete fields.transitions;
    return Promise.resolve(fields);
  }

  transitionTo(
    key: string,
    move: { from: string; to: string },
    options: { comment?: AdfDocument; bookkeeping?: Bookkeeping },
  ): Promise<TransitionOutcome> {
    const ticket = this.tickets.get(key);
    const outcome = ticket?.status === move.from ? 'transitioned' : 'refused';
    this.calls.push({ call: 'transitionTo', key, ...move, outcome });
    if (ticket && outcome === 'transitioned') {
      ticket.status = move.to;
      if (options.comment) this.comment(ticket, options.comment);
      if (options.bookkeeping) ticket.bookkeeping = structuredClone(options.bookkeeping);
    }
    return Promise.resolve(outcome);
  }

  addComment(key: string, body: AdfDocument): Promise<void> {
    const ticket = this.tickets.get(key);
    this.calls.push({ call: 'addComment', key, text: plainText(body) });
    if (ticket) this.comment(ticket, body);
    return Promise.resolve();
  }

  setBookkeeping(key: string, value: Bookkeeping): Promise<void> {
    this.calls.push({ call: 'setBookkeeping', key, value: structuredClone(value) });
    const ticket = this.tickets.get(key);
    if (ticket) ticket.bookkeeping = structuredClone(value);
    return Promise.resolve();
  }

  editFields(key: string, fields: { assignee?: string; dueDate?: string }): Promise<void> {
    this.calls.push({ call: 'editFields', key, fields });
    return Promise.resolve();
  }

  getBookkeeping(key: string): Promise<Bookkeeping | undefined> {
    this.calls.push({ call: 'getBookkeeping', key });
    return Promise.resolve(structuredClone(this.tickets.get(key)?.bookkeeping));
  }

  private comment(ticket: Ticket, body: AdfDocument): void {
    ticket.comments = [...(ticket.comments ?? []), { id: String(this.nextComment++), text: plainText(body) }];
  }
}
