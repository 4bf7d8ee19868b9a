/**
 * UI tests of the inspector's layer table as a user sees it (issue 17), in the real workbench at 1600 x 1000 with
 * the explorer open, on realistic exports (torch_block.onnx: long torch node names; paddle_lstm.onnx: p2o names,
 * If branches, an LSTM): every cell lies under its header in the light, dark and high-contrast themes and in a
 * narrow split; the SQNR columns are on screen; the selected row is visible in high contrast; headers sort by
 * keyboard; the tabs are a tablist with arrow keys; the model heatmap has a keyboard cell cursor and Enter opens
 * the layer. With an evaluation that quantized activations (issue 20: convnet.onnx and the results fixture of
 * test/fixtures/activationResults.ts) the activation column has its values under its header in every theme, the
 * layer detail draws the activation histogram and channel ranges, and the results view says what each variant
 * does to activations. Screenshots go to test-artifacts/table-*.png and activations-*.png.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { fixWebviewServiceWorkers, launchChromium, ROOT, startServer, workbenchUrl } from '../../scripts/vscodeServer';
import { doubleClickInExplorer, setColorTheme, waitForActivation, webview } from './workbench';
import { finiteReplacer } from '../../src/core/eval/results';
import { activationResultsFixture } from '../fixtures/activationResults';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const TIMEOUT = 30_000;
const MODELS = ['torch_block.onnx', 'paddle_lstm.onnx'];
type Theme = (typeof THEMES)[number];
const THEMES = [
  { name: 'light', label: 'Light Modern', bodyClass: 'vscode-light', workbenchClass: 'vs' },
  { name: 'dark', label: 'Dark Modern', bodyClass: 'vscode-dark', workbenchClass: 'vs-dark' },
  { name: 'hc', label: 'Dark High Contrast', bodyClass: 'vscode-high-contrast', workbenchClass: 'hc-black' },
];

/** Counts of the tests run. */
export interface TableLayoutResult {
  passed: number;
  failed: number;
}

/** Runs a command from the palette; `exact` clicks the row with exactly that title (not the first fuzzy match). */
async function runCommand(page: Page, title: string, exact = false): Promise<void> {
  await focusWorkbench(page);
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').fill(`>${title}`);
  const rows = page.locator('.quick-input-list .monaco-list-row');
  const row = exact
    ? rows.filter({
        has: page.locator('.label-name', { hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }),
      })
    : rows.filter({ hasText: title });
  await row.first().waitFor({ timeout: TIMEOUT });
  if (exact) await row.first().click();
  else await page.keyboard.press('Enter');
}

/** Switches the colour theme with the theme picker and waits for the workbench to show it. */
async function setTheme(page: Page, to: Theme): Promise<void> {
  await setColorTheme(page, to.label, to.workbenchClass).catch(async (e: unknown) => {
    await page.screenshot({ path: path.join(ARTIFACTS, `failed-table-theme-${to.name}.png`) });
    const classes = await page.locator('.monaco-workbench').getAttribute('class');
    throw new Error(`the workbench did not switch to ${to.label} (classes: ${classes}): ${String(e)}`);
  });
}

/** Moves the keyboard focus to the workbench (out of a webview), so that F1 reaches the command palette. */
async function focusWorkbench(page: Page): Promise<void> {
  await page.locator('.part.sidebar .title-label').first().click();
}

async function closeEditors(page: Page): Promise<void> {
  await runCommand(page, 'View: Close All Editors');
  await page
    .locator('iframe.webview.ready')
    .first()
    .waitFor({ state: 'detached', timeout: TIMEOUT })
    .catch(() => undefined);
}

/** Shows the Layers tab of a webview once the analysis is done and the rows are in. */
async function showLayers(view: FrameLocator): Promise<void> {
  await view.locator('[data-field="analysisState"][data-state="done"]').waitFor({ timeout: 60_000 });
  await view.locator('button[data-tab="layers"]').click();
  await view.locator('.table-rows .vrow[data-index]').first().waitFor({ timeout: TIMEOUT });
  // Every SQNR cell filled in (no "…" left).
  await view.locator('.table-rows .vrow[data-index] .cell', { hasText: /^…$/ }).first().waitFor({
    state: 'detached',
    timeout: TIMEOUT,
  });
}

/** Where header and cells are, measured in the webview: every cell of every row checked against its header. */
interface Alignment {
  rows: number;
  columns: number;
  misaligned: string[];
  headers: { title: string; left: number; right: number }[];
  viewport: { left: number; right: number; pinnedRight: number };
}

function measureAlignment(grid: Locator): Promise<Alignment> {
  // Runs in the webview (this project compiles without the DOM library: the element is untyped here).
  return grid.evaluate((el) => {
    const headers = [...el.querySelectorAll('.vhead [role="columnheader"]')];
    const hb = headers.map((h) => h.getBoundingClientRect());
    const rows = [...el.querySelectorAll('.table-rows .vrow[data-index]')];
    const misaligned: string[] = [];
    for (const row of rows) {
      const cells = [...row.children];
      if (cells.length !== headers.length) {
        misaligned.push(`row ${row.dataset.index}: ${cells.length} cells under ${headers.length} headers`);
        continue;
      }
      cells.forEach((c: (typeof headers)[number], i: number) => {
        const b = c.getBoundingClientRect();
        if (b.left < hb[i].left - 0.5 || b.right > hb[i].right + 0.5)
          misaligned.push(
            `row ${row.dataset.index} "${c.textContent?.trim()}" at ${b.left.toFixed(1)}-${b.right.toFixed(1)} under ` +
              `"${headers[i].textContent?.trim()}" at ${hb[i].left.toFixed(1)}-${hb[i].right.toFixed(1)}`,
          );
      });
    }
    const vb = el.getBoundingClientRect();
    const pinned = headers.filter((h) => h.classList.contains('pin')).map((h) => h.getBoundingClientRect().right);
    return {
      rows: rows.length,
      columns: headers.length,
      misaligned,
      headers: headers.map((h, i) => ({
        title: h.title || h.textContent!.trim(),
        left: hb[i].left,
        right: hb[i].right,
      })),
      // The rows live in the padding box: inside the viewport's border (clientLeft), clientWidth wide.
      viewport: {
        left: vb.left + el.clientLeft,
        right: vb.left + el.clientLeft + el.clientWidth,
        pinnedRight: Math.max(vb.left + el.clientLeft, ...pinned),
      },
    };
  });
}

async function expectAligned(view: FrameLocator, what: string, scroll = true): Promise<Alignment> {
  const grid = view.locator('.table-viewport');
  const check = async (where: string): Promise<Alignment> => {
    const a = await measureAlignment(grid);
    if (a.rows === 0) throw new Error(`${what}: no rows shown`);
    if (a.misaligned.length > 0)
      throw new Error(
        `${what} (${where}): ${a.misaligned.length} cells not under their header:\n${a.misaligned.slice(0, 6).join('\n')}`,
      );
    return a;
  };
  const first = await check('scrolled to the left');
  if (scroll) {
    // Scrolled sideways the pinned columns stay, and the rest still lines up.
    await grid.evaluate((el) => el.scrollTo({ left: el.scrollWidth }));
    await view
      .locator('.table-rows')
      .evaluate((el) => new Promise((r) => el.ownerDocument.defaultView.requestAnimationFrame(() => r(null))));
    await check('scrolled to the right');
    await grid.evaluate((el) => el.scrollTo({ left: 0 }));
  }
  return first;
}

/** The SQNR columns lie inside the grid's visible box, right of the pinned columns, without scrolling. */
function expectSqnrVisible(a: Alignment, what: string): number {
  const sqnr = a.headers.filter((h) => h.title.startsWith('SQNR under'));
  if (sqnr.length === 0) throw new Error(`${what}: no SQNR column`);
  const hidden = sqnr.filter((h) => h.left < a.viewport.pinnedRight - 0.5 || h.right > a.viewport.right + 0.5);
  if (hidden.length > 0)
    throw new Error(
      `${what}: ${hidden.length} of ${sqnr.length} SQNR columns off-screen: ${hidden.map((h) => h.title.split(' (')[0]).join(', ')}`,
    );
  return sqnr.length;
}

/** Header names shown whole: every visible column's lines give its full name, no line cut, the arrow beside them. */
export async function expectHeadersWhole(view: FrameLocator, what: string): Promise<number> {
  const problems = await view.locator('.table-viewport').evaluate((el) => {
    const vb = el.getBoundingClientRect();
    const right = vb.left + el.clientWidth;
    const out: string[] = [];
    let checked = 0;
    for (const h of el.querySelectorAll('.vhead [role="columnheader"]')) {
      const hb = h.getBoundingClientRect();
      if (hb.left < vb.left - 0.5 || hb.right > right + 0.5) continue; // scrolled out of view
      checked += 1;
      const lines = [...h.querySelectorAll('.hline')];
      const shown = lines.map((l) => l.textContent).join(' ');
      const title = h.dataset.title;
      if (shown.replace(/\s+/g, '') !== title.replace(/\s+/g, '') || h.dataset.whole !== 'true')
        out.push(`"${title}" reads "${shown}"`);
      for (const l of lines)
        if (l.scrollWidth > l.clientWidth + 0.5) out.push(`"${title}": the line "${l.textContent}" is cut`);
      const arrow = h.querySelector('.arrow')?.getBoundingClientRect() ?? { width: 0, left: 0, right: 0 };
      const text = h.querySelector('.hlines').getBoundingClientRect();
      if (h.getAttribute('aria-sort') !== 'none' && arrow.width === 0) out.push(`"${title}": sorted, but no arrow`);
      if (arrow.width > 0 && arrow.left < text.right - 0.5 && arrow.right > text.left + 0.5)
        out.push(`"${title}": the sort arrow lies over the name`);
      if (text.right > hb.right + 0.5 || text.left < hb.left - 0.5) out.push(`"${title}": the name leaves its column`);
    }
    return { out, checked };
  });
  if (problems.out.length > 0) throw new Error(`${what}: headers cut:\n${problems.out.join('\n')}`);
  return problems.checked;
}

/**
 * The table fills the room left in the window, in whole rows: no row cut by its bottom edge, its bottom within a row
 * of the window's (or all rows shown).
 */
async function expectTableFills(view: FrameLocator, what: string): Promise<string> {
  const m = await view.locator('.table-viewport').evaluate((el) => {
    const win = el.ownerDocument.defaultView;
    win.scrollTo(0, 0);
    const vb = el.getBoundingClientRect();
    const header = el.querySelector('.vhead').getBoundingClientRect();
    const clientBottom = vb.top + el.clientTop + el.clientHeight;
    const rows = [...el.querySelectorAll('.table-rows .vrow[data-index]')].map((r) => r.getBoundingClientRect());
    const cut = rows.filter((r) => r.top < clientBottom - 0.5 && r.bottom > clientBottom + 0.5).length;
    const whole = rows.filter((r) => r.top >= header.bottom - 0.5 && r.bottom <= clientBottom + 0.5).length;
    const total = Number(el.getAttribute('aria-rowcount')) - 1;
    return {
      bottom: vb.bottom,
      windowHeight: win.innerHeight,
      cut,
      whole,
      total,
      rowsHeight: clientBottom - header.bottom,
    };
  });
  const summary = `${m.whole} of ${m.total} rows whole, table bottom ${m.bottom.toFixed(0)} of ${m.windowHeight} px`;
  if (m.cut > 0) throw new Error(`${what}: a row is cut by the table's bottom edge (${summary})`);
  if (Math.abs(m.rowsHeight - m.whole * 24) > 1)
    throw new Error(`${what}: the rows' room (${m.rowsHeight} px) is not a whole number of rows (${summary})`);
  if (m.bottom > m.windowHeight + 0.5) throw new Error(`${what}: the table runs past the window (${summary})`);
  if (m.whole < m.total && m.bottom < m.windowHeight - 24 - 14)
    throw new Error(`${what}: the table leaves room unused below it (${summary})`);
  return summary;
}

/** The layer detail's charts: count axes tick at integers; with nothing hovered the legend is a key, no empty values. */
async function expectDetailCharts(page: Page, view: FrameLocator): Promise<void> {
  await view.locator('.table-rows .vrow[data-index]:not(.dim)').first().click();
  for (const id of ['chart-histogram', 'chart-channels']) {
    const chart = view.locator(`#${id} .uplot[data-count-ticks]`);
    await chart.waitFor({ timeout: TIMEOUT });
    const ticks = ((await chart.getAttribute('data-count-ticks')) ?? '').split('|');
    if (ticks.length === 0 || ticks.some((t) => !/^\d{1,3}(,\d{3})*$/.test(t)))
      throw new Error(`${id}: count axis ticks that are not integers: ${ticks.join(', ')}`);
    await page.mouse.move(0, 0);
    await page.waitForTimeout(100);
    const idle = (await chart.locator('.u-legend').innerText()).trim();
    if (/:/.test(idle) || /\bvalue\b|\brank\b/.test(idle))
      throw new Error(`${id}: with nothing hovered the legend reads "${idle}"`);
    const over = chart.locator('.u-over');
    await over.scrollIntoViewIfNeeded();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await chart.locator('.u-legend.u-live').waitFor({ timeout: TIMEOUT });
    const live = (await chart.locator('.u-legend').innerText()).trim();
    if (!/\d/.test(live)) throw new Error(`${id}: hovering shows no values: "${live}"`);
    await page.mouse.move(0, 0);
  }
}

type Test = { name: string; run: (page: Page) => Promise<void> };

/** Every cell under its header and every SQNR column on screen, on both models in one theme; a screenshot of each. */
async function alignmentInTheme(page: Page, theme: (typeof THEMES)[number]): Promise<void> {
  for (const file of MODELS) {
    await doubleClickInExplorer(page, file);
    const view = webview(page);
    await view.locator(`body.${theme.bodyClass}`).waitFor({ timeout: TIMEOUT });
    await showLayers(view);
    const a = await expectAligned(view, `${file} in ${theme.name}`);
    const n = expectSqnrVisible(a, `${file} in ${theme.name}`);
    const headers = await expectHeadersWhole(view, `${file} in ${theme.name}`);
    const fill = await expectTableFills(view, `${file} in ${theme.name}`);
    console.log(
      `    ${file} ${theme.name}: ${a.rows} rows x ${a.columns} columns aligned; ${n} of ${n} SQNR columns visible; ${headers} headers whole; ${fill}`,
    );
    if (file === 'torch_block.onnx') await selectedRowVisible(page, view, theme.name);
    await page.screenshot({ path: path.join(ARTIFACTS, `table-${path.basename(file, '.onnx')}-${theme.name}.png`) });
    await closeEditors(page);
  }
  await activationsInTheme(page, theme);
}

/**
 * Issue 20 in one theme: the activation column of convnet.onnx (its evaluation quantized activations) is on screen
 * with a value under its header in each weight row; conv2's detail draws the activation histogram and channel
 * ranges; the results view shows the calibration line and "weights only" / "W8A8" per variant.
 */
async function activationsInTheme(page: Page, theme: Theme): Promise<void> {
  await doubleClickInExplorer(page, 'convnet.onnx');
  const view = webview(page);
  await view.locator(`body.${theme.bodyClass}`).waitFor({ timeout: TIMEOUT });
  await showLayers(view);
  await view.locator('.vhead [role="columnheader"][data-col="activation"]').waitFor({ timeout: TIMEOUT });
  const a = await expectAligned(view, `convnet.onnx with activations in ${theme.name}`);
  expectSqnrVisible(a, `convnet.onnx in ${theme.name}`);
  const head = a.headers.find((h) => h.title.startsWith('Activation SQNR'));
  if (!head || head.left < a.viewport.pinnedRight - 0.5 || head.right > a.viewport.right + 0.5)
    throw new Error(`${theme.name}: the activation column is not on screen: ${JSON.stringify(head)}`);
  const values = await view
    .locator('.table-rows .vrow[data-index] [data-col="activation"]')
    .evaluateAll((cells) => cells.map((c) => (c.textContent as string).trim()));
  const expected = ['41.2', '—', '17.4', '—'];
  if (values.join('|') !== expected.join('|'))
    throw new Error(`${theme.name}: activation cells ${values.join(', ')}, expected ${expected.join(', ')}`);
  await view.locator('.table-rows .vrow[data-index]', { hasText: 'conv2.weight' }).click();
  const section = view.locator('section.activation');
  await section.locator('#chart-activation canvas').waitFor({ timeout: TIMEOUT });
  await section.locator('#chart-activation-channels canvas').waitFor({ timeout: TIMEOUT });
  await section.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(ARTIFACTS, `activations-inspector-${theme.name}.png`) });
  await view.locator('#chart-activation-channels').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(ARTIFACTS, `activations-channels-${theme.name}.png`) });
  await runCommand(page, 'QuantLens: Show Evaluation Results');
  const results = webview(page);
  await results.locator('[data-field="calibration"]', { hasText: 'Activations calibrated on 256 samples' }).waitFor({
    timeout: TIMEOUT,
  });
  const tags = await results.locator('table.results th .variant-tag').allTextContents();
  if (tags.join('|') !== 'float reference|weights only|W8A8')
    throw new Error(`${theme.name}: variant tags ${tags.join(', ')}`);
  await page.screenshot({ path: path.join(ARTIFACTS, `activations-results-${theme.name}.png`) });
  await results.locator('table.results.activations').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(ARTIFACTS, `activations-results-table-${theme.name}.png`) });
  console.log(
    `    convnet.onnx ${theme.name}: activation column ${values.join(', ')} under its header; charts and results view drawn`,
  );
  await closeEditors(page);
}

const tests: Test[] = [
  {
    name: 'sorted by each visible column in turn, every visible header keeps its whole name next to the arrow',
    run: async (page) => {
      await doubleClickInExplorer(page, 'torch_block.onnx');
      const view = webview(page);
      await showLayers(view);
      const keys = await view.locator('.table-viewport').evaluate((el) => {
        const right = el.getBoundingClientRect().left + el.clientWidth;
        return [...el.querySelectorAll('.vhead [role="columnheader"][tabindex="0"]')]
          .filter((h) => h.getBoundingClientRect().right <= right + 0.5)
          .map((h) => h.dataset.col as string);
      });
      for (const key of keys) {
        const header = view.locator(`.vhead [data-col="${key}"]`);
        await header.click();
        await view.locator(`.vhead [data-col="${key}"]:not([aria-sort="none"]) .codicon`).waitFor({ timeout: TIMEOUT });
        await expectHeadersWhole(view, `sorted by ${key}`);
      }
      console.log(`    ${keys.length} columns sorted, every header whole with its arrow`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'table-sorted-header.png') });
      await view.locator('.vhead [data-col="index"]').click();
      await closeEditors(page);
    },
  },
  {
    name: 'the table fills the window in whole rows and follows a resize; the detail charts tick counts at integers and show no empty legend values',
    run: async (page) => {
      await doubleClickInExplorer(page, 'paddle_lstm.onnx');
      const view = webview(page);
      await showLayers(view);
      const at1000 = await expectTableFills(view, '1600 x 1000');
      try {
        // Low enough that not every row fits: the table shrinks to whole rows and scrolls.
        await page.setViewportSize({ width: 1600, height: 560 });
        await page.waitForTimeout(800);
        const at560 = await expectTableFills(view, '1600 x 560');
        console.log(`    1000 px: ${at1000}; 560 px: ${at560}`);
        const [shown, total] = /(\d+) of (\d+) rows/.exec(at560)!.slice(1).map(Number);
        if (shown >= total) throw new Error(`at 560 px the table still shows all ${total} rows: ${at560}`);
      } finally {
        await page.setViewportSize({ width: 1600, height: 1000 });
      }
      await page.waitForTimeout(800);
      await expectTableFills(view, 'back at 1600 x 1000');
      await expectDetailCharts(page, view);
      await page.screenshot({ path: path.join(ARTIFACTS, 'table-detail-charts.png') });
      await closeEditors(page);
    },
  },
  {
    name: 'in a narrow split (the torch export in two editor groups side by side) every cell still lies under its header, with a hint to the columns off-screen',
    run: async (page) => {
      // Split Editor Right (Ctrl+\\) on the inspector: the same model in two groups side by side.
      await doubleClickInExplorer(page, 'torch_block.onnx');
      await showLayers(webview(page));
      await page.locator('.tabs-container .tab', { hasText: 'torch_block.onnx' }).first().click();
      await page.keyboard.press('Control+Backslash');
      await page.locator('iframe.webview.ready').nth(1).waitFor({ timeout: TIMEOUT });
      await page.waitForTimeout(500);
      for (const nth of [0, 1]) {
        const view = webview(page, nth);
        await showLayers(view);
        const width = await view.locator('.table-viewport').evaluate((el) => el.clientWidth);
        if (width > 800) throw new Error(`the split is not narrow: the table is ${width} px wide`);
        await expectAligned(view, `split editor ${nth + 1} (${width} px)`);
        const hint = view.locator('[data-field="columnsHint"]:not([hidden])');
        if (!/more columns? →/.test((await hint.textContent()) ?? ''))
          throw new Error(`split editor ${nth + 1}: no hint that columns are off-screen`);
      }
      await page.screenshot({ path: path.join(ARTIFACTS, 'table-narrow-split.png') });
      await closeEditors(page);
    },
  },
  {
    name: 'a column header sorts with Enter and Space (order and aria-sort change); the grid has ARIA roles',
    run: async (page) => {
      await doubleClickInExplorer(page, 'torch_block.onnx');
      const view = webview(page);
      await showLayers(view);
      const grid = view.locator('.table-viewport[role="grid"]');
      const roles = await grid.evaluate((el) => ({
        rows: el.querySelectorAll('[role="row"]').length,
        headers: el.querySelectorAll('[role="row"] > [role="columnheader"]').length,
        cells: el.querySelectorAll('[role="row"] > [role="gridcell"]').length,
      }));
      if (roles.rows < 2 || roles.headers < 5 || roles.cells < roles.headers)
        throw new Error(`ARIA grid roles missing: ${JSON.stringify(roles)}`);
      const order = (): Promise<string[]> =>
        view.locator('.table-rows .vrow[data-index]').evaluateAll((rows) => rows.map((r) => r.dataset.index as string));
      const header = view.locator('.vhead [role="columnheader"][data-col="params"]');
      const before = await order();
      await header.focus();
      await page.keyboard.press('Enter');
      await view.locator('.vhead [data-col="params"][aria-sort="ascending"]').waitFor({ timeout: TIMEOUT });
      await page.waitForTimeout(300);
      const ascending = await order();
      if (ascending.join() === before.join()) throw new Error('Enter on the Params header did not change the order');
      await view.locator('.vhead [data-col="params"]').focus();
      await page.keyboard.press(' ');
      await view.locator('.vhead [data-col="params"][aria-sort="descending"]').waitFor({ timeout: TIMEOUT });
      await page.waitForTimeout(300);
      if ((await order()).join() === ascending.join()) throw new Error('Space did not turn the order around');
      // Back to graph order for the other tests.
      await view.locator('.vhead [data-col="index"]').focus();
      await page.keyboard.press('Enter');
      await view.locator('.vhead [data-col="index"][aria-sort="ascending"]').waitFor({ timeout: TIMEOUT });
      await closeEditors(page);
    },
  },
  {
    name: 'the tabs are an ARIA tablist: arrow keys move between them; the model heatmap: arrow keys move a cell cursor, Enter opens that layer',
    run: async (page) => {
      await doubleClickInExplorer(page, 'torch_block.onnx');
      const view = webview(page);
      await showLayers(view);
      const layers = view.locator('[role="tablist"] [role="tab"][data-tab="layers"]');
      await layers.focus();
      await page.keyboard.press('ArrowRight');
      await view.locator('[role="tab"][data-tab="heatmap"][aria-selected="true"]').waitFor({ timeout: TIMEOUT });
      const focused = await view
        .locator('[role="tab"][data-tab="heatmap"]')
        .evaluate((el) => el === el.ownerDocument.activeElement);
      if (!focused) throw new Error('ArrowRight selected the next tab but did not move the focus to it');
      await view.locator('#panel-heatmap[role="tabpanel"]:not([hidden])').waitFor({ timeout: TIMEOUT });
      await page.keyboard.press('ArrowLeft');
      await view.locator('[role="tab"][data-tab="layers"][aria-selected="true"]').waitFor({ timeout: TIMEOUT });
      await page.keyboard.press('End');
      await view.locator('[role="tab"][data-tab="heatmap"][aria-selected="true"]').waitFor({ timeout: TIMEOUT });

      const canvas = view.locator('canvas#chart-model');
      await canvas.waitFor({ timeout: TIMEOUT });
      await page.waitForTimeout(300);
      await canvas.focus();
      for (const key of ['ArrowDown', 'ArrowDown', 'ArrowRight', 'ArrowRight']) await page.keyboard.press(key);
      const tip = view.locator('#model-tip:not([hidden])');
      await tip.waitFor({ timeout: TIMEOUT });
      const [cellLine] = ((await tip.textContent()) ?? '').split('\n');
      const scheme = cellLine.split(' · ').pop()!;
      await page.screenshot({ path: path.join(ARTIFACTS, 'table-heatmap-keyboard.png') });
      await page.keyboard.press('Enter');
      await view.locator('[role="tab"][data-tab="layers"][aria-selected="true"]').waitFor({ timeout: TIMEOUT });
      const select = view.locator('select[data-field="detailScheme"]');
      await select.waitFor({ timeout: TIMEOUT });
      const tensor = cellLine.split(' · ').slice(-2)[0];
      await view.locator('[data-field="detailTensor"]', { hasText: tensor }).waitFor({ timeout: TIMEOUT });
      if ((await select.inputValue()) !== scheme)
        throw new Error(`Enter on "${cellLine}" opened the detail under ${await select.inputValue()}`);
      await closeEditors(page);
    },
  },
];

/** The selected row is visible: a selection background different from the rows', or an outline (high contrast). */
async function selectedRowVisible(page: Page, view: FrameLocator, theme: string): Promise<void> {
  await view.locator('.table-viewport').focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowDown');
  const selected = view.locator('.table-rows .vrow.selected');
  await selected.waitFor({ timeout: TIMEOUT });
  const look = await selected.evaluate((row) => {
    // No named functions in here: the page does not have the bundler's helpers.
    const win = row.ownerDocument.defaultView;
    const other = row.parentElement.querySelector('.vrow[data-index]:not(.selected)');
    const cell = row.querySelector('.cell:not(.sqnr)');
    const otherCell = other.querySelector('.cell:not(.sqnr)');
    return {
      background: win.getComputedStyle(row).backgroundColor,
      otherBackground: win.getComputedStyle(other).backgroundColor,
      shadow: win.getComputedStyle(cell).boxShadow,
      otherShadow: win.getComputedStyle(otherCell).boxShadow,
    };
  });
  const transparent = (c: string): boolean => c === 'transparent' || /rgba\(.*,\s*0\)$/.test(c);
  const byBackground = !transparent(look.background) && look.background !== look.otherBackground;
  const byOutline =
    look.shadow !== 'none' && look.shadow !== look.otherShadow && !/rgba\(0, 0, 0, 0\)/.test(look.shadow);
  if (theme === 'hc' ? !byOutline : !byBackground && !byOutline)
    throw new Error(`${theme}: the selected row does not stand out: ${JSON.stringify(look)}`);
}

/** Runs the table layout UI tests in a fresh server and workbench (1600 x 1000, explorer open). */
export async function runTableLayoutTests(codeServer: string, verbose = false): Promise<TableLayoutResult> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const folder = mkdtempSync(path.join(tmpdir(), 'quantlens-table-'));
  for (const f of [...MODELS, 'convnet.onnx'])
    cpSync(path.join(ROOT, 'test', 'fixtures', 'models', f), path.join(folder, f));
  // An evaluation of convnet.onnx that quantized activations (read when the extension activates).
  writeFileSync(
    path.join(folder, 'convnet.results.json'),
    JSON.stringify(activationResultsFixture(), finiteReplacer, 2),
  );
  const result: TableLayoutResult = { passed: 0, failed: 0 };
  const server = await startServer({ codeServer, verbose });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await fixWebviewServiceWorkers(page);
    await page.goto(workbenchUrl(server.port, { folder, extensionDevelopmentPath: ROOT }));
    await waitForActivation(page);
    // Light, high contrast, then dark; the other tests run in the dark theme.
    for (const theme of [THEMES[0], THEMES[2], THEMES[1]]) {
      await setTheme(page, theme);
      const alignment: Test = {
        name: `${theme.name} theme, 1600 x 1000 with the explorer open, torch and Paddle exports: every cell lies under its header, the SQNR columns are on screen, the selected row stands out`,
        run: (p) => alignmentInTheme(p, theme),
      };
      await runTests(page, theme.name === 'dark' ? [alignment, ...tests] : [alignment], result);
    }
  } finally {
    await browser.close();
    await server.stop();
    rmSync(folder, { recursive: true, force: true });
  }
  return result;
}

async function runTests(page: Page, list: Test[], result: TableLayoutResult): Promise<void> {
  const only = process.env.QUANTLENS_UI_ONLY; // a part of a test name: run only those tests (while developing)
  for (const test of list) {
    if (only && !test.name.includes(only)) continue;
    const started = Date.now();
    try {
      await test.run(page);
      result.passed += 1;
      console.log(`  ✔ ${test.name} (${Date.now() - started} ms)`);
    } catch (error) {
      result.failed += 1;
      const shot = path.join(ARTIFACTS, `failed-table-${test.name.replace(/\W+/g, '-').slice(0, 50)}.png`);
      await page.screenshot({ path: shot }).catch(() => undefined);
      console.log(
        `  ✘ ${test.name}\n    ${error instanceof Error ? error.message : String(error)}\n    screenshot: ${shot}`,
      );
      await closeEditors(page).catch(() => undefined);
    }
  }
}

if (require.main === module) {
  // `npx tsx test/ui/tableLayout.ts`: these tests alone.
  void import('../../scripts/vscodeServer').then(async ({ ensureTestEnv }) => {
    const r = await runTableLayoutTests(ensureTestEnv(), process.argv.includes('--verbose'));
    console.log(`${r.passed} passed, ${r.failed} failed`);
    process.exitCode = r.failed > 0 ? 1 : 0;
  });
}
