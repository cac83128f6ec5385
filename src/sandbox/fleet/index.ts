// The simulated fleet's public surface: an in-process SSH server pretending to be the demo's hosts.
export { startFleet } from './fleet.js';
export type { Fleet, FleetCommand, StartFleetOptions } from './fleet.js';
export { DEFAULT_FLEET_PROFILE, FLEET_COMMAND_PATTERNS } from './profile.js';
export type { FleetProfile, HostRole } from './profile.js';
export { readCommandLine } from './command-line.js';
export type { CommandLine } from './command-line.js';
