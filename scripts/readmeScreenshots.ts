/**
 * `npx tsx scripts/readmeScreenshots.ts`: retakes the README's screenshots in a real VS Code at 1600 x 1000 on
 * realistic models — the torch export (test/fixtures/models/torch_block.onnx: long torch names) and the Paddle
 * export with an LSTM and If branches (paddle_lstm.onnx) for the inspector, the trained demo classifier with its
 * 14-slice spec (demo/mnist, evaluated here for real) for the results, plan and Problems, the demo CNN's spec for the
 * W8A8 results (`--activations`: that shot only). Writes docs/screenshots/ and docs/images/error-view.png. Build
 * first (`node scripts/build.mjs`).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { doubleClickInExplorer, setColorTheme, waitForActivation, webview } from '../test/ui/workbench';
import {
  ensureTestEnv,
  fixWebviewServiceWorkers,
  launchChromium,
  ROOT,
  startServer,
  workbenchUrl,
} from './vscodeServer';

const SHOTS = path.join(ROOT, 'docs', 'screenshots');
const TIMEOUT = 60_000;
const LIGHT = ['Light Modern', 'vs'] as const;
const DARK = ['Dark Modern', 'vs-dark'] as const;

/** The workspace: the two realistic exports, a truncated copy of one, the demo classifier, its spec and a plan. */
function workspace(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-shots-'));
  for (const f of ['torch_block.onnx', 'paddle_lstm.onnx'])
    cpSync(path.join(ROOT, 'test', 'fixtures', 'models', f), path.join(dir, f));
  const torch = readFileSync(path.join(dir, 'torch_block.onnx'));
  writeFileSync(path.join(dir, 'torch_block_truncated.onnx'), torch.subarray(0, Math.floor(torch.length / 2)));
  const demo = ['mnist_mlp.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv', 'mnist.quantlens.json'];
  // The demo CNN: fp32, int8 weight-only, W8A8 simulated and its committed export.
  for (const f of [...demo, 'mnist_cnn.onnx', 'mnist_cnn.w8a8.onnx', 'cnn.quantlens.json'])
    cpSync(path.join(ROOT, 'demo', 'mnist', f), path.join(dir, f));
  const trap = { model: 'mnist_mlp.onnx', default: 'int2-block32' };
  writeFileSync(path.join(dir, 'mnist-int2.qplan.json'), `${JSON.stringify(trap, null, 2)}\n`);
  return dir;
}

async function command(page: Page, title: string): Promise<void> {
  await page.locator('.part.sidebar .title-label').first().click();
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: TIMEOUT });
  await page.keyboard.press('Enter');
}

async function closeEditors(page: Page): Promise<void> {
  await command(page, 'View: Close All Editors');
  await page.waitForTimeout(500);
}

const shot = async (page: Page, file: string, dir = SHOTS): Promise<void> => {
  await page.waitForTimeout(400);
  await page.screenshot({ path: path.join(dir, file) });
  console.log(`  ${path.relative(ROOT, path.join(dir, file))}`);
};

/** Opens a model in the inspector on its Layers tab, sorted by int4-block32 SQNR (worst first), the worst selected. */
async function worstLayer(page: Page, file: string): Promise<ReturnType<typeof webview>> {
  await doubleClickInExplorer(page, file);
  const view = webview(page);
  await view.locator('[data-field="analysisState"][data-state="done"]').waitFor({ timeout: TIMEOUT });
  await view.locator('button[data-tab="layers"]').click();
  await view.locator('.table-rows .vrow[data-index]').first().waitFor({ timeout: TIMEOUT });
  const header = view.locator('.vhead [data-col="sqnr:int4-block32"]');
  await header.click();
  if ((await header.getAttribute('aria-sort')) !== 'ascending') await header.click();
  await view.locator('.vhead [data-col="sqnr:int4-block32"][aria-sort="ascending"]').waitFor({ timeout: TIMEOUT });
  await view.locator('.table-viewport').focus();
  await page.keyboard.press('Home');
  await view.locator('#chart-histogram canvas').waitFor({ timeout: TIMEOUT });
  await view.locator('canvas#chart-heatmap').waitFor({ timeout: TIMEOUT });
  return view;
}

async function inspectorShots(page: Page): Promise<void> {
  await setColorTheme(page, ...LIGHT);
  let view = await worstLayer(page, 'torch_block.onnx');
  await shot(page, 'inspector-table-light.png');
  await view.locator('button[data-tab="overview"]').click();
  await shot(page, 'inspector-overview-light.png');
  await closeEditors(page);

  await setColorTheme(page, ...DARK);
  view = await worstLayer(page, 'torch_block.onnx');
  await view.locator('canvas#chart-heatmap').scrollIntoViewIfNeeded();
  await view.locator('canvas#chart-heatmap').hover({ position: { x: 300, y: 120 } });
  await view.locator('#heatmap-tip:not([hidden])').waitFor({ timeout: TIMEOUT });
  await shot(page, 'inspector-layer-detail-dark.png');
  await closeEditors(page);

  await doubleClickInExplorer(page, 'paddle_lstm.onnx');
  view = webview(page);
  await view.locator('[data-field="analysisState"][data-state="done"]').waitFor({ timeout: TIMEOUT });
  await view.locator('button[data-tab="heatmap"]').click();
  await view.locator('canvas#chart-model').waitFor({ timeout: TIMEOUT });
  await shot(page, 'inspector-model-heatmap-dark.png');
  await closeEditors(page);
}

async function resultsShots(page: Page): Promise<void> {
  await doubleClickInExplorer(page, 'mnist.quantlens.json');
  await page.locator('.monaco-editor .view-line', { hasText: 'mnist_mlp.onnx' }).first().waitFor({ timeout: TIMEOUT });
  await command(page, 'QuantLens: Run Slice Evaluation');
  const done = page.locator('.notifications-toasts .notification-toast', { hasText: 'Evaluated 1996 samples' });
  await done.waitFor({ timeout: 240_000 });
  await done.locator('.monaco-button', { hasText: 'Show Results' }).click();
  const view = webview(page);
  await view.locator('table.results tr').nth(14).waitFor({ timeout: TIMEOUT });
  await view.locator('.chart canvas').first().waitFor({ timeout: TIMEOUT });
  await shot(page, 'results-table.png');
  await view.locator('.sweep').scrollIntoViewIfNeeded();
  await shot(page, 'results-sweep-sensitivity.png');
  await command(page, 'View: Focus Problems (Errors, Warnings, Infos)');
  await page.locator('.markers-panel .monaco-list-row', { hasText: 'accuracy on slice' }).first().waitFor({
    timeout: TIMEOUT,
  });
  await shot(page, 'problems-sensitive-layers.png');
  await closeEditors(page);
  await doubleClickInExplorer(page, 'mnist-int2.qplan.json');
  const squiggle = page.locator('.monaco-editor .squiggly-warning').first();
  await squiggle.waitFor({ timeout: TIMEOUT });
  await page.locator('.monaco-editor .codelens-decoration', { hasText: 'Evaluate' }).first().waitFor({
    timeout: TIMEOUT,
  });
  await squiggle.click({ force: true });
  await page.keyboard.press('Control+.');
  await page
    .locator('.action-widget .monaco-list-row', { hasText: 'cheapest scheme that met the budget' })
    .first()
    .waitFor({ timeout: TIMEOUT });
  await shot(page, 'plan-quick-fix.png');
  await page.keyboard.press('Escape');
  await closeEditors(page);
}

/** The demo CNN's results: every variant says whether it quantizes activations and on which calibration data. */
async function activationShot(page: Page): Promise<void> {
  await doubleClickInExplorer(page, 'cnn.quantlens.json');
  await page.locator('.monaco-editor .view-line', { hasText: 'mnist_cnn.onnx' }).first().waitFor({ timeout: TIMEOUT });
  await command(page, 'QuantLens: Run Slice Evaluation');
  const done = page.locator('.notifications-toasts .notification-toast', { hasText: 'Evaluated' });
  await done.waitFor({ timeout: 600_000 });
  await done.locator('.monaco-button', { hasText: 'Show Results' }).click();
  const view = webview(page);
  await view.locator('[data-field="calibration"]').waitFor({ timeout: TIMEOUT });
  await view.locator('.variant-activations li').nth(3).waitFor({ timeout: TIMEOUT });
  await view.locator('table.results tr').nth(5).waitFor({ timeout: TIMEOUT });
  await shot(page, 'results-w8a8.png');
  await closeEditors(page);
}

async function errorShot(page: Page): Promise<void> {
  await doubleClickInExplorer(page, 'torch_block_truncated.onnx');
  await webview(page).locator('[data-field="errorMessage"]', { hasText: 'truncated' }).waitFor({ timeout: TIMEOUT });
  await page.keyboard.press('Control+Shift+M');
  await page.locator('.markers-panel .monaco-list-row', { hasText: 'truncated' }).first().waitFor({ timeout: TIMEOUT });
  await shot(page, 'error-view.png', path.join(ROOT, 'docs', 'images'));
  await closeEditors(page);
}

async function main(): Promise<void> {
  const folder = workspace();
  const server = await startServer({ codeServer: ensureTestEnv() });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await fixWebviewServiceWorkers(page);
    await page.goto(workbenchUrl(server.port, { folder, extensionDevelopmentPath: ROOT }));
    await waitForActivation(page);
    // `--activations`: only the W8A8 results shot (the others are unchanged by activation work).
    if (process.argv.includes('--activations')) {
      await activationShot(page);
      return;
    }
    await inspectorShots(page);
    await resultsShots(page);
    await activationShot(page);
    await errorShot(page);
  } finally {
    await browser.close();
    await server.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
