// Jira sandbox: the in-memory issue store. Every write goes through `mutate`, which works on a copy
// and swaps it in only if the whole change succeeded (so a refused transition changes nothing),
// bumps `updated`, records the version for the lagging search index and keeps the current
// state's indexes (search-index.ts; links by issue) up to date.
import { SearchIndex } from './search-index.js';
import type { IssueRecord, LinkRecord, LinkType } from './types.js';

// The link types a fresh Jira Cloud site has that the bot may use (GET /rest/api/3/issueLinkType).
export const LINK_TYPES: LinkType[] = [
  { id: '10000', name: 'Blocks', inward: 'is blocked by', outward: 'blocks' },
  { id: '10003', name: 'Relates', inward: 'relates to', outward: 'relates to' },
];

/** What a new issue starts from; the store adds ids, times, comments and properties. */
export type NewIssue = Pick<
  IssueRecord,
  'projectKey' | 'issueType' | 'status' | 'summary' | 'description' | 'labels' | 'custom'
>;

interface Version {
  at: number;
  issue: IssueRecord;
}

export class IssueStore {
  private readonly issues = new Map<string, IssueRecord>();
  private readonly keyById = new Map<string, string>();
  private readonly versions = new Map<string, Version[]>();
  private readonly nextNumber = new Map<string, number>();
  private readonly linksByKey = new Map<string, LinkRecord[]>();
  /** The current issues by project, status and custom text words (not the lagging view). */
  readonly index = new SearchIndex();
  private nextIssueId = 10000;
  private nextCommentId = 10000;
  private nextLinkId = 10000;
  private lastStamp = 0;

  constructor(
    private readonly clock: () => number,
    private readonly searchLagMs: number,
  ) {}

  /** A strictly increasing millisecond clock, so "updated" always moves and orderings are stable. */
  now(): number {
    this.lastStamp = Math.max(this.clock(), this.lastStamp + 1);
    return this.lastStamp;
  }

  create(input: NewIssue): IssueRecord {
    const number = this.nextNumber.get(input.projectKey) ?? 1;
    this.nextNumber.set(input.projectKey, number + 1);
    const at = this.now();
    const issue: IssueRecord = {
      ...input,
      id: String(this.nextIssueId++),
      key: `${input.projectKey}-${number}`,
      created: at,
      updated: at,
      comments: [],
      properties: {},
    };
    this.issues.set(issue.key, issue);
    this.keyById.set(issue.id, issue.key);
    this.index.update(undefined, issue);
    this.remember(issue, at);
    return issue;
  }

  /** By key (case-insensitive, as Jira accepts) or numeric id. */
  find(idOrKey: string): IssueRecord | undefined {
    const key = this.keyById.get(idOrKey) ?? idOrKey.toUpperCase();
    return this.issues.get(key);
  }

  all(): IssueRecord[] {
    return [...this.issues.values()];
  }

  /** Applies `change` to a copy of the issue; the store keeps the copy only if `change` did not throw. */
  mutate<T>(key: string, change: (draft: IssueRecord) => T): T {
    const current = this.issues.get(key);
    if (!current) throw new Error(`sandbox: no issue ${key}`);
    const draft = structuredClone(current);
    const result = change(draft);
    draft.updated = this.now();
    this.issues.set(key, draft);
    this.index.update(current, draft);
    this.remember(draft, draft.updated);
    return result;
  }

  newCommentId(): string {
    return String(this.nextCommentId++);
  }

  addLink(typeName: string, outwardKey: string, inwardKey: string): LinkRecord {
    const existing = this.linksOf(outwardKey).find(
      (l) => l.typeName === typeName && l.outwardKey === outwardKey && l.inwardKey === inwardKey,
    );
    if (existing) return existing; // Jira answers a duplicate link as created, without a second link
    const link: LinkRecord = { id: String(this.nextLinkId++), typeName, outwardKey, inwardKey };
    for (const end of new Set([outwardKey, inwardKey])) {
      const list = this.linksByKey.get(end);
      if (list) list.push(link);
      else this.linksByKey.set(end, [link]);
    }
    this.mutate(outwardKey, () => undefined);
    this.mutate(inwardKey, () => undefined);
    return link;
  }

  /** The links of one issue, in the order they were made. */
  linksOf(key: string): LinkRecord[] {
    return [...(this.linksByKey.get(key) ?? [])];
  }

  /** Whether the search index is the store itself (no lag): then `index` serves searches. */
  get searchIsCurrent(): boolean {
    return this.searchLagMs <= 0;
  }

  /**
   * What the search index holds now: each issue as it was `searchLagMs` ago (issues created later
   * are not there yet). GET issue reads `find`, which is always current — as in Jira.
   */
  searchable(): IssueRecord[] {
    if (this.searchLagMs <= 0) return this.all();
    const cutoff = this.clock() - this.searchLagMs;
    const visible: IssueRecord[] = [];
    for (const versions of this.versions.values()) {
      const seen = visibleVersion(versions, cutoff);
      if (seen) visible.push(seen);
    }
    return visible;
  }

  /** One issue as the search index holds it now (see `searchable`). */
  searchableOne(key: string): IssueRecord | undefined {
    if (this.searchLagMs <= 0) return this.issues.get(key);
    const versions = this.versions.get(key);
    return versions && visibleVersion(versions, this.clock() - this.searchLagMs);
  }

  private remember(issue: IssueRecord, at: number): void {
    if (this.searchLagMs <= 0) return;
    const list = this.versions.get(issue.key) ?? [];
    list.push({ at, issue: structuredClone(issue) });
    this.versions.set(issue.key, list);
  }
}

/** The last version at or before `cutoff`, dropping the older ones (they can never be seen again). */
function visibleVersion(versions: Version[], cutoff: number): IssueRecord | undefined {
  let index = -1;
  versions.forEach((version, i) => {
    if (version.at <= cutoff) index = i;
  });
  if (index > 0) versions.splice(0, index);
  return versions[index > 0 ? 0 : index]?.issue;
}
