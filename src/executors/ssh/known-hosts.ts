// OpenSSH known_hosts: parse the file and decide whether a server's host key is the pinned one.
// Written here because no npm package for known_hosts is well kept (none in the registry list
// handles hashed `|1|` entries, `[host]:port` and `@revoked` together), and ssh2 parses none of it.
// Format: sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"; matching follows OpenSSH's match_hostname().
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** One key line of a known_hosts file. `@cert-authority` lines are skipped: we pin plain host keys. */
export interface KnownHostEntry {
  /** 1-based line number in the file, for messages. */
  line: number;
  marker: 'revoked' | null;
  /** Plain entries: the comma-separated patterns; hashed entries: empty. */
  patterns: string[];
  hashed: { salt: Buffer; hash: Buffer } | null;
  keyType: string;
  /** The key blob in SSH wire format (what the server sends). */
  key: Buffer;
}

export interface KnownHosts {
  entries: KnownHostEntry[];
  /** Lines that are neither comments, blank, `@cert-authority`, nor a valid key line. */
  invalidLines: number[];
}

export type HostKeyCheck =
  | { status: 'trusted' }
  | { status: 'revoked' }
  | { status: 'unknown' }
  /** Keys are pinned for this name, but not the one offered. */
  | { status: 'changed'; knownFingerprints: string[] };

/** The name a host key is filed under: `host` on port 22, else `[host]:port` (like OpenSSH). */
export function knownHostsName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === 22 ? lower : `[${lower}]:${port}`;
}

/** OpenSSH's fingerprint format: `SHA256:` + unpadded base64 of the SHA-256 of the key blob. */
export function sha256Fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type string at the start of an SSH wire-format key blob, e.g. `ssh-ed25519`. */
export function keyTypeOfBlob(key: Buffer): string | null {
  if (key.length < 4) return null;
  const length = key.readUInt32BE(0);
  if (length === 0 || 4 + length > key.length) return null;
  return key.subarray(4, 4 + length).toString('latin1');
}

export function parseKnownHosts(text: string): KnownHosts {
  const entries: KnownHostEntry[] = [];
  const invalidLines: number[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const parsed = parseLine(trimmed, lineNumber);
    if (parsed === 'skip') return;
    if (parsed === null) invalidLines.push(lineNumber);
    else entries.push(parsed);
  });
  return { entries, invalidLines };
}

function parseLine(line: string, lineNumber: number): KnownHostEntry | 'skip' | null {
  let fields = line.split(/\s+/);
  let marker: KnownHostEntry['marker'] = null;
  if (fields[0]?.startsWith('@')) {
    if (fields[0] === '@cert-authority') return 'skip';
    if (fields[0] !== '@revoked') return null;
    marker = 'revoked';
    fields = fields.slice(1);
  }
  const [names, keyType, base64] = fields;
  if (names === undefined || keyType === undefined || base64 === undefined) return null;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return null;
  const key = Buffer.from(base64, 'base64');
  // The blob names its own type; a mismatch means a corrupt or hand-edited line.
  if (keyTypeOfBlob(key) !== keyType) return null;
  if (names.startsWith('|')) {
    const hashed = parseHashedName(names);
    if (hashed === null) return null;
    return { line: lineNumber, marker, patterns: [], hashed, keyType, key };
  }
  return { line: lineNumber, marker, patterns: names.split(','), hashed: null, keyType, key };
}

/** `|1|base64(salt)|base64(hmac-sha1(salt, name))`, the only hash format OpenSSH writes. */
function parseHashedName(field: string): { salt: Buffer; hash: Buffer } | null {
  const parts = field.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return null;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const hash = Buffer.from(parts[3] ?? '', 'base64');
  if (salt.length !== 20 || hash.length !== 20) return null;
  return { salt, hash };
}

/** Does this entry apply to `name` (already in `knownHostsName` form)? */
function entryMatchesName(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed !== null) {
    const digest = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return timingSafeEqual(digest, entry.hashed.hash);
  }
  // match_hostname(): any negated pattern that matches wins; otherwise any positive match.
  let matched = false;
  for (const pattern of entry.patterns) {
    const negated = pattern.startsWith('!');
    const body = (negated ? pattern.slice(1) : pattern).toLowerCase();
    if (!globMatch(body, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** Compiled wildcard patterns (`*`, `?`), by pattern: a file has few distinct ones. */
const globs = new Map<string, RegExp>();

/** OpenSSH patterns: `*` any run of characters, `?` exactly one; everything else literal. */
function globMatch(pattern: string, text: string): boolean {
  if (!isWildcard(pattern)) return pattern === text;
  let compiled = globs.get(pattern);
  if (compiled === undefined) {
    const source = pattern
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')))
      .join('');
    compiled = new RegExp(`^${source}$`, 's');
    if (globs.size >= MEMO_MAX) globs.clear();
    globs.set(pattern, compiled);
  }
  return compiled.test(text);
}

function isWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/**
 * A parsed file's lookups, built once per parse: the revoked keys, the plain entries filed under
 * literal names by name, the rest (patterns with wildcards or negations, hashed names) scanned in
 * file order, and each name's answer remembered. The parse is cached until the file's text changes
 * (connect.ts), so a connection costs a map lookup rather than a scan of every line (an HMAC per
 * hashed line), while the answers stay exactly those of the scan.
 */
interface KnownHostsIndex {
  revoked: KnownHostEntry[];
  literal: Map<string, KnownHostEntry[]>;
  scanned: KnownHostEntry[];
  pinned: Map<string, KnownHostEntry[]>;
}

/** Names remembered per parse before the memo starts over (a fleet's hosts; a bound, not a tuning). */
const MEMO_MAX = 50_000;

const indexes = new WeakMap<KnownHosts, KnownHostsIndex>();

function indexOf(knownHosts: KnownHosts): KnownHostsIndex {
  let index = indexes.get(knownHosts);
  if (index !== undefined) return index;
  index = { revoked: [], literal: new Map(), scanned: [], pinned: new Map() };
  for (const entry of knownHosts.entries) {
    if (entry.marker === 'revoked') {
      index.revoked.push(entry);
      continue;
    }
    const literal =
      entry.hashed === null && entry.patterns.every((p) => !p.startsWith('!') && !isWildcard(p));
    if (!literal) {
      index.scanned.push(entry);
      continue;
    }
    for (const name of new Set(entry.patterns.map((p) => p.toLowerCase()))) {
      const filed = index.literal.get(name);
      if (filed === undefined) index.literal.set(name, [entry]);
      else filed.push(entry);
    }
  }
  indexes.set(knownHosts, index);
  return index;
}

/**
 * The decision OpenSSH makes with StrictHostKeyChecking=yes. A revoked key is refused wherever it
 * is listed (stricter than OpenSSH, which applies `@revoked` per host pattern): a key that was
 * revoked for one host is not one we want to trust for another.
 */
export function checkHostKey(knownHosts: KnownHosts, name: string, offered: Buffer): HostKeyCheck {
  if (indexOf(knownHosts).revoked.some((entry) => entry.key.equals(offered))) {
    return { status: 'revoked' };
  }
  const pinned = pinnedKeys(knownHosts, name);
  if (pinned.some((entry) => entry.key.equals(offered))) return { status: 'trusted' };
  if (pinned.length === 0) return { status: 'unknown' };
  return { status: 'changed', knownFingerprints: pinned.map((entry) => sha256Fingerprint(entry.key)) };
}

/** The non-revoked keys pinned for `name`, in file order. */
export function pinnedKeys(knownHosts: KnownHosts, name: string): KnownHostEntry[] {
  const index = indexOf(knownHosts);
  const remembered = index.pinned.get(name);
  if (remembered !== undefined) return [...remembered];
  const literal = index.literal.get(name) ?? [];
  const scanned = index.scanned.filter((entry) => entryMatchesName(entry, name));
  const pinned = scanned.length === 0 ? literal : [...literal, ...scanned].sort((a, b) => a.line - b.line);
  if (index.pinned.size >= MEMO_MAX) index.pinned.clear();
  index.pinned.set(name, pinned);
  return [...pinned];
}
