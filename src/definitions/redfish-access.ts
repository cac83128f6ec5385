// The inventory's Redfish access, checked where it can be only with the file system: a `ca` file is
// resolved against the inventory's directory (so an inventory moves with its CA) and must be readable.
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import type { DefinitionProblem } from './errors.js';
import type { Inventory } from './schema.js';
import type { SourceFile } from './yaml-file.js';

/** The inventory with every `redfish.ca` made absolute, and a problem for each CA file not readable. */
export async function resolveRedfishCaFiles(
  source: SourceFile<Inventory>,
): Promise<{ inventory: Inventory; problems: DefinitionProblem[] }> {
  const dir = path.dirname(path.resolve(source.file));
  const problems: DefinitionProblem[] = [];
  const sites: Inventory['sites'] = {};
  for (const [name, site] of Object.entries(source.value.sites)) {
    const redfish = site.redfish;
    if (redfish === 'none' || redfish.ca === undefined) {
      sites[name] = site;
      continue;
    }
    const ca = path.resolve(dir, redfish.ca);
    try {
      await access(ca, constants.R_OK);
    } catch {
      problems.push({
        file: source.file,
        ...source.locate(['sites', name, 'redfish', 'ca']),
        message: `sites.${name}.redfish.ca: cannot read the CA file ${ca}`,
      });
    }
    sites[name] = { ...site, redfish: { ...redfish, ca } };
  }
  return { inventory: { ...source.value, sites }, problems };
}
