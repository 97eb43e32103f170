/**
 * messagedb/testing: a real Message DB per test, in memory, in well under a second (or one shared
 * store and a category per test), and helpers that read like the domain. Depends on no test
 * framework: failures are node:assert's AssertionError, which node:test, vitest and jest report.
 */
export { closeSharedTestClient, createTestClient, sharedTestClient } from './test-client.js';
export type { TestClientConfig } from './test-client.js';
export { randomCategory, randomId, randomStreamName } from './test-names.js';
export { sequentialIds, testClock } from './test-clock.js';
export type { TestClock } from './test-clock.js';
export { describeMessages, expectNothingWritten, expectWritten, given, written } from './stream-expectations.js';
export type { ExpectedMessage, GivenMessage } from './stream-expectations.js';
export { handleCommand, runHandler } from './run-handler.js';
export type { RunHandlerOptions } from './run-handler.js';
export { runUntilCaughtUp } from './caught-up.js';
export type { RunUntilCaughtUpOptions } from './caught-up.js';
