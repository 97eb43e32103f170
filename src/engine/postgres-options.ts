/**
 * What the postgres engine opens its postgres.js connections with, from the resolved config: the
 * connection string read here (not by postgres.js, which would send every query parameter it does
 * not know, `password` included, to the server as a startup setting), the startup options merged
 * with the user's (startup-options.ts), and the client's settings.
 */
import type postgres from 'postgres';
import { InvalidArgumentError } from '../vocabulary/errors.js';
import { startupOptionsFor } from './startup-options.js';

/** What the postgres engine needs, already resolved from the caller's config. */
export interface PostgresEngineConfig {
  connectionString: string | undefined;
  maxPoolSize: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  statementTimeoutMs: number | undefined;
  /** How long the client waits for the server's answer to one statement before it gives the connection up as lost. */
  queryTimeoutMs: number;
  /** TCP keepalive: idle time before the first probe (the operating system's probes then find a dead peer). */
  keepAliveInitialDelayMs: number;
  applicationName: string;
  allowCondition: boolean;
  preparedStatements: boolean;
  /**
   * Send a statement on a busy connection (pipelined behind the statements running there) when
   * all maxPoolSize connections are busy, instead of waiting for one to be free.
   */
  pipelining: boolean;
}

/** Where the server is: a host and port, or a Unix socket's directory as the host. */
export interface ServerAddress {
  host: string;
  port: number;
  /** The Unix socket file, when the host is a directory. */
  path: string | undefined;
}

/** postgres.js options of every connection the engine opens, and the server's address. */
export interface PostgresTarget {
  options: postgres.Options<Record<string, postgres.PostgresType>>;
  address: ServerAddress;
  /** True when the connection string asks for SSL. */
  ssl: boolean;
}

/**
 * Every type postgres.js parses or serialises by itself (booleans, bytea, numbers, JSON, dates),
 * read and sent as text: parameters are text already (parameter-text.ts), and columns are read by
 * the client's decoder (message.ts) or handed to the caller as text.
 */
const textTypes: Record<string, postgres.PostgresType> = {
  text: {
    to: 25,
    from: [16, 17, 21, 23, 26, 114, 700, 701, 1082, 1114, 1184, 3802],
    serialize: (value: unknown) => value,
    parse: (value: unknown) => value,
  },
};

const sslModes: Record<string, postgres.Options<Record<string, postgres.PostgresType>>['ssl']> = {
  disable: false,
  allow: 'allow',
  prefer: 'prefer',
  require: 'require',
  'verify-ca': 'verify-full',
  'verify-full': 'verify-full',
  true: true,
  false: false,
};

/** The connection string's parts, or the PG* variables (as libpq reads them) where it has none. */
function readTarget(connectionString: string | undefined, env: NodeJS.ProcessEnv) {
  let url: URL | undefined;
  if (connectionString !== undefined) {
    try {
      url = new URL(connectionString);
    } catch {
      // Without the URL parser's error as the cause: it carries the whole input, password included.
      throw new InvalidArgumentError('connectionString', 'is not a valid postgres:// URL');
    }
  }
  const parameter = (name: string): string | undefined => url?.searchParams.get(name) ?? undefined;
  const decoded = (text: string | undefined): string | undefined => (text === undefined || text === '' ? undefined : decodeURIComponent(text));
  const host = parameter('host') ?? (url?.hostname ? decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1') : undefined) ?? env.PGHOST ?? 'localhost';
  const portText = parameter('port') ?? (url?.port || undefined) ?? env.PGPORT ?? '5432';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new InvalidArgumentError(url === undefined ? 'PGPORT' : 'connectionString', 'has a port that is not a number from 1 to 65535');
  }
  const sslText = parameter('sslmode') ?? parameter('ssl') ?? (url === undefined ? env.PGSSLMODE : undefined);
  if (sslText !== undefined && !(sslText in sslModes))
    throw new InvalidArgumentError('connectionString', `has an sslmode that is not one of ${Object.keys(sslModes).join(', ')}`);
  return {
    host,
    port,
    user: parameter('user') ?? decoded(url?.username) ?? env.PGUSER,
    password: parameter('password') ?? decoded(url?.password) ?? env.PGPASSWORD,
    database: parameter('dbname') ?? decoded(url?.pathname.slice(1)) ?? env.PGDATABASE,
    applicationName: parameter('application_name'),
    ssl: sslText === undefined ? false : sslModes[sslText],
  };
}

/**
 * The postgres.js options for `config`: one connection per postgres.js instance (the engine pools
 * instances itself), no catalogue query at connect, notices dropped (the installer's scripts raise
 * some), and the startup packet carrying search_path, DateStyle, application_name and
 * statement_timeout, so no statement is spent on them.
 */
export function postgresTarget(config: PostgresEngineConfig, env: NodeJS.ProcessEnv = process.env): PostgresTarget {
  const startup = startupOptionsFor(config.connectionString, config.allowCondition, env);
  const target = readTarget(startup.connectionString, env);
  const unixSocket = target.host.startsWith('/');
  const connection: Record<string, string | number> = {
    application_name: target.applicationName ?? config.applicationName,
    options: startup.options,
  };
  if (config.statementTimeoutMs !== undefined) connection.statement_timeout = config.statementTimeoutMs;
  return {
    options: {
      host: target.host,
      port: target.port,
      ...(unixSocket ? { path: `${target.host}/.s.PGSQL.${target.port}` } : {}),
      ...(target.user === undefined ? {} : { user: target.user }),
      ...(target.password === undefined ? {} : { password: target.password }),
      ...(target.database === undefined ? {} : { database: target.database }),
      ssl: target.ssl ?? false,
      max: 1,
      connect_timeout: config.connectTimeoutMs / 1000,
      idle_timeout: config.idleTimeoutMs / 1000,
      max_lifetime: null,
      // A peer that vanished (a dead router, a frozen proxy) is found by the operating system's
      // probes; queryTimeoutMs ends the wait of a call meanwhile.
      keep_alive: config.keepAliveInitialDelayMs / 1000,
      prepare: config.preparedStatements,
      fetch_types: false,
      types: textTypes,
      onnotice: () => {},
      connection,
    },
    address: { host: target.host, port: target.port, path: unixSocket ? `${target.host}/.s.PGSQL.${target.port}` : undefined },
    ssl: target.ssl !== false && target.ssl !== 'allow' && target.ssl !== 'prefer',
  };
}
