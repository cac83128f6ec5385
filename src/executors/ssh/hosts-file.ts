// RUNBOT_HOSTS_FILE: names to addresses, in /etc/hosts form (`ADDRESS NAME [ALIAS…]`, `#` comments),
// read by both SSH transports for a target (or jump host) without an inventory `address`, the way
// nsswitch's `files` comes before DNS: a name the file does not list is dialled by name. The file is
// read again at most once a second for a name it lists, and at once for a name it does not (a host
// just added), so a busy runner does not read it per command; it is parsed only when it changed.
import { readFile } from 'node:fs/promises';
import type { SshTarget } from '../types.js';

const RECHECK_MS = 1_000;

export class HostsFile {
  private cached: { text: string; addresses: Map<string, string>; checkedAt: number } | undefined;

  constructor(private readonly file: string) {}

  /** The address the file gives `name` (case-insensitive), or undefined. */
  async addressOf(name: string): Promise<string | undefined> {
    const lower = name.toLowerCase();
    const cached = this.cached;
    const known = cached?.addresses.get(lower);
    if (cached && known !== undefined && performance.now() - cached.checkedAt < RECHECK_MS) return known;
    return (await this.read()).get(lower);
  }

  /** The target with `address` filled in from the file, for itself and its jump host, where unset. */
  async resolve(target: SshTarget): Promise<SshTarget> {
    const address = target.address ?? (await this.addressOf(target.host));
    const jump = target.jump;
    const jumpAddress = jump && (jump.address ?? (await this.addressOf(jump.host)));
    return {
      ...target,
      ...(address === undefined ? {} : { address }),
      ...(jump ? { jump: { ...jump, ...(jumpAddress === undefined ? {} : { address: jumpAddress }) } } : {}),
    };
  }

  private async read(): Promise<Map<string, string>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      throw new Error(`RUNBOT_HOSTS_FILE ${this.file} cannot be read: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const checkedAt = performance.now();
    if (this.cached?.text === text) {
      this.cached.checkedAt = checkedAt;
      return this.cached.addresses;
    }
    const addresses = parseHostsFile(text);
    this.cached = { text, addresses, checkedAt };
    return addresses;
  }
}

/** Name (lower case) → address; the first line naming a host wins, as in /etc/hosts. */
export function parseHostsFile(text: string): Map<string, string> {
  const addresses = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [address, ...names] = (line.split('#')[0] ?? '').trim().split(/\s+/);
    if (!address || names.length === 0) continue;
    for (const name of names) {
      const lower = name.toLowerCase();
      if (!addresses.has(lower)) addresses.set(lower, address);
    }
  }
  return addresses;
}
