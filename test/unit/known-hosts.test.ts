// known_hosts parsing and host key decisions. Keys, fingerprints and hashed lines below were made
// by OpenSSH itself (ssh-keygen -t ed25519 / -lf / -H), so the parser is checked against it.
import { describe, expect, it } from 'vitest';
import {
  checkHostKey,
  knownHostsName,
  parseKnownHosts,
  pinnedKeys,
  sha256Fingerprint,
} from '../../src/executors/ssh/known-hosts.js';
import { preferPinnedAlgorithms } from '../../src/executors/ssh/connect.js';

const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICVyCxPFMMM+vMtzZ+cfo2PsheD65EzE/tUv71HlNBO+';
const FINGERPRINT_A = 'SHA256:cmNZ995vKhJFSD4Dco3bmcq8457tGgTPwHSQH8jtgWw';
const KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICBHIttgG/6Iz+wdMIP4NyWbgIcQmVBXiHuzJPiCXfSZ';
const FINGERPRINT_B = 'SHA256:FgCggnjxK4rqkTrikRzrbIRozZPn3ud3R4dTcaF4+X0';
const KEY_C =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBMWi6Y0HHiJQftg2ndaoITjBRptgQZh2F5kfwUElpt/dQhOQkROWt3WPMeOME/f9KQb5Y6iiMqzqRAWgHuv2CoQ=';
const FINGERPRINT_C = 'SHA256:0xd/+yKa5u4tzjbBgoKkJuuRwyzbbQnZCTZWB5I5pQU';
// `ssh-keygen -H` of "node-a17.dc1 KEY_A" and "[node-a17.dc1]:2222 KEY_B".
const HASHED_A = `|1|y2sffjz8XeQuGoYxq/mt1W8V3nA=|ElQVCYhw7fdO1cWm6FWLpZ/tB8g= ${KEY_A}`;
const HASHED_B_2222 = `|1|Res+M2uOOyo0ysNkEhWcOyRZLU8=|Wl8K5RbkRYi3nEkUg0uYsDtKz8U= ${KEY_B}`;

function blob(line: string): Buffer {
  return Buffer.from(line.split(' ')[1] ?? '', 'base64');
}

describe('known_hosts: names and fingerprints', () => {
  it('files port 22 under the bare name and other ports as [host]:port', () => {
    expect(knownHostsName('node-a17', 22)).toBe('node-a17');
    expect(knownHostsName('node-a17', 2222)).toBe('[node-a17]:2222');
  });

  it('lowercases the name, as OpenSSH does before lookup', () => {
    expect(knownHostsName('Node-A17.DC1', 22)).toBe('node-a17.dc1');
  });

  it('formats fingerprints exactly like ssh-keygen -lf', () => {
    expect(sha256Fingerprint(blob(KEY_A))).toBe(FINGERPRINT_A);
    expect(sha256Fingerprint(blob(KEY_B))).toBe(FINGERPRINT_B);
    expect(sha256Fingerprint(blob(KEY_C))).toBe(FINGERPRINT_C);
  });
});

describe('known_hosts: parsing', () => {
  it('skips comments, blank lines and @cert-authority lines, and reports malformed ones', () => {
    const text = [
      '# comment',
      '',
      '   ',
      `@cert-authority *.dc1 ${KEY_C}`,
      `node-a17 ${KEY_A} a comment with spaces`,
      'node-a18 ssh-ed25519',
      'node-a19 ssh-ed25519 not*base64',
      `node-a20 ssh-rsa ${KEY_A.split(' ')[1]}`,
      `@bogus node-a21 ${KEY_A}`,
      '|1|short|short ssh-ed25519 AAAA',
    ].join('\n');
    const parsed = parseKnownHosts(text);
    expect(parsed.entries.map((entry) => entry.line)).toEqual([5]);
    expect(parsed.invalidLines).toEqual([6, 7, 8, 9, 10]);
  });

  it('reads comma-separated host lists, CRLF line ends and the key type', () => {
    const parsed = parseKnownHosts(`node-a17,10.0.0.17,[node-a17]:2222 ${KEY_A}\r\n`);
    expect(parsed.entries).toHaveLength(1);
    expect(parsed.entries[0]?.patterns).toEqual(['node-a17', '10.0.0.17', '[node-a17]:2222']);
    expect(parsed.entries[0]?.keyType).toBe('ssh-ed25519');
  });
});

describe('known_hosts: checking an offered key', () => {
  it('trusts the pinned key for a plain name', () => {
    const known = parseKnownHosts(`node-a17,node-a17.dc1 ${KEY_A}\n`);
    expect(checkHostKey(known, 'node-a17.dc1', blob(KEY_A))).toEqual({ status: 'trusted' });
  });

  it('reports unknown when nothing is pinned for the name', () => {
    const known = parseKnownHosts(`node-a17 ${KEY_A}\n`);
    expect(checkHostKey(known, 'node-a18', blob(KEY_A))).toEqual({ status: 'unknown' });
  });

  it('reports changed, with the pinned fingerprints, when another key is pinned', () => {
    const known = parseKnownHosts(`node-a17 ${KEY_A}\nnode-a17 ${KEY_C}\n`);
    expect(checkHostKey(known, 'node-a17', blob(KEY_B))).toEqual({
      status: 'changed',
      knownFingerprints: [FINGERPRINT_A, FINGERPRINT_C],
    });
  });

  it('does not use a port-22 entry for another port', () => {
    const known = parseKnownHosts(`node-a17 ${KEY_A}\n`);
    expect(checkHostKey(known, knownHostsName('node-a17', 2222), blob(KEY_A))).toEqual({ status: 'unknown' });
    const withPort = parseKnownHosts(`[node-a17]:2222 ${KEY_A}\n`);
    expect(checkHostKey(withPort, knownHostsName('node-a17', 2222), blob(KEY_A))).toEqual({
      status: 'trusted',
    });
    expect(checkHostKey(withPort, knownHostsName('node-a17', 22), blob(KEY_A))).toEqual({
      status: 'unknown',
    });
  });

  it('matches hashed entries written by ssh-keygen -H, for port 22 and [host]:port', () => {
    const known = parseKnownHosts(`${HASHED_A}\n${HASHED_B_2222}\n`);
    expect(checkHostKey(known, knownHostsName('node-a17.dc1', 22), blob(KEY_A))).toEqual({
      status: 'trusted',
    });
    expect(checkHostKey(known, knownHostsName('node-a17.dc1', 2222), blob(KEY_B))).toEqual({
      status: 'trusted',
    });
    expect(checkHostKey(known, knownHostsName('node-a18.dc1', 22), blob(KEY_A))).toEqual({
      status: 'unknown',
    });
    expect(checkHostKey(known, knownHostsName('node-a17.dc1', 22), blob(KEY_B))).toEqual({
      status: 'changed',
      knownFingerprints: [FINGERPRINT_A],
    });
  });

  it('refuses a revoked key even where it is also pinned, and under any name', () => {
    const known = parseKnownHosts(`node-a17 ${KEY_A}\n@revoked node-a99 ${KEY_A}\n`);
    expect(checkHostKey(known, 'node-a17', blob(KEY_A))).toEqual({ status: 'revoked' });
  });

  it('does not count a revoked line as a pinned key', () => {
    const known = parseKnownHosts(`@revoked node-a17 ${KEY_A}\n`);
    expect(checkHostKey(known, 'node-a17', blob(KEY_B))).toEqual({ status: 'unknown' });
  });

  it('matches * and ? patterns, and a matching !negation wins', () => {
    const known = parseKnownHosts(`node-a?.dc1,*.dc2,!node-b1.dc2 ${KEY_A}\n`);
    expect(checkHostKey(known, 'node-a7.dc1', blob(KEY_A)).status).toBe('trusted');
    expect(checkHostKey(known, 'node-a17.dc1', blob(KEY_A)).status).toBe('unknown');
    expect(checkHostKey(known, 'node-b2.dc2', blob(KEY_A)).status).toBe('trusted');
    expect(checkHostKey(known, 'node-b1.dc2', blob(KEY_A)).status).toBe('unknown');
  });

  it('treats dots in patterns literally', () => {
    const known = parseKnownHosts(`10.0.0.1 ${KEY_A}\n`);
    expect(checkHostKey(known, '10a0b0c1', blob(KEY_A)).status).toBe('unknown');
  });

  it('matches plain patterns case-insensitively', () => {
    const known = parseKnownHosts(`Node-A17 ${KEY_A}\n`);
    expect(checkHostKey(known, knownHostsName('NODE-a17', 22), blob(KEY_A)).status).toBe('trusted');
  });
});

describe('known_hosts: the per-file index answers as a scan of every line would', () => {
  // Literal names (filed by name), wildcards, negations and hashed names (scanned), revoked lines.
  const text = [
    `node-a17,node-a18 ${KEY_A}`,
    `node-a?,!node-a9 ${KEY_B}`,
    HASHED_A,
    `@revoked node-a19 ${KEY_C}`,
    `NODE-A17 ${KEY_C}`,
    `*.dc1 ${KEY_B}`,
  ].join('\n');

  it('lists the pinned lines in file order, literal, pattern and hashed alike, and not the revoked', () => {
    const known = parseKnownHosts(text);
    const lines = (name: string) => pinnedKeys(known, name).map((entry) => entry.line);
    expect(lines('node-a17')).toEqual([1, 5]);
    expect(lines('node-a1')).toEqual([2]);
    expect(lines('node-a9')).toEqual([]);
    expect(lines('node-a17.dc1')).toEqual([3, 6]);
    expect(lines('node-a19')).toEqual([]);
    // Asked again (remembered): the same answer, and a caller's change to it does not stick.
    pinnedKeys(known, 'node-a17').pop();
    expect(lines('node-a17')).toEqual([1, 5]);
  });

  it('decides trusted, changed, unknown and revoked as before', () => {
    const known = parseKnownHosts(text);
    expect(checkHostKey(known, 'node-a18', blob(KEY_A)).status).toBe('trusted');
    expect(checkHostKey(known, 'node-a17', blob(KEY_C)).status).toBe('revoked');
    expect(checkHostKey(known, 'node-a17', blob(KEY_B))).toEqual({
      status: 'changed',
      knownFingerprints: [FINGERPRINT_A, FINGERPRINT_C],
    });
    expect(checkHostKey(known, 'node-a9', blob(KEY_B)).status).toBe('unknown');
    expect(checkHostKey(known, 'node-a17.dc1', blob(KEY_B)).status).toBe('trusted');
    expect(checkHostKey(known, 'node-b1', blob(KEY_A)).status).toBe('unknown');
  });

  it('sees a key pinned later in a new parse of the changed file', () => {
    const before = parseKnownHosts(`node-a17 ${KEY_A}\n`);
    expect(checkHostKey(before, 'node-a20', blob(KEY_B)).status).toBe('unknown');
    const after = parseKnownHosts(`node-a17 ${KEY_A}\nnode-a20 ${KEY_B}\n`);
    expect(checkHostKey(after, 'node-a20', blob(KEY_B)).status).toBe('trusted');
  });
});

describe('known_hosts: host key algorithm preference', () => {
  it('asks first for the types pinned for the name, then the defaults', () => {
    const known = parseKnownHosts(`node-a17 ${KEY_C}\n`);
    const order = preferPinnedAlgorithms(known, 'node-a17');
    expect(order[0]).toBe('ecdsa-sha2-nistp256');
    expect(new Set(order).size).toBe(order.length);
    expect(order).toContain('ssh-ed25519');
  });

  it('keeps the default order when nothing is pinned', () => {
    expect(preferPinnedAlgorithms(parseKnownHosts(''), 'node-a17')[0]).toBe('ssh-ed25519');
  });
});
