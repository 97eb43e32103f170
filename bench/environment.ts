/**
 * What a result was measured on: the machine, the versions of everything involved, and the date.
 * Figures without these are not comparable across runs.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { MESSAGE_DB_VERSION } from '../src/index.ts';

export interface Environment {
  date: string;
  machine: string;
  node: string;
  postgres: string;
  /** The server measured: what, which version, where (no credentials). */
  server: string;
  pgbench: string | undefined;
  messageDb: string;
  packages: Record<string, string>;
  /** 1-minute load averages when the run started (and, once set, ended): how busy the shared machine was. */
  loadAtStart: number;
  loadAtEnd?: number;
}

const require = createRequire(import.meta.url);

/** The installed version of a package, or `not installed`. */
export function packageVersion(name: string): string {
  try {
    const entry = require.resolve(name);
    // Walk up from the entry file to the package's own package.json (exports may hide it).
    for (let directory = dirname(entry); directory !== dirname(directory); directory = dirname(directory)) {
      try {
        const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (manifest.name === name) return manifest.version ?? 'unknown';
      } catch {
        // no package.json at this level
      }
    }
  } catch {
    return 'not installed';
  }
  return 'unknown';
}

export async function describeEnvironment(serverVersion: string, server: string, pgbench: string | undefined): Promise<Environment> {
  const processors = cpus();
  const own = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    machine: `${processors.length} x ${processors[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}`,
    node: process.version,
    postgres: serverVersion,
    server,
    pgbench,
    messageDb: MESSAGE_DB_VERSION,
    loadAtStart: loadavg()[0] ?? 0,
    packages: {
      messagedb: own.version,
      pg: packageVersion('pg'),
      postgres: packageVersion('postgres'),
      '@doughtnerd/message-store-connector': packageVersion('@doughtnerd/message-store-connector'),
      'message-db-connector': packageVersion('message-db-connector'),
      '@event-driven-io/emmett-postgresql': packageVersion('@event-driven-io/emmett-postgresql'),
    },
  };
}

/** The current 1-minute load average. */
export function currentLoad(): number {
  return loadavg()[0] ?? 0;
}
