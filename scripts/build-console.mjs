#!/usr/bin/env node
/**
 * Builds the web console (console/src, Preact) into static files with esbuild: app-<hash>.js, main-<hash>.css and
 * index.html naming them. Default output .build/console (gitignored; the local cloud and the API function serve it);
 * `--out <dir>` for the Lambda bundle (infra/cdk/constructs/pce-function.ts). No CDN at run time.
 *   node scripts/build-console.mjs [--out <dir>]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const outDir = resolve(outArg > 0 && process.argv[outArg + 1] ? process.argv[outArg + 1] : join(root, '.build', 'console'));

const started = Date.now();
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const result = await build({
  entryPoints: { app: join(root, 'console/src/main.tsx'), main: join(root, 'console/src/styles.css') },
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: false,
  entryNames: '[name]-[hash]',
  outdir: outDir,
  metafile: true,
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`console build produced ${outputs.join(', ')}`);
writeFileSync(
  join(outDir, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PCE web console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/${css}">
<script type="module" src="/console/${js}"></script>
</head>
<body><div id="app"></div></body>
</html>
`,
);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`console built in ${Date.now() - started} ms: ${outDir} (${js}, ${css}; ${Math.round(bytes / 1024)} KB)`);
