/**
 * UI tests of the results view (issue 17, finding 10) on the real workbench at 1600 x 1000: the sweep of the
 * demo's 14-slice spec draws every slice in its own style, the legend hides and shows a line, the filter
 * narrows the lines, no "--" placeholders; a plan file shows its "Evaluate this plan" code lens; its "Export
 * quantized model" lens exports, verifies and evaluates the export on the plan's spec: the results view shows the
 * export's cost row and its comparison with the simulation (issue 19; the README's screenshot); clicking the
 * scheme's point in the accuracy-vs-cost chart selects its column and offers its export.
 */
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { expectHeadersWhole } from './tableLayout';
import { contrastRatio, setColorTheme } from './workbench';

/** What the UI test runner (scripts/uiTests.ts) lends its tests. */
export interface UiHelpers {
  webview(page: Page): FrameLocator;
  runCommand(page: Page, title: string): Promise<void>;
  openFromExplorer(page: Page, file: string): Promise<void>;
  closeEditors(page: Page): Promise<void>;
  artifacts: string;
}

const TIMEOUT = 30_000;

/** Shows the demo's results (running the evaluation first when there are none yet). */
async function showResults(page: Page, h: UiHelpers): Promise<FrameLocator> {
  await h.openFromExplorer(page, 'mnist.quantlens.json');
  await page.locator('.monaco-editor .view-line', { hasText: 'mnist_mlp.onnx' }).first().waitFor({ timeout: TIMEOUT });
  await h.runCommand(page, 'QuantLens: Show Evaluation Results');
  const none = page.locator('.notifications-toasts .notification-toast', { hasText: 'No evaluation results yet' });
  const table = h.webview(page).locator('table.results');
  const first = await Promise.race([
    none.waitFor({ timeout: TIMEOUT }).then(() => 'none' as const),
    table.waitFor({ timeout: TIMEOUT }).then(() => 'shown' as const),
  ]);
  if (first === 'none') {
    await h.runCommand(page, 'QuantLens: Run Slice Evaluation');
    const done = page.locator('.notifications-toasts .notification-toast', { hasText: 'Evaluated 1996 samples' });
    await done.waitFor({ timeout: 120_000 });
    await done.locator('.monaco-button', { hasText: 'Show Results' }).click();
    // Drawn once the new results arrive (the view was open, empty, since "No evaluation results yet").
    await table.waitFor({ timeout: TIMEOUT });
  }
  return h.webview(page);
}

/** The chart's pixels, to tell whether hiding a line redrew it. */
const chartPixels = (view: FrameLocator): Promise<string> =>
  view
    .locator('.sweep .chart canvas')
    .first()
    .evaluate((c) => (c as unknown as { toDataURL(): string }).toDataURL());

async function expectShown(view: FrameLocator, shown: number): Promise<void> {
  await view.locator(`.sweep .chart[data-shown="${shown}"]`).waitFor({ timeout: TIMEOUT });
}

/**
 * The layer sensitivity rows: in every layer, the one-layer values and the "all but this" value start at the same x
 * (one value column), wherever the bars end.
 */
async function expectSensitivityLabelsAligned(view: FrameLocator): Promise<void> {
  const cells = view.locator('.bars .barcell');
  await cells.first().waitFor({ timeout: TIMEOUT });
  const lefts = await cells.evaluateAll((list) =>
    list.map((c) =>
      Array.from(c.querySelectorAll('.barrow > .value')).map((e) => {
        // Runs in the webview (this tsconfig has no DOM types).
        const v = e as unknown as {
          parentElement: { classList: { contains(c: string): boolean } };
          getBoundingClientRect(): { left: number };
        };
        return { loo: v.parentElement.classList.contains('loo'), x: Math.round(v.getBoundingClientRect().left) };
      }),
    ),
  );
  const withLoo = lefts.filter((row) => row.some((v) => v.loo) && row.some((v) => !v.loo));
  if (withLoo.length === 0) throw new Error(`no layer shows both a one-layer and an "all but this" value`);
  for (const row of withLoo) {
    const xs = new Set(row.map((v) => v.x));
    if (xs.size !== 1) throw new Error(`a layer's sensitivity values start at different x: ${JSON.stringify(row)}`);
  }
  console.log(`    sensitivity values aligned at x=${withLoo[0][0].x} in ${withLoo.length} layers`);
}

/** The sweep chart's drawn foreground and the body's theme foreground now. */
const sweepColours = (view: FrameLocator): Promise<{ drawn: string; body: string }> =>
  view.locator('.sweep .chart').evaluate((box) => ({
    drawn: (box as unknown as { dataset: Record<string, string> }).dataset.fg ?? '',
    body: box.ownerDocument
      .defaultView!.getComputedStyle(box.ownerDocument.body)
      .getPropertyValue('--vscode-foreground')
      .trim(),
  }));

/** A live theme switch with the results open: the sweep is drawn again in the new theme's foreground. */
async function expectRedrawnOnThemeSwitch(page: Page, view: FrameLocator, label: string, cls: string): Promise<void> {
  const before = await sweepColours(view);
  if (before.drawn !== before.body) throw new Error(`the sweep was drawn in ${before.drawn}, not ${before.body}`);
  await setColorTheme(page, label, cls);
  const deadline = Date.now() + TIMEOUT;
  let after = await sweepColours(view);
  while (after.drawn !== after.body || after.body === before.body) {
    if (Date.now() > deadline)
      throw new Error(`after switching to ${label} the sweep is drawn in ${after.drawn} (theme ${after.body})`);
    await page.waitForTimeout(200);
    after = await sweepColours(view);
  }
  console.log(`    live switch to ${label}: sweep drawn in ${before.drawn} -> ${after.drawn}`);
}

async function sweepShowsEverySlice(page: Page, h: UiHelpers): Promise<void> {
  await page.setViewportSize({ width: 1600, height: 1000 });
  try {
    const view = await showResults(page, h);
    const rows = await view.locator('table.results tr:not(.summary)').count();
    const slices = rows - 1; // the header row
    if (slices !== 14) throw new Error(`the demo spec has 14 slices, the table shows ${slices}`);
    const chart = view.locator('.sweep .chart');
    await chart.locator('canvas').waitFor({ timeout: TIMEOUT });
    if ((await chart.getAttribute('data-lines')) !== '14') {
      throw new Error(`the sweep draws ${await chart.getAttribute('data-lines')} of the 14 slices`);
    }
    await expectShown(view, 14);
    const entries = view.locator('.sweep-legend button.sweep-entry');
    if ((await entries.count()) !== 14) throw new Error(`the legend lists ${await entries.count()} slices, not 14`);
    const styles = await entries.evaluateAll((list) =>
      list.map((b) => {
        const line = b.querySelector('line')!;
        return `${line.getAttribute('stroke')}|${line.getAttribute('stroke-dasharray') ?? ''}`;
      }),
    );
    if (new Set(styles).size !== 14) throw new Error(`slices share a line style: ${styles.join(', ')}`);
    await expectDistinctDrawnStyles(view, 14);
    // Ticks only at the measured bit widths (the demo spec sweeps 8 down to 2).
    const ticks = await chart.locator('.uplot').getAttribute('data-bit-ticks');
    if (ticks !== 'int2|int3|int4|int5|int6|int7|int8') throw new Error(`the sweep's bit ticks are ${ticks}`);
    const legendText = (await view.locator('.sweep-legend').textContent()) ?? '';
    if (/--|Value/.test(legendText)) throw new Error(`the legend shows placeholders: ${legendText}`);
    if ((await view.locator('.u-legend').count()) > 0) throw new Error("uPlot's own legend is shown");
    await expectSensitivityLabelsAligned(view);
    await view.locator('.sweep').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(h.artifacts, 'results-sweep-all-slices.png') });

    // Click a slice: its line goes, the button says so; click again: it is back.
    const before = await chartPixels(view);
    const nine = entries.filter({ hasText: 'digit=9' });
    await nine.click();
    await expectShown(view, 13);
    if ((await nine.getAttribute('aria-pressed')) !== 'false')
      throw new Error('the hidden slice is not marked as hidden');
    await page.waitForTimeout(100);
    if ((await chartPixels(view)) === before) throw new Error('hiding digit=9 did not change the chart');
    await page.screenshot({ path: path.join(h.artifacts, 'results-sweep-one-hidden.png') });
    await nine.click();
    await expectShown(view, 14);
    await expectDistinctDrawnStyles(view, 14);

    // The filter keeps the matching slices only.
    await view.locator('.sweep-filter').fill('ink');
    await expectShown(view, 3);
    const listed = await entries.evaluateAll((list) =>
      list.filter((b) => (b as unknown as { offsetParent: unknown }).offsetParent !== null).map((b) => b.textContent),
    );
    if (listed.length !== 3) throw new Error(`the filter left ${listed.join(', ')} listed`);
    await page.waitForTimeout(200);
    await page.screenshot({ path: path.join(h.artifacts, 'results-sweep-filtered.png') });
    await view.locator('.sweep-filter').fill('');
    await expectShown(view, 14);
    await expectRedrawnOnThemeSwitch(page, view, 'Dark High Contrast', 'hc-black');
    await expectShown(view, 14);
    await expectRedrawnOnThemeSwitch(page, view, 'Dark Modern', 'vs-dark');
    await h.closeEditors(page);
  } finally {
    await page.setViewportSize({ width: 1400, height: 900 });
  }
}

/**
 * The styles the chart draws (stroke, dash, marker), as recorded by the chart itself: no two visible lines alike, a
 * repeated hue differs in dash and marker, and the legend's swatches show the same styles.
 */
async function expectDistinctDrawnStyles(view: FrameLocator, shown: number): Promise<void> {
  const drawn = ((await view.locator('.sweep .chart').getAttribute('data-shown-styles')) ?? '').split(' ');
  if (drawn.length !== shown) throw new Error(`the chart reports ${drawn.length} visible styles, not ${shown}`);
  if (new Set(drawn).size !== drawn.length) throw new Error(`visible lines share a style: ${drawn.join(' ')}`);
  const byHue = new Map<string, string[]>();
  for (const st of drawn) byHue.set(st.split('|')[0], [...(byHue.get(st.split('|')[0]) ?? []), st]);
  for (const [hue, list] of byHue) {
    const dashes = new Set(list.map((st) => st.split('|')[1]));
    const marks = new Set(list.map((st) => st.split('|')[2]));
    if (list.length > 1 && (dashes.size !== list.length || marks.size < Math.min(2, list.length)))
      throw new Error(`lines of hue ${hue} differ in too little: ${list.join(' ')}`);
  }
  const swatches = await view
    .locator('.sweep-legend button.sweep-entry:not([hidden]) svg')
    .evaluateAll((list) => list.map((svg) => svg.dataset.style as string));
  const legendDrawn = swatches.filter((st) => drawn.includes(st));
  if (legendDrawn.length !== drawn.length)
    throw new Error(`the legend's swatches (${swatches.join(' ')}) are not the drawn styles (${drawn.join(' ')})`);
}

/**
 * Dark High Contrast: violated, within-noise and pass cells differ by a border and a marked word ("✗ violated",
 * "≈ within noise", "✓ pass"), with no tint, the text at a contrast of 7:1 or more and the borders at 3:1 or more.
 */
async function highContrastVerdicts(page: Page, h: UiHelpers): Promise<void> {
  await page.setViewportSize({ width: 1600, height: 1000 });
  try {
    await setColorTheme(page, 'Dark High Contrast', 'hc-black');
    const view = await showResults(page, h);
    await view.locator('body.vscode-high-contrast table.results').waitFor({ timeout: TIMEOUT });
    const cells = await view
      .locator('table.results td.bad, table.results td.noise, table.results td.ok')
      .evaluateAll((list) =>
        list.map((td) => {
          const win = td.ownerDocument.defaultView;
          const st = win.getComputedStyle(td);
          const body = win.getComputedStyle(td.ownerDocument.body);
          const mark = td.querySelector('.verdict-note');
          return {
            kind: td.classList.contains('bad') ? 'bad' : td.classList.contains('noise') ? 'noise' : 'ok',
            text: mark && win.getComputedStyle(mark).display !== 'none' ? mark.textContent.trim() : '',
            markColor: mark ? win.getComputedStyle(mark).color : st.color,
            color: st.color,
            background: st.backgroundColor,
            page: body.backgroundColor,
            outline: `${st.outlineStyle} ${st.outlineWidth} ${st.outlineColor}`,
            outlineColor: st.outlineColor,
            outlineWidth: parseFloat(st.outlineWidth),
            outlineStyle: st.outlineStyle,
          };
        }),
      );
    const expected = { bad: /^✗ violated/, noise: /^≈ (within noise|too few samples)/, ok: /^✓ pass$/ };
    const counts = { bad: 0, noise: 0, ok: 0 };
    for (const c of cells) {
      counts[c.kind as keyof typeof counts] += 1;
      const where = `a ${c.kind} cell (${c.text}, ${c.outline}, background ${c.background})`;
      if (!expected[c.kind as keyof typeof expected].test(c.text)) throw new Error(`${where}: no marked word`);
      if (!/rgba\(0, 0, 0, 0\)|transparent/.test(c.background)) throw new Error(`${where}: tinted in high contrast`);
      for (const color of [c.color, c.markColor])
        if (contrastRatio(color, c.page) < 7)
          throw new Error(`${where}: text contrast ${contrastRatio(color, c.page).toFixed(1)}`);
      if (c.outlineStyle === 'none' || contrastRatio(c.outlineColor, c.page) < 3)
        throw new Error(`${where}: no border that stands out`);
    }
    const bad = cells.filter((c) => c.kind === 'bad');
    const ok = cells.filter((c) => c.kind === 'ok');
    if (bad.length === 0 || ok.length === 0) throw new Error(`the demo shows ${JSON.stringify(counts)} cells`);
    if (bad[0].outline === ok[0].outline)
      throw new Error(`violated and pass cells have the same border: ${ok[0].outline}`);
    console.log(
      `    high contrast: ${counts.bad} violated, ${counts.noise} within noise, ${counts.ok} pass cells marked`,
    );
    await page.screenshot({ path: path.join(h.artifacts, 'results-high-contrast.png') });
    await h.closeEditors(page);
  } finally {
    await setColorTheme(page, 'Dark Modern', 'vs-dark').catch(() => undefined);
    await page.setViewportSize({ width: 1400, height: 900 });
  }
}

/**
 * After the demo's evaluation the inspector shows "Measured · <scheme>" whole (on two lines) next to the SQNR
 * columns; with only fp32's cost measured, the results say so instead of drawing a one-point latency chart.
 */
async function measuredHeaderAndCost(page: Page, h: UiHelpers): Promise<void> {
  await page.setViewportSize({ width: 1600, height: 1000 });
  try {
    const view = await showResults(page, h);
    await view.locator('table.results').waitFor({ timeout: TIMEOUT });
    const latencyPoints = await view.locator('table.results.cost tr').count();
    if ((await view.locator('p.no-cost').count()) > 0) {
      await view.locator('p.no-cost-chart').waitFor({ timeout: TIMEOUT });
      const charts = await view.locator('.cost-chart').count();
      if (charts > 1) throw new Error(`${charts} cost charts with only fp32 measured (latency rows: ${latencyPoints})`);
    }
    await h.closeEditors(page);
    await h.openFromExplorer(page, 'mnist_mlp.onnx');
    const inspector = h.webview(page);
    await inspector.locator('[data-field="analysisState"][data-state="done"]').waitFor({ timeout: 60_000 });
    await inspector.locator('button[data-tab="layers"]').click();
    const measured = inspector.locator('.vhead [data-col="sensitivity"]');
    await measured.waitFor({ timeout: TIMEOUT });
    const title = (await measured.getAttribute('data-title')) ?? '';
    if (!/^Measured · \S+/.test(title)) throw new Error(`the measured column is titled "${title}"`);
    await expectHeadersWhole(inspector, 'the inspector after an evaluation');
    const lines = await measured.locator('.hline').allTextContents();
    console.log(`    measured header: ${lines.map((l) => `"${l}"`).join(' / ')}`);
    await page.screenshot({ path: path.join(h.artifacts, 'table-measured-header.png') });
    await h.closeEditors(page);
  } finally {
    await page.setViewportSize({ width: 1400, height: 900 });
  }
}

async function planCodeLens(page: Page, h: UiHelpers): Promise<void> {
  await page.setViewportSize({ width: 1600, height: 1000 });
  try {
    await h.openFromExplorer(page, 'mnist-int2.qplan.json');
    await page
      .locator('.monaco-editor .codelens-decoration', { hasText: 'Evaluate this plan' })
      .waitFor({ timeout: TIMEOUT });
    await page.locator('.editor-actions [aria-label^="Evaluate This Plan"]').first().waitFor({ timeout: TIMEOUT });
    await page.screenshot({ path: path.join(h.artifacts, 'plan-evaluate-lens.png') });
    await h.closeEditors(page);
  } finally {
    await page.setViewportSize({ width: 1400, height: 900 });
  }
}

/**
 * Clicks the int8-channel scheme's point in the size chart (the plan's and its export's points coincide there: same
 * bytes, same metrics): its column is selected and its export is offered.
 */
async function clickSchemePoint(page: Page, h: UiHelpers, view: FrameLocator): Promise<void> {
  const chart = view.locator('.cost-chart').last();
  await chart.scrollIntoViewIfNeeded();
  const points = JSON.parse((await chart.getAttribute('data-points')) ?? '[]') as {
    id: string;
    x: number;
    y: number;
  }[];
  const point = points.find((p) => p.id === 'int8-channel');
  if (!point) throw new Error(`the size chart has no point for int8-channel: ${JSON.stringify(points)}`);
  // A click at the point's position (dispatched there: a point on the plot's edge lies under the axis, and the panel
  // may cover the chart at this window size).
  await chart.locator('.u-over').evaluate(
    (over, at) => {
      // Runs in the webview (this tsconfig has no DOM types).
      type Target = { getBoundingClientRect(): { left: number; top: number }; dispatchEvent(e: unknown): boolean };
      const Mouse = (globalThis as unknown as { MouseEvent: new (type: string, init: object) => unknown }).MouseEvent;
      const target = over as unknown as Target;
      const r = target.getBoundingClientRect();
      for (const type of ['mousedown', 'mouseup', 'click'])
        target.dispatchEvent(
          new Mouse(type, { bubbles: true, button: 0, clientX: r.left + at.x, clientY: r.top + at.y }),
        );
    },
    { x: point.x, y: point.y },
  );
  await view.locator(`table.results th.selected[data-variant="${point.id}"]`).waitFor({ timeout: TIMEOUT });
  const offer = page.locator('.notifications-toasts .notification-toast', {
    hasText: 'Export int8-channel as a quantized model',
  });
  await offer.waitFor({ timeout: TIMEOUT });
  await page.screenshot({ path: path.join(h.artifacts, 'results-point-picked.png') });
}

async function exportFromPlanLens(page: Page, h: UiHelpers): Promise<void> {
  await page.setViewportSize({ width: 1600, height: 1000 });
  try {
    await h.openFromExplorer(page, 'mnist-ship.qplan.json');
    const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Export quantized model' });
    await lens.waitFor({ timeout: TIMEOUT });
    await lens.click();
    const view = h.webview(page);
    // Export, verification and the evaluation with latency: the results view opens by itself.
    await view.locator('.export-comparison table.export tr.export-row').first().waitFor({ timeout: 180_000 });
    const agreement = await view.locator('.export-comparison').getAttribute('data-agreement');
    if (agreement !== 'identical' && agreement !== 'rounding')
      throw new Error(`the export at accuracy level 0 should compute what the simulation does; it says ${agreement}`);
    const costRows = await view.locator('table.results.cost tr.cost-row').count();
    if (costRows !== 2) throw new Error(`cost rows: fp32 and the export expected, ${costRows} shown`);
    const costHead = (await view.locator('table.results.cost tr').first().textContent()) ?? '';
    if (!costHead.includes('samples/s b1') || costHead.includes('throughput'))
      throw new Error(`the cost table's header does not say "samples/s" as the CLI does: ${costHead}`);
    // Nothing hovered: the cost charts' legends are keys of the variants (no "Value: --" placeholders).
    const costLegend = (await view.locator('.cost-chart .u-legend').allInnerTexts()).join(' ');
    if (!costLegend || /--|Value/.test(costLegend))
      throw new Error(`the cost chart's legend shows placeholders: ${costLegend}`);
    await view.locator('table.results.cost').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(h.artifacts, 'results-export-cost.png') });
    await clickSchemePoint(page, h, view);
    await h.closeEditors(page);
  } finally {
    await page.setViewportSize({ width: 1400, height: 900 });
  }
}

/** The results view's UI tests, run with the runner's helpers. */
export function resultsViewTests(h: UiHelpers): { name: string; run: (page: Page) => Promise<void> }[] {
  return [
    {
      name: 'the sweep of a 14-slice spec draws every slice in its own style; the legend hides, shows and filters lines',
      run: (page) => sweepShowsEverySlice(page, h),
    },
    {
      name: 'high contrast: violated, within-noise and pass cells differ by border and a marked word, with contrast',
      run: (page) => highContrastVerdicts(page, h),
    },
    {
      name: 'after an evaluation the "Measured · <scheme>" header is whole; no one-point cost chart',
      run: (page) => measuredHeaderAndCost(page, h),
    },
    {
      name: 'a plan file offers "Evaluate this plan" (code lens and title action)',
      run: (page) => planCodeLens(page, h),
    },
    {
      name: "a plan's Export lens: the verified export evaluated on its spec, its cost row and comparison in the results view",
      run: (page) => exportFromPlanLens(page, h),
    },
  ];
}
