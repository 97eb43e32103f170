/**
 * Optional peer dependencies (prom-client, @opentelemetry/api) are loaded only when a feature
 * asks for them, synchronously (both ship CommonJS), and a missing one gets an error saying how to
 * install it. Node's module cache makes repeated loads cheap.
 *
 * This is the one module whose declarations name the peers' own types. No public declaration
 * imports it (the package exports only its index), so a TypeScript user without the peers still
 * compiles with `strict` and without `skipLibCheck`; test/package/types.test.ts holds that.
 */
import { createRequire } from 'node:module';
import { MessageDbError } from '../vocabulary/errors.js';

const require = createRequire(import.meta.url);

/** Load `name`, or throw naming the feature that needs it and the install command. */
export function loadOptionalPeer<Module>(name: string, feature: string): Module {
  try {
    return require(name) as Module;
  } catch (error) {
    throw new MessageDbError(`${feature} need the ${name} package: npm install ${name}`, 'INVALID_ARGUMENT', { cause: error });
  }
}

/** Load prom-client, or explain how to get it. */
export const loadPromClient = (): typeof import('prom-client') => loadOptionalPeer('prom-client', 'Metrics');

/** Load @opentelemetry/api, or explain how to get it. */
export const loadOtel = (): typeof import('@opentelemetry/api') => loadOptionalPeer('@opentelemetry/api', 'Traces');
