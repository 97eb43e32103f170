/**
 * The browser's files: the console's own modules (src/console/assets, plain ES modules, served as
 * they are) and the libraries they import, served straight from the installed packages (Preact,
 * its hooks, htm, uPlot), found at run time the way Node finds them. Nothing comes from elsewhere,
 * so the console works offline. The page's import map points the bare names at these files.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file the server may send: its bytes and content type. */
export interface Asset {
  body: Buffer;
  contentType: string;
}

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The console's own browser modules: beside this file in src/, and reached from dist/ the same way (dist/console -> ../../src/console). */
const assetsDirectory = fileURLToPath(new URL('../../src/console/assets/', import.meta.url));

function load(path: string): Asset {
  return { body: readFileSync(path), contentType: contentTypes[extname(path)] ?? 'application/octet-stream' };
}

const packageFile = (specifier: string): string => fileURLToPath(import.meta.resolve(specifier));

/** The import map's entries: bare name -> URL under /vendor/. */
export const importMap = {
  imports: {
    preact: '/vendor/preact.mjs',
    'preact/hooks': '/vendor/hooks.mjs',
    htm: '/vendor/htm.mjs',
    uplot: '/vendor/uPlot.esm.js',
  },
} as const;

/**
 * Every file the console serves, by URL path, read once. Only these paths are served: no request
 * path ever becomes a file path.
 */
export function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(assetsDirectory, { recursive: true, encoding: 'utf8' })) {
    if (contentTypes[extname(name)] !== undefined) assets.set(`/assets/${name.split('\\').join('/')}`, load(join(assetsDirectory, name)));
  }
  // uplot's `import` resolves to its CommonJS build; its ES module and stylesheet sit beside it.
  const uplotDirectory = dirname(packageFile('uplot'));
  const vendor: Record<string, string> = {
    '/vendor/preact.mjs': packageFile('preact'),
    '/vendor/hooks.mjs': packageFile('preact/hooks'),
    '/vendor/htm.mjs': packageFile('htm'),
    '/vendor/uPlot.esm.js': join(uplotDirectory, 'uPlot.esm.js'),
    '/vendor/uPlot.min.css': join(uplotDirectory, 'uPlot.min.css'),
  };
  for (const [path, file] of Object.entries(vendor)) assets.set(path, load(file));
  return assets;
}

/** The page every view starts from: the import map (with the response's nonce), the styles and the app. */
export function pageHtml(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>messagedb console</title>
<link rel="stylesheet" href="/vendor/uPlot.min.css">
<link rel="stylesheet" href="/assets/console.css">
<script type="importmap" nonce="${nonce}">${JSON.stringify(importMap)}</script>
<script type="module" src="/assets/app.js"></script>
</head>
<body><div id="app">Loading…</div></body>
</html>
`;
}
