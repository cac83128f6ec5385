// Queue: BullMQ jobs named by ticket visit, per-site queues, caps and the global pause.
export * from './jobs.js';
export * from './queue.js';
export * from './limiter.js';
export * from './caps.js';
export * from './pause.js';
export * from './breaker.js';
export * from './sentinel.js';
export * from './connection.js';
export * from './slots.js';
