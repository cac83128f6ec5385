// Queue: BullMQ jobs named by ticket visit, and the worker lifecycle.
export * from './jobs.js';
export * from './queue.js';
