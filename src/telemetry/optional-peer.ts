/**
 * Optional peer dependencies (prom-client, @opentelemetry/api) are loaded only when a feature
 * asks for them, synchronously (both ship CommonJS), and a missing one gets an error saying how to
 * install it. Node's module cache makes repeated loads cheap.
 */
import { createRequire } from 'node:module';
import { MessageDbError } from '../errors.js';

const require = createRequire(import.meta.url);

/** Load `name`, or throw naming the feature that needs it and the install command. */
export function loadOptionalPeer<Module>(name: string, feature: string): Module {
  try {
    return require(name) as Module;
  } catch (error) {
    throw new MessageDbError(`${feature} need the ${name} package: npm install ${name}`, 'INVALID_ARGUMENT', { cause: error });
  }
}
