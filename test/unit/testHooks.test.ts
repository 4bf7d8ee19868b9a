// The test hooks exist only in test builds: bundled with __QUANTLENS_TEST_HOOKS__ false (as `npm run package`
// does), the extension and both webviews hold none of their markers; bundled with true, each one is there.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as esbuild from 'esbuild';
import { TEST_HOOK_MARKERS } from '../../scripts/package';

const ENTRIES = {
  extension: { entry: 'src/extension/extension.ts', platform: 'node' },
  inspector: { entry: 'webview/inspector/inspectorMain.ts', platform: 'browser' },
  results: { entry: 'webview/results/resultsMain.ts', platform: 'browser' },
} as const;

async function bundle(entry: string, platform: 'node' | 'browser', hooks: boolean): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform,
    format: platform === 'node' ? 'cjs' : 'iife',
    mainFields: ['module', 'main'],
    minify: true,
    external: ['vscode', 'onnxruntime-node'],
    define: { QUANTLENS_VERSION: '"0.0.0-test"', __QUANTLENS_TEST_HOOKS__: String(hooks) },
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

for (const [name, { entry, platform }] of Object.entries(ENTRIES)) {
  test(`the production ${name} bundle holds no test hook; the test build's has them`, async () => {
    const production = await bundle(entry, platform, false);
    assert.deepEqual(
      TEST_HOOK_MARKERS.filter((m) => production.includes(m)),
      [],
    );
    const testBuild = await bundle(entry, platform, true);
    const expected = { extension: 'waitForRender', inspector: 'getImageData', results: 'getImageData' }[name];
    assert.ok(
      testBuild.includes('rendered') && testBuild.includes(expected!),
      `${name}: the test build lost its hooks`,
    );
  });
}
