// Bundles QuantLens with esbuild: the extension and its workers (node), the webview (browser), the test suite.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import './buildWasm.mjs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist/webview', { recursive: true });
cpSync('node_modules/@vscode/codicons/dist/codicon.css', 'dist/webview/codicon.css');
cpSync('node_modules/@vscode/codicons/dist/codicon.ttf', 'dist/webview/codicon.ttf');
cpSync('node_modules/uplot/dist/uPlot.min.css', 'dist/webview/uPlot.min.css');

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const common = {
  bundle: true,
  // Test hooks (the webviews' render reports and probes, the test-only API members) only in the development
  // build that the tests use; the production build (npm run package) drops them as dead code.
  define: { QUANTLENS_VERSION: JSON.stringify(version), __QUANTLENS_TEST_HOOKS__: String(!production) },
  // jsonc-parser's UMD "main" requires files esbuild cannot see; its ESM "module" entry bundles cleanly.
  mainFields: ['module', 'main'],
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
};

/** @type {esbuild.BuildOptions[]} */
const builds = [
  {
    ...common,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    entryPoints: {
      extension: 'src/extension/extension.ts',
      overviewWorker: 'src/node/overviewWorker.ts',
      analysisWorker: 'src/node/analysisWorker.ts',
      evalProcess: 'src/node/eval/evalProcess.ts',
      costProcess: 'src/node/cost/costProcess.ts',
      exportProcess: 'src/node/export/exportProcess.ts',
      scoringWorker: 'src/node/scoringWorker.ts',
    },
    outdir: 'dist',
    external: ['vscode', 'onnxruntime-node'],
  },
  {
    ...common,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
    external: ['onnxruntime-node'],
  },
  {
    ...common,
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    entryPoints: {
      inspector: 'webview/inspector/inspectorMain.ts',
      results: 'webview/results/resultsMain.ts',
      search: 'webview/search/searchMain.ts',
    },
    outdir: 'dist/webview',
  },
];
if (!production) {
  // The bench's child (measures the shipped engine code next to the shipped workers).
  builds.push({
    ...common,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    entryPoints: { benchEngine: 'bench/engine.ts' },
    outdir: 'dist',
    external: ['onnxruntime-node'],
  });
  builds.push({
    ...common,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    entryPoints: readdirSync('test/integration')
      .filter((f) => f === 'index.ts' || f.endsWith('.vscode.test.ts'))
      .map((f) => `test/integration/${f}`),
    outdir: 'dist/test/integration',
    external: ['vscode', 'mocha', 'onnxruntime-node'],
  });
}

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[build] watching for changes');
} else {
  const started = performance.now();
  await Promise.all(builds.map((b) => esbuild.build(b)));
  console.log(`[build] done in ${(performance.now() - started).toFixed(0)} ms${production ? ' (production)' : ''}`);
}
