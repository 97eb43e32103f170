/**
 * The layers of src/ and the one direction their imports may point (`npm run lint:deps`, run by CI
 * and by test/package/dependency-rules.test.ts). See docs/architecture.md.
 *
 * Each folder may import itself and the folders listed for it, nothing else under src/. Type-only
 * imports count: a type is a dependency too.
 */
const layers = {
  vocabulary: [], // Message DB's words, pure: names, messages, errors, validation, SQL texts
  engine: ['vocabulary'], // the seam (Engine, Queryable), its two engines, the retrying runner
  replica: ['vocabulary', 'engine'], // read routing, write tokens, one engine per replica
  telemetry: ['vocabulary', 'engine', 'replica'], // metrics, traces, logs: observes, never calls the store
  store: ['vocabulary', 'engine', 'replica', 'telemetry'], // MessageDbClient and what it writes and reads
  messages: ['vocabulary', 'store'], // typed message definitions, upcasting, registries (filters are vocabulary's)
  consumer: ['vocabulary', 'engine', 'telemetry', 'store', 'messages'], // poll loop, dispatch, position store
  entity: ['vocabulary', 'engine', 'replica', 'telemetry', 'store', 'messages', 'consumer'], // entity store, cache, snapshots, command handling
  'scale-out': ['vocabulary', 'store', 'messages', 'consumer'], // consumer groups over processes
  doctor: ['vocabulary', 'store', 'consumer'], // diagnose(): read-only checks of a live store, through client.query
  console: ['vocabulary', 'store', 'replica', 'consumer', 'doctor'], // the web console: server, SQL over the public client, browser files
  cli: ['vocabulary', 'engine', 'replica', 'telemetry', 'store', 'messages', 'consumer', 'entity', 'scale-out', 'doctor', 'console'], // the command (and `messagedb bench`'s workloads, cli/bench/)
};

const layerRules = Object.entries(layers).map(([layer, below]) => ({
  name: `${layer}-imports-only-below`,
  comment: `src/${layer}/ may import only ${below.length === 0 ? 'itself' : below.map((name) => `src/${name}/`).join(', ')}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: '^src/', pathNot: `^src/(${[layer, ...below].join('|')})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No module imports itself through others (type-only imports included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'public-face-not-cli',
      comment: "src/index.ts (the package's public face) does not import the command (nor its bench workloads) nor the web console.",
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: { path: '^src/(cli|console)/' },
    },
    {
      name: 'cli-through-the-client',
      comment:
        'The command talks to the database through the public client (connect/embedded, its methods, client.query), ' +
        "never through an engine or the library's SQL texts; only `messagedb bench`'s workloads (src/cli/bench/) measure below the client.",
      severity: 'error',
      from: { path: '^src/cli/', pathNot: '^src/cli/bench/' },
      to: { path: '^src/(engine/|vocabulary/sql\\.ts$)' },
    },
    {
      name: 'console-through-the-client',
      comment:
        'The console talks to the database through the public client (client.query with its own statements, its methods), ' +
        "never through an engine or the library's SQL texts; the command loads it only when it runs (a dynamic import).",
      severity: 'error',
      from: { path: '^src/console/' },
      to: { path: '^src/(engine/|vocabulary/sql\\.ts$|cli/)' },
    },
    {
      name: 'testing-through-the-public-face',
      comment:
        'messagedb/testing (src/testing/) is built on the public face alone (src/index.ts), like any user of the library, ' +
        "so it shares the user's copy of the library and sees nothing the user cannot.",
      severity: 'error',
      from: { path: '^src/testing/' },
      to: { path: '^src/', pathNot: '^src/(testing/|index\\.ts$)' },
    },
    {
      name: 'nothing-imports-the-public-face',
      comment: 'src/index.ts is the top of the library: code under src/ imports the module it needs, not the index (src/testing/ excepted: it uses only the index).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/testing/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'no-loose-files',
      comment: 'Every module lives in a layer folder; only src/index.ts sits at the root.',
      severity: 'error',
      from: { path: '^src/[^/]+$', pathNot: '^src/index\\.ts$' },
      to: {},
    },
    {
      name: 'resolvable',
      comment: 'Every relative import resolves (a parse or resolution failure would hide edges).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // TypeScript 7 has no JavaScript API, so dependency-cruiser parses with swc (@swc/core).
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
