// Builds the dashboard (/ui) into dist/ui: generates its typed API client from the app's OpenAPI
// document (ui/src/api/generated.ts), then bundles ui/src with esbuild (minified, content-hashed
// file names, one chunk per lazily loaded page) and writes index.html pointing at the hashes.
// Run by `npm install` (prepare), `npm start` (prestart) and `npm test`; the output is never
// committed. About a second: most of it is building the app that describes the API.
//
//   node scripts/build-ui.ts            build
//   node scripts/build-ui.ts --watch    rebuild the bundle on every change under ui/ (development)
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { withThrowawayApp } from './throwaway-app.ts';
import { generateClient } from './openapi-client.ts';
import type { OpenApiDocument } from '../src/http/openapi.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const UI = path.join(ROOT, 'ui');
export const UI_DIST = path.join(ROOT, 'dist', 'ui');
const GENERATED = path.join(UI, 'src', 'api', 'generated.ts');

export async function generateApiClient(): Promise<void> {
  const doc = await withThrowawayApp(async (app) => {
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    if (res.statusCode !== 200) throw new Error(`GET /api/openapi.json answered ${res.statusCode}`);
    return JSON.parse(res.body) as OpenApiDocument;
  });
  const source = generateClient(doc);
  // Unchanged output is not rewritten (a watcher or an editor would see a change that is none).
  if (!existsSync(GENERATED) || readFileSync(GENERATED, 'utf8') !== source) writeFileSync(GENERATED, source);
}

function buildOptions(outdir: string): esbuild.BuildOptions {
  return {
    entryPoints: [path.join(UI, 'src', 'main.tsx')],
    outdir: path.join(outdir, 'assets'),
    bundle: true,
    splitting: true,
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    assetNames: '[name]-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  };
}

/** index.html from the template, with the entry's hashed script and stylesheet. */
function writeIndex(outdir: string, meta: esbuild.Metafile): void {
  const entry = Object.entries(meta.outputs).find(([, o]) => o.entryPoint?.endsWith('main.tsx'));
  if (!entry) throw new Error('esbuild produced no entry bundle');
  const rel = (file: string) => '/ui/assets/' + path.basename(file);
  const tags = [
    entry[1].cssBundle ? `<link rel="stylesheet" href="${rel(entry[1].cssBundle)}">` : '',
    `<script type="module" src="${rel(entry[0])}"></script>`,
  ].filter(Boolean).join('\n    ');
  const template = readFileSync(path.join(UI, 'index.html'), 'utf8');
  if (!template.includes('<!-- assets -->')) throw new Error('ui/index.html has no <!-- assets --> placeholder');
  writeFileSync(path.join(outdir, 'index.html'), template.replace('<!-- assets -->', tags));
}

export async function buildUi(): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  await generateApiClient();
  // Built beside, then swapped in: a server starting meanwhile never reads half a bundle.
  const next = UI_DIST + '.next';
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  const result = await esbuild.build(buildOptions(next));
  writeIndex(next, result.metafile!);
  const old = UI_DIST + '.old';
  rmSync(old, { recursive: true, force: true });
  if (existsSync(UI_DIST)) renameSync(UI_DIST, old);
  renameSync(next, UI_DIST);
  rmSync(old, { recursive: true, force: true });
  const bytes = Object.entries(result.metafile!.outputs).filter(([file]) => !file.endsWith('.map')).reduce((n, [, o]) => n + o.bytes, 0);
  return { ms: Math.round(performance.now() - started), bytes };
}

async function watch(): Promise<void> {
  await generateApiClient();
  mkdirSync(UI_DIST, { recursive: true });
  const ctx = await esbuild.context({
    ...buildOptions(UI_DIST),
    plugins: [{ name: 'index', setup: (b) => b.onEnd((r) => { if (r.metafile) writeIndex(UI_DIST, r.metafile); console.log(`ui rebuilt (${r.errors.length} errors)`); }) }],
  });
  await ctx.watch();
  console.log('watching ui/ … (restart for API changes: the client is generated at start)');
}

if (import.meta.main) {
  if (process.argv.includes('--watch')) await watch();
  else {
    const { ms, bytes } = await buildUi();
    console.log(`dashboard built into dist/ui in ${ms} ms (${Math.round(bytes / 1024)} KiB of scripts and styles, before compression)`);
  }
}
