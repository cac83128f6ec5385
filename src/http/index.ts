// HTTP edge: health, readiness, metrics, webhook hint.
export * from './metrics.js';
export * from './server.js';
export * from './readiness.js';
export type { WebhookHint } from './webhook.js';
