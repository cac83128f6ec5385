// Read-your-writes for the enhanced search: which issues the bot changed lately, so the adapter can
// name them in `reconcileIssues` and see its own moves at once despite the search index's lag
// (https://developer.atlassian.com/cloud/jira/platform/search-and-reconcile/).

const RECONCILE_MAX = 50; // the spec: "Accepts max 50 ids"
const RECONCILE_WINDOW_MS = 5 * 60_000; // far longer than Jira's index lag (seconds)
const KNOWN_IDS_MAX = 10_000;

/**
 * Which issues the bot wrote lately, by numeric id (what `reconcileIssues` takes; ids are learnt from
 * the issues the adapter reads). Bounded in size and age; losing it costs only consistency hints,
 * never correctness: the worker re-reads every ticket before it acts.
 */
export function createRecentWrites(now: () => number) {
  const idByKey = new Map<string, number>();
  const writtenAt = new Map<number, number>();
  const walks = new Map<string, number[]>();
  // Checked before iterating: a Map's iterator steps over the holes its deletes left at the front
  // until V8 compacts it, so starting one on every remember (delete + set, size unchanged) walked
  // thousands of holes per call (17 % of a poll cycle's CPU at 10,000 tickets).
  const forget = <K, V>(map: Map<K, V>, max: number) => {
    if (map.size <= max) return;
    for (const oldest of map.keys()) {
      if (map.size <= max) break;
      map.delete(oldest);
    }
  };
  return {
    remember(raw: unknown): void {
      if (typeof raw !== 'object' || raw === null) return;
      const { id, key } = raw as { id?: unknown; key?: unknown };
      const numeric = typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : undefined;
      if (typeof key !== 'string' || numeric === undefined) return;
      idByKey.delete(key);
      idByKey.set(key, numeric);
      forget(idByKey, KNOWN_IDS_MAX);
    },
    wrote(key: string): void {
      const id = idByKey.get(key);
      if (id === undefined) return;
      writtenAt.delete(id);
      writtenAt.set(id, now());
      forget(writtenAt, RECONCILE_MAX);
    },
    /** A change learnt elsewhere (a verified webhook delivery names the id): reconcile it too. */
    changed(id: number): void {
      if (!Number.isSafeInteger(id) || id <= 0) return;
      writtenAt.delete(id);
      writtenAt.set(id, now());
      forget(writtenAt, RECONCILE_MAX);
    },
    /** The ids for a page: fresh for a first page, the walk's own list for a later one. */
    reconcileList(nextPageToken: string | undefined): number[] {
      if (nextPageToken !== undefined) return walks.get(nextPageToken) ?? [];
      const since = now() - RECONCILE_WINDOW_MS;
      for (const [id, at] of writtenAt) if (at < since) writtenAt.delete(id);
      return [...writtenAt.keys()];
    },
    continueWalk(nextPageToken: string, ids: number[]): void {
      if (ids.length === 0) return;
      walks.set(nextPageToken, ids);
      forget(walks, 100);
    },
  };
}
