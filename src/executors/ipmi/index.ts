// The IPMI executor's public surface.
export { IpmiRunner, type IpmiRunnerOptions } from './ipmitool.js';
export { ipmitoolArgs, ipmitoolCommandLine, parseIpmiOutput } from './command.js';
export {
  classifySessionFailure,
  IpmiAuthError,
  IpmiPasswordMissingError,
  IpmiToolMissingError,
  IpmiUnreachableError,
} from './errors.js';
