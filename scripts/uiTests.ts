/**
 * UI tests: drive the real VS Code workbench page like a user (explorer double-click, Problems panel,
 * command palette) and save screenshots to test-artifacts/. Also installs the packaged VSIX into a fresh
 * server and opens a model with it.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { planSearchTests } from '../test/ui/planSearch';
import { resultsViewTests } from '../test/ui/resultsView';
import { runTableLayoutTests } from '../test/ui/tableLayout';
import { doubleClickInExplorer, waitForActivation, webview } from '../test/ui/workbench';
import {
  fixWebviewServiceWorkers,
  launchChromium,
  ROOT,
  serverCli,
  startServer,
  workbenchUrl,
  type VscodeServer,
} from './vscodeServer';
import { runFirstOpen } from '../test/ui/firstOpen';

/** Counts of one test stage. */
export interface UiResult {
  passed: number;
  failed: number;
}

/** Where screenshots go. */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const TIMEOUT = 30_000;

function workspaceCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'quantlens-ui-'));
  cpSync(path.join(ROOT, 'test', 'fixtures', 'models'), dir, {
    recursive: true,
    filter: (f) => !f.endsWith('.expected.json'),
  });
  cpSync(path.join(ROOT, 'demo', 'models', 'mnist_mlp_fp32.onnx'), path.join(dir, 'mnist_mlp_fp32.onnx'));
  // The trained demo classifier with its data and evaluation spec (paths in the spec are relative).
  for (const f of ['mnist_mlp.onnx', 'images.idx.gz', 'labels.idx.gz', 'fields.csv', 'mnist.quantlens.json'])
    cpSync(path.join(ROOT, 'demo', 'mnist', f), path.join(dir, f));
  // The language-model demo (the plan search view's cancelled search).
  mkdirSync(path.join(dir, 'lm'));
  for (const f of ['char_gpt.onnx', 'heldout.jsonl', 'char_gpt.quantlens.json'])
    cpSync(path.join(ROOT, 'demo', 'lm', f), path.join(dir, 'lm', f));
  // A plan at the scheme the demo measures breaking the budget (the plan the evaluation creates starts from one
  // that met it, so it has no warning): its default line gets the whole-model and per-layer warnings.
  const trap = { model: 'mnist_mlp.onnx', default: 'int2-block32' };
  writeFileSync(path.join(dir, 'mnist-int2.qplan.json'), `${JSON.stringify(trap, null, 2)}\n`);
  // A plan to ship and its own spec (same stem, few samples, cost measured): the export lens's test.
  const ship = { model: 'mnist_mlp.onnx', default: 'int8-channel', layers: { '/fc2/MatMul': 'int4-block32' } };
  writeFileSync(path.join(dir, 'mnist-ship.qplan.json'), `${JSON.stringify(ship, null, 2)}\n`);
  const demo = JSON.parse(readFileSync(path.join(ROOT, 'demo', 'mnist', 'mnist.quantlens.json'), 'utf8')) as object;
  const shipSpec = {
    ...demo,
    variants: ['int8-channel'],
    limit: 400,
    sweep: false,
    sensitivity: false,
    latency: { batchSizes: [1, 32], runs: 20, seconds: 0.5 },
  };
  writeFileSync(path.join(dir, 'mnist-ship.quantlens.json'), `${JSON.stringify(shipSpec, null, 2)}\n`);
  return dir;
}

async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  // F1 pressed while a webview has the focus sometimes never reaches the workbench, and a webview panel revealed
  // a moment later can take the focus back and close the palette: try again from the side bar.
  for (let attempt = 0; ; attempt++) {
    try {
      if (!(await input.isVisible())) await page.keyboard.press('F1');
      await input.fill(`>${title}`, { timeout: 5000 });
      await row.waitFor({ timeout: attempt === 2 ? TIMEOUT : 10_000 });
      break;
    } catch (error) {
      if (attempt === 2) throw error;
      await page.keyboard.press('Escape');
      await page.locator('.part.sidebar .composite.title').first().click();
    }
  }
  await page.keyboard.press('Enter');
}

/** Opens `file` from the explorer by double-click (once QuantLens is active). */
const activated = new WeakSet<Page>();

async function openFromExplorer(page: Page, file: string): Promise<void> {
  if (!activated.has(page)) {
    await waitForActivation(page);
    activated.add(page);
  }
  await doubleClickInExplorer(page, file);
}

async function closeEditors(page: Page): Promise<void> {
  await runCommand(page, 'View: Close All Editors');
  await page
    .locator('iframe.webview.ready')
    .first()
    .waitFor({ state: 'detached', timeout: TIMEOUT })
    .catch(() => undefined);
}

type UiTest = { name: string; run: (page: Page) => Promise<void> };

const devTests: UiTest[] = [
  {
    name: 'double-clicking a model in the explorer opens the overview in the QuantLens inspector',
    run: async (page) => {
      await openFromExplorer(page, 'mlp.onnx');
      const view = webview(page);
      await view.locator('[data-field="weightCount"]', { hasText: '4' }).waitFor({ timeout: TIMEOUT });
      const params = await view.locator('[data-field="parameterCount"]').textContent();
      if (params !== '874') {
        throw new Error(`parameter count shows ${params}, expected 874`);
      }
      await view.locator('table[data-table="ops"] tbody tr').first().waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, 'overview-mlp.png') });
      await closeEditors(page);
    },
  },
  {
    name: 'the layer table fills in, a row opens its histogram and heatmap, the model heatmap opens a layer (light and dark themes)',
    run: async (page) => {
      for (const theme of ['light', 'dark']) {
        if (theme === 'dark') await runCommand(page, 'Preferences: Toggle between Light/Dark Themes');
        await openFromExplorer(page, 'mnist_mlp_fp32.onnx');
        const view = webview(page);
        await view.locator('[data-field="analysisState"][data-state="done"]').waitFor({ timeout: TIMEOUT });
        await view.locator('button[data-tab="overview"]').click();
        await view.locator('table[data-table="sizes"]').scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(ARTIFACTS, `inspector-overview-${theme}.png`) });
        await view.locator('button[data-tab="layers"]').click();
        const rows = view.locator('.table-rows .vrow[data-index]');
        await rows.first().waitFor({ timeout: TIMEOUT });
        const count = await rows.count();
        if (count !== 6) throw new Error(`the layer table shows ${count} rows, expected the model's 6 weights`);
        // Sort by int4-block32 SQNR (worst first), then open the worst layer with the keyboard.
        const header = view.locator('.vhead [role="columnheader"]', { hasText: 'int4-block32' });
        await header.click();
        // The sort is remembered per model: a second pass may start from it and turn it around.
        await view.locator('.vhead [aria-sort$="scending"]', { hasText: 'int4-block32' }).waitFor({ timeout: TIMEOUT });
        if ((await header.getAttribute('aria-sort')) === 'descending') await header.click();
        await view.locator('.vhead [aria-sort="ascending"]', { hasText: 'int4-block32' }).waitFor({ timeout: TIMEOUT });
        await view.locator('.table-viewport').focus();
        await page.keyboard.press('Home');
        await view.locator('.table-viewport').evaluate((el) => el.scrollTo({ left: 0 }));
        await view.locator('#chart-histogram canvas').waitFor({ timeout: TIMEOUT });
        await view.locator('canvas#chart-heatmap').waitFor({ timeout: TIMEOUT });
        await page.waitForTimeout(300);
        await page.screenshot({ path: path.join(ARTIFACTS, `inspector-table-${theme}.png`) });
        await view.locator('canvas#chart-heatmap').scrollIntoViewIfNeeded();
        await view.locator('canvas#chart-heatmap').hover({ position: { x: 300, y: 120 } });
        await view.locator('#heatmap-tip:not([hidden])').waitFor({ timeout: TIMEOUT });
        await page.screenshot({ path: path.join(ARTIFACTS, `inspector-layer-detail-${theme}.png`) });
        await view.locator('button[data-tab="heatmap"]').click();
        await view.locator('canvas#chart-model').waitFor({ timeout: TIMEOUT });
        await page.waitForTimeout(300);
        await page.screenshot({ path: path.join(ARTIFACTS, `inspector-model-heatmap-${theme}.png`) });
        await view.locator('canvas#chart-model').click({ position: { x: 400, y: 30 } });
        await view.locator('button[data-tab="layers"][aria-selected="true"]').waitFor({ timeout: TIMEOUT });
        await closeEditors(page);
      }
      await runCommand(page, 'Preferences: Toggle between Light/Dark Themes');
    },
  },
  {
    name: 'a slice evaluation runs from the command palette: results view, Problems entries, plan warning with its quick fix',
    run: async (page) => {
      await openFromExplorer(page, 'mnist.quantlens.json');
      await page
        .locator('.monaco-editor .view-line', { hasText: 'mnist_mlp.onnx' })
        .first()
        .waitFor({ timeout: TIMEOUT });
      await runCommand(page, 'QuantLens: Run Slice Evaluation');
      const done = page.locator('.notifications-toasts .notification-toast', { hasText: 'Evaluated 1996 samples' });
      await done.waitFor({ timeout: 120_000 });
      await page.screenshot({ path: path.join(ARTIFACTS, 'evaluation-done.png') });
      await done.locator('.monaco-button', { hasText: 'Show Results' }).click();
      const view = webview(page);
      await view.locator('table.results tr').nth(14).waitFor({ timeout: TIMEOUT });
      const bad = await view.locator('table.results td.bad').count();
      if (bad === 0) throw new Error('no slice is marked over budget (int2-block32 breaks it on the demo)');
      const noise = view.locator('table.results td.noise', { hasText: 'within noise' });
      if ((await noise.count()) === 0) throw new Error('no cell says "within noise" (int4-block32 is, on the demo)');
      await view.locator('.chart canvas').first().waitFor({ timeout: TIMEOUT });
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(ARTIFACTS, 'results-table.png') });
      await view.locator('.bars').scrollIntoViewIfNeeded();
      await page.waitForTimeout(200);
      await page.screenshot({ path: path.join(ARTIFACTS, 'results-sweep-sensitivity.png') });
      await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
      await page
        .locator('.markers-panel .monaco-list-row', { hasText: 'accuracy on slice' })
        .first()
        .waitFor({ timeout: TIMEOUT });
      await page.screenshot({ path: path.join(ARTIFACTS, 'problems-sensitive-layers.png') });
      await closeEditors(page);
      await openFromExplorer(page, 'mnist-int2.qplan.json');
      const squiggle = page.locator('.monaco-editor .squiggly-warning').first();
      await squiggle.waitFor({ timeout: TIMEOUT });
      // The plan's "Evaluate this plan" code lens moves the lines down when it arrives: click after it.
      await page
        .locator('.monaco-editor .codelens-decoration', { hasText: 'Evaluate' })
        .first()
        .waitFor({ timeout: TIMEOUT });
      await squiggle.click({ force: true });
      await page.keyboard.press('Control+.');
      const fix = page
        .locator('.action-widget .monaco-list-row', { hasText: 'cheapest scheme that met the budget' })
        .first();
      await fix.waitFor({ timeout: TIMEOUT });
      await page.screenshot({ path: path.join(ARTIFACTS, 'plan-quick-fix.png') });
      await page.keyboard.press('Escape');
      await closeEditors(page);
    },
  },
  {
    name: 'a model with subgraphs and several dtypes renders its tables',
    run: async (page) => {
      await openFromExplorer(page, 'int8_qdq.onnx');
      const rows = webview(page).locator('table[data-table="dtypes"] tbody tr');
      await rows.nth(1).waitFor({ timeout: TIMEOUT });
      const first = await rows.first().locator('td').allTextContents();
      if (first.slice(0, 4).join('|') !== 'int8|2|36|36') {
        throw new Error(`dtype row shows ${first.join('|')}`);
      }
      await page.screenshot({ path: path.join(ARTIFACTS, 'overview-int8-qdq.png') });
      await closeEditors(page);
    },
  },
  {
    name: 'a truncated model shows the error view and an entry in the Problems panel',
    run: async (page) => {
      await openFromExplorer(page, 'broken_truncated.onnx');
      await webview(page)
        .locator('[data-field="errorMessage"]', { hasText: 'truncated' })
        .waitFor({ timeout: TIMEOUT });
      await page.keyboard.press('Control+Shift+M');
      await page
        .locator('.markers-panel .monaco-list-row', { hasText: 'truncated' })
        .first()
        .waitFor({ timeout: TIMEOUT });
      await page.screenshot({ path: path.join(ARTIFACTS, 'error-truncated.png') });
      await closeEditors(page);
    },
  },
  ...resultsViewTests({ webview, runCommand, openFromExplorer, closeEditors, artifacts: ARTIFACTS }),
  ...planSearchTests({ webview, runCommand, openFromExplorer, closeEditors, artifacts: ARTIFACTS }),
];

/** QUANTLENS_UI_GREP: only the UI tests whose name contains it (and none of the table layout tests). */
const UI_GREP = process.env.QUANTLENS_UI_GREP ?? '';
const picked = (tests: UiTest[]): UiTest[] => (UI_GREP ? tests.filter((t) => t.name.includes(UI_GREP)) : tests);

const vsixTests: UiTest[] = [
  {
    name: 'the packaged VSIX, installed into VS Code, opens a model in the inspector',
    run: async (page) => {
      await openFromExplorer(page, 'convnet.onnx');
      await webview(page).locator('[data-field="parameterCount"]', { hasText: '408' }).waitFor({ timeout: TIMEOUT });
      await page.screenshot({ path: path.join(ARTIFACTS, 'vsix-overview-convnet.png') });
    },
  },
];

async function runGroup(
  server: VscodeServer,
  folder: string,
  devPath: string | undefined,
  tests: UiTest[],
): Promise<UiResult> {
  const browser = await launchChromium();
  const result: UiResult = { passed: 0, failed: 0 };
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // Our webview must run under its strict CSP without violations.
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (
        /Content Security Policy/i.test(message.text()) &&
        /quantlens|vscode-cdn|vscode-resource|webview/i.test(message.text() + (message.location().url ?? ''))
      ) {
        cspViolations.push(message.text());
      }
    });
    await fixWebviewServiceWorkers(page);
    await page.goto(workbenchUrl(server.port, { folder, extensionDevelopmentPath: devPath }));
    for (const test of tests) {
      const started = Date.now();
      try {
        await test.run(page);
        if (cspViolations.length > 0) {
          throw new Error(`Content Security Policy violations:\n${cspViolations.splice(0).join('\n')}`);
        }
        result.passed += 1;
        console.log(`  ✔ ${test.name} (${Date.now() - started} ms)`);
      } catch (error) {
        result.failed += 1;
        const shot = path.join(ARTIFACTS, `failed-${test.name.replace(/\W+/g, '-').slice(0, 60)}.png`);
        await page.screenshot({ path: shot }).catch(() => undefined);
        console.log(
          `  ✘ ${test.name}\n    ${error instanceof Error ? error.message : String(error)}\n    screenshot: ${shot}`,
        );
      }
    }
  } finally {
    await browser.close();
  }
  return result;
}

/** Runs the UI tests on the development build (unless `dev` is false) and, with `vsix`, on the installed VSIX. */
export async function runUiTests(
  codeServer: string,
  options: { dev?: boolean; vsix?: string; verbose?: boolean },
): Promise<UiResult> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const total: UiResult = { passed: 0, failed: 0 };
  const groups: { label: string; tests: UiTest[]; vsix?: string }[] = [];
  if (options.dev !== false) {
    groups.push({ label: 'UI tests (development build)', tests: picked(devTests) });
  }
  if (options.vsix) {
    groups.push({ label: `UI tests (installed ${path.basename(options.vsix)})`, tests: vsixTests, vsix: options.vsix });
  }
  if (options.dev !== false && !UI_GREP) {
    console.log('UI tests: the layer table at 1600 x 1000 (development build)');
    const r = await runTableLayoutTests(codeServer, options.verbose);
    total.passed += r.passed;
    total.failed += r.failed;
  }
  for (const group of groups) {
    console.log(group.label);
    const folder = workspaceCopy();
    let extensionsDir: string | undefined;
    if (group.vsix) {
      extensionsDir = mkdtempSync(path.join(tmpdir(), 'quantlens-ext-'));
      serverCli(
        codeServer,
        ['--install-extension', group.vsix, '--extensions-dir', extensionsDir],
        mkdtempSync(path.join(tmpdir(), 'quantlens-cli-')),
      );
      console.log(`  installed ${path.basename(group.vsix)} into ${extensionsDir}`);
    }
    const server = await startServer({ codeServer, verbose: options.verbose, extensionsDir });
    try {
      const r = await runGroup(server, folder, group.vsix ? undefined : ROOT, group.tests);
      total.passed += r.passed;
      total.failed += r.failed;
    } catch (error) {
      console.log(`  ✘ ${group.label} could not run: ${String(error)}`);
      total.failed += 1;
    } finally {
      await server.stop();
      rmSync(folder, { recursive: true, force: true });
      if (extensionsDir) {
        rmSync(extensionsDir, { recursive: true, force: true });
      }
    }
  }
  if (options.dev !== false && !UI_GREP) await runFirstOpen(codeServer, { verbose: options.verbose, addTo: total });
  return total;
}
