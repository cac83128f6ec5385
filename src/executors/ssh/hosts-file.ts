// RUNBOT_HOSTS_FILE: names to addresses, in /etc/hosts form (`ADDRESS NAME [ALIAS…]`, `#` comments),
// read by both SSH transports for a target (or jump host) without an inventory `address`, the way
// nsswitch's `files` comes before DNS: a name the file does not list is dialled by name. The file is
// re-read when its size or mtime changes (a stat per connection), so hosts added later are found.
import { readFile, stat } from 'node:fs/promises';
import type { SshTarget } from '../types.js';

export class HostsFile {
  private cached: { key: string; addresses: Map<string, string> } | undefined;

  constructor(private readonly file: string) {}

  /** The address the file gives `name` (case-insensitive), or undefined. */
  async addressOf(name: string): Promise<string | undefined> {
    return (await this.read()).get(name.toLowerCase());
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
    let key: string;
    try {
      const info = await stat(this.file);
      key = `${info.size}:${info.mtimeMs}`;
    } catch (error) {
      throw new Error(`RUNBOT_HOSTS_FILE ${this.file} cannot be read: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (this.cached?.key === key) return this.cached.addresses;
    const addresses = parseHostsFile(await readFile(this.file, 'utf8'));
    this.cached = { key, addresses };
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
