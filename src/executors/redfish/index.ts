// The Redfish executor's public surface.
export { RedfishRunner, type RedfishRunnerOptions } from './runner.js';
export { redfishtoolCommandLine, resetTypeFor } from './command.js';
export { normalizeFingerprint } from './http.js';
export {
  RedfishAuthError,
  RedfishCertificateError,
  RedfishPasswordMissingError,
  RedfishProtocolError,
  RedfishTimeoutError,
  RedfishUnreachableError,
} from './errors.js';
export {
  REDFISH_ACTIONS,
  type RedfishAction,
  type RedfishExecutor,
  type RedfishResult,
  type RedfishTarget,
  type RedfishTrust,
} from './types.js';
