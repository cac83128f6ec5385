// The actions, as walks over Redfish resources (DMTF's ComputerSystem, LogService, Memory and
// Processor schemas): find the system, read or change what the action is about, and say what was
// seen. Each returns the lines shown in the ticket, and a problem when the answer is not success.
import { linkOf, type RedfishSession, type RedfishResource } from './http.js';
import { RedfishProtocolError } from './errors.js';
import { resetTypeFor } from './command.js';
import type { RedfishAction, RedfishTarget } from './types.js';

export interface ActionOutcome {
  lines: string[];
  power?: 'on' | 'off';
  problem?: string;
}

/** How many entries (and pages of them) of a log are read at most. */
const MAX_LOG_PAGES = 20;

export async function runAction(
  session: RedfishSession,
  root: RedfishResource,
  target: RedfishTarget,
  action: RedfishAction,
): Promise<ActionOutcome> {
  const systemPath = await findSystem(session, root, target);
  switch (action) {
    case 'power-status':
      return powerStatus(await session.get(systemPath));
    case 'power-on':
    case 'power-off':
    case 'power-cycle':
      return reset(session, systemPath, action);
    case 'sel-read':
      return readLog(session, await findSel(session, systemPath));
    case 'sel-clear':
      return clearLog(session, await findSel(session, systemPath));
    case 'boot-pxe':
      return bootOnce(session, systemPath, 'Pxe');
    case 'boot-disk':
      return bootOnce(session, systemPath, 'Hdd');
    case 'health':
      return health(session, systemPath);
  }
}

/** The ComputerSystem: the one named by the inventory's `system`, else the only member. */
async function findSystem(
  session: RedfishSession,
  root: RedfishResource,
  target: RedfishTarget,
): Promise<string> {
  const collectionPath = linkOf(root, ['Systems']) ?? '/redfish/v1/Systems';
  const members = memberPaths(await session.get(collectionPath));
  if (target.system !== undefined) {
    const named = members.find((path) => path.replace(/\/+$/, '').endsWith(`/${target.system}`));
    if (!named) {
      throw new RedfishProtocolError(
        `GET ${collectionPath}`,
        `no system "${target.system}" (redfish.system in the inventory); the BMC lists ${members.join(', ') || 'none'}`,
      );
    }
    return named;
  }
  const [only, ...others] = members;
  if (only === undefined || others.length > 0) {
    throw new RedfishProtocolError(
      `GET ${collectionPath}`,
      `expected one system, the BMC lists ${members.length} (${members.join(', ')}); name one in redfish.system`,
    );
  }
  return only;
}

function memberPaths(collection: RedfishResource): string[] {
  const members = Array.isArray(collection.Members) ? (collection.Members as unknown[]) : [];
  return members.flatMap((member) => {
    const id =
      typeof member === 'object' && member !== null ? (member as RedfishResource)['@odata.id'] : undefined;
    return typeof id === 'string' ? [id] : [];
  });
}

function powerOf(system: RedfishResource): 'on' | 'off' | undefined {
  if (system.PowerState === 'On') return 'on';
  if (system.PowerState === 'Off') return 'off';
  return undefined;
}

function powerStatus(system: RedfishResource): ActionOutcome {
  const state = text(system.PowerState, 'missing');
  const power = powerOf(system);
  return power
    ? { lines: [`PowerState: ${state}`], power }
    : { lines: [`PowerState: ${state}`], problem: `the BMC reported PowerState "${state}", not On or Off` };
}

async function reset(
  session: RedfishSession,
  systemPath: string,
  action: 'power-on' | 'power-off' | 'power-cycle',
): Promise<ActionOutcome> {
  const system = await session.get(systemPath);
  const before = powerOf(system);
  // Repeating power-on or power-off is harmless, but sending it to a system already there is noise.
  if ((action === 'power-on' && before === 'on') || (action === 'power-off' && before === 'off')) {
    return {
      lines: [`PowerState: ${text(system.PowerState, 'missing')} (already; no reset sent)`],
      power: before,
    };
  }
  const resetAction = (system.Actions as RedfishResource | undefined)?.['#ComputerSystem.Reset'] as
    RedfishResource | undefined;
  const targetPath = typeof resetAction?.target === 'string' ? resetAction.target : undefined;
  if (!targetPath) {
    return { lines: [], problem: `the system ${systemPath} offers no #ComputerSystem.Reset action` };
  }
  const allowed = resetAction?.['ResetType@Redfish.AllowableValues'];
  const allowedTypes = Array.isArray(allowed) ? allowed.map(String) : undefined;
  // A cycle of a system that is off is a power-on: what the person asking for a cycle wants.
  const resetType = action === 'power-cycle' && before === 'off' ? 'On' : resetTypeFor(action, allowedTypes);
  if (allowedTypes && !allowedTypes.includes(resetType)) {
    return {
      lines: [`ResetType@Redfish.AllowableValues: ${allowedTypes.join(', ')}`],
      problem: `the BMC does not offer ResetType ${resetType}`,
    };
  }
  await session.send('POST', targetPath, { ResetType: resetType });
  return {
    lines: [
      `PowerState before: ${text(system.PowerState, 'missing')}`,
      `ComputerSystem.Reset ResetType=${resetType}: accepted`,
    ],
    ...(action === 'power-off' ? { power: 'off' as const } : { power: 'on' as const }),
  };
}

/** The system's SEL: the LogService with Id "SEL" (or LogEntryType SEL), else the only one. */
async function findSel(session: RedfishSession, systemPath: string): Promise<string> {
  const system = await session.get(systemPath);
  const servicesPath = linkOf(system, ['LogServices']);
  if (!servicesPath) throw new RedfishProtocolError(`GET ${systemPath}`, 'the system has no LogServices');
  const members = memberPaths(await session.get(servicesPath));
  const sel =
    members.find((path) => /\/SEL\/?$/i.test(path)) ?? (members.length === 1 ? members[0] : undefined);
  if (!sel) {
    throw new RedfishProtocolError(
      `GET ${servicesPath}`,
      `no SEL log service among ${members.join(', ') || 'none'}`,
    );
  }
  return sel;
}

async function readLog(session: RedfishSession, servicePath: string): Promise<ActionOutcome> {
  const service = await session.get(servicePath);
  let page: string | undefined = linkOf(service, ['Entries']);
  if (!page) return { lines: [], problem: `the log service ${servicePath} has no Entries` };
  const lines: string[] = [];
  for (let pages = 0; page && pages < MAX_LOG_PAGES; pages += 1) {
    const collection = await session.get(page);
    for (const entry of Array.isArray(collection.Members) ? (collection.Members as RedfishResource[]) : []) {
      lines.push(
        [entry.Created, entry.Severity, entry.Message ?? entry.Name]
          .map((value) => text(value, '-'))
          .join(' | '),
      );
    }
    const next = collection['Members@odata.nextLink'];
    page = typeof next === 'string' ? next : undefined;
  }
  return { lines: [`${lines.length} entries in ${servicePath}`, ...lines] };
}

async function clearLog(session: RedfishSession, servicePath: string): Promise<ActionOutcome> {
  const service = await session.get(servicePath);
  const action = (service.Actions as RedfishResource | undefined)?.['#LogService.ClearLog'] as
    RedfishResource | undefined;
  const targetPath = typeof action?.target === 'string' ? action.target : undefined;
  if (!targetPath)
    return { lines: [], problem: `the log service ${servicePath} offers no #LogService.ClearLog` };
  await session.send('POST', targetPath, {});
  return { lines: [`LogService.ClearLog ${servicePath}: accepted`] };
}

async function bootOnce(
  session: RedfishSession,
  systemPath: string,
  bootTarget: 'Pxe' | 'Hdd',
): Promise<ActionOutcome> {
  const { body: system, etag } = await session.getWithEtag(systemPath);
  const boot = (system.Boot ?? {}) as RedfishResource;
  const allowed = boot['BootSourceOverrideTarget@Redfish.AllowableValues'];
  if (Array.isArray(allowed) && !allowed.includes(bootTarget)) {
    return {
      lines: [`BootSourceOverrideTarget@Redfish.AllowableValues: ${allowed.join(', ')}`],
      problem: `the BMC does not offer BootSourceOverrideTarget ${bootTarget}`,
    };
  }
  await session.send(
    'PATCH',
    systemPath,
    { Boot: { BootSourceOverrideTarget: bootTarget, BootSourceOverrideEnabled: 'Once' } },
    etag ? { 'If-Match': etag } : {},
  );
  // Read back: a BMC may accept the PATCH and keep another value.
  const after = ((await session.get(systemPath)).Boot ?? {}) as RedfishResource;
  const lines = [
    `BootSourceOverrideTarget: ${text(after.BootSourceOverrideTarget, 'missing')}`,
    `BootSourceOverrideEnabled: ${text(after.BootSourceOverrideEnabled, 'missing')}`,
  ];
  return after.BootSourceOverrideTarget === bootTarget && after.BootSourceOverrideEnabled === 'Once'
    ? { lines }
    : { lines, problem: `the BMC did not keep the boot override ${bootTarget} (Once)` };
}

/** Status.Health of every memory module and processor present: the post-RMA memcheck question. */
async function health(session: RedfishSession, systemPath: string): Promise<ActionOutcome> {
  const system = await session.get(systemPath);
  const lines: string[] = [];
  const unhealthy: string[] = [];
  for (const kind of ['Memory', 'Processors'] as const) {
    const collectionPath = linkOf(system, [kind]);
    if (!collectionPath) {
      unhealthy.push(`the system has no ${kind} collection`);
      continue;
    }
    for (const path of memberPaths(await session.get(collectionPath))) {
      const member = await session.get(path);
      const status = (member.Status ?? {}) as RedfishResource;
      const name = text(member.Id, path);
      if (status.State === 'Absent') {
        lines.push(`${kind} ${name}: absent`);
        continue;
      }
      const healthValue = text(status.Health, 'unknown');
      lines.push(`${kind} ${name}: ${healthValue} (${text(status.State, 'unknown')})`);
      if (healthValue !== 'OK') unhealthy.push(`${kind} ${name} is ${healthValue}`);
    }
  }
  return unhealthy.length === 0
    ? { lines: [...lines, 'Health: OK'] }
    : { lines: [...lines, `Health: ${unhealthy.length} not OK`], problem: `${unhealthy.join('; ')}` };
}

/** A scalar field as text; anything else (missing, an object) as the fallback. */
function text(value: unknown, fallback: string): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : fallback;
}
