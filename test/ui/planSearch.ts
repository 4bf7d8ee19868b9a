/**
 * UI tests of the plan search view (issue 21) on the real workbench at 1600 x 1000, dark and light: Find a Plan on
 * the demo spec (palette) shows the Pareto chart, the chosen plan's per-slice table next to its export's, the
 * heatmap and the steps, with no horizontal overflow and the chart beside (not over) the table; a real click on a
 * point opens its menu (Write this plan, Export this plan); the spec's code lens shows the last search again.
 */
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import type { UiHelpers } from './resultsView';
import { setColorTheme, waitForActivation } from './workbench';

const TIMEOUT = 30_000;

/** Opens a workspace file by name with Quick Open (the explorer's list may have scrolled it out of view). */
async function quickOpen(page: Page, name: string): Promise<void> {
  await page.locator('.part.sidebar .title-label').first().click();
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill(name);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ timeout: TIMEOUT });
  await row.click();
}

/** Layout of the view: nothing wider than the view, the chart and the slice table side by side without overlap. */
async function expectLayout(view: Frame): Promise<void> {
  const layout = await view.locator('body').evaluate((body) => {
    const doc = body.ownerDocument;
    // No named inner functions here: the page has no bundler helpers.
    const [chart, table] = ['.front-chart .uplot', 'table.plan-slices'].map((sel) => {
      const r = doc.querySelector(sel)?.getBoundingClientRect();
      return r ? { left: r.left, right: r.right, top: r.top, bottom: r.bottom } : undefined;
    });
    return { scroll: doc.documentElement.scrollWidth, width: doc.documentElement.clientWidth, chart, table };
  });
  if (layout.scroll > layout.width + 1)
    throw new Error(`the view is ${layout.scroll} px wide in ${layout.width} px: it scrolls sideways`);
  const { chart, table } = layout;
  if (!chart) throw new Error('the chart is missing');
  const apart = !table || chart.right <= table.left || table.top >= chart.bottom;
  if (!apart) throw new Error(`the chart (${JSON.stringify(chart)}) overlaps the table (${JSON.stringify(table)})`);
}

/** High contrast: heatmap cells carry no tint, over-budget ones a solid border and a "✗" after their figure. */
async function highContrastHeatmap(view: Frame): Promise<void> {
  const cells = await view.locator('table.heatmap-table td.heat').evaluateAll((list) =>
    list.map((td) => {
      const st = td.ownerDocument.defaultView!.getComputedStyle(td);
      return {
        over: td.classList.contains('over'),
        text: td.textContent ?? '',
        bg: st.backgroundColor,
        outline: st.outlineStyle,
      };
    }),
  );
  if (cells.length === 0) throw new Error('the heatmap has no cells');
  for (const c of cells) {
    if (!/rgba\(0, 0, 0, 0\)|transparent/.test(c.bg)) throw new Error(`a heatmap cell (${c.text}) is tinted: ${c.bg}`);
    if (c.over && (c.outline !== 'solid' || !c.text.endsWith('✗')))
      throw new Error(`an over-budget cell (${c.text}) is not marked: outline ${c.outline}`);
  }
  if (!cells.some((c) => c.over)) throw new Error('the demo has no over-budget cell in the heatmap');
}

/**
 * The chart's theme colours: the foreground it was drawn with, the body's foreground now (as rgb), and how many
 * opaque canvas pixels lie near each of `near` (rgb strings; what the axes' labels and ticks are painted in).
 */
async function chartColours(
  view: Frame,
  near: string[] = [],
): Promise<{ drawnFg: string; bodyFg: string; rgb: string; counts: number[] }> {
  return view.locator('.front-chart').evaluate((box, colours) => {
    const doc = box.ownerDocument;
    const win = doc.defaultView!;
    // No named inner functions here: the page has no bundler helpers.
    const probe = doc.createElement('span');
    doc.body.append(probe);
    const bodyFg = win.getComputedStyle(doc.body).getPropertyValue('--vscode-foreground').trim();
    probe.style.color = bodyFg;
    const rgb = win.getComputedStyle(probe).color;
    probe.remove();
    const canvas = box.querySelector('canvas')!;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const counts = colours.map((c) => {
      const [r, g, b] = (c.match(/\d+/g) ?? []).map(Number);
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (data[i + 3] > 200 && Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 40)
          n++;
      return n;
    });
    return { drawnFg: (box as unknown as { dataset: Record<string, string> }).dataset.fg ?? '', bodyFg, rgb, counts };
  }, near);
}

/**
 * A live theme switch with the view open: the chart is drawn again in the new theme's foreground (its axes'
 * labels and ticks painted in it, none left in the old one).
 */
async function liveThemeSwitch(page: Page, view: Frame, label: string, workbenchClass: string): Promise<void> {
  const before = await chartColours(view);
  const [oldCount] = (await chartColours(view, [before.rgb])).counts;
  if (before.drawnFg !== before.bodyFg)
    throw new Error(`the chart was drawn in ${before.drawnFg}, not ${before.bodyFg}`);
  if (oldCount === 0) throw new Error(`no pixel of the chart is in the theme's foreground ${before.rgb}`);
  await setColorTheme(page, label, workbenchClass);
  const deadline = Date.now() + TIMEOUT;
  let after = await chartColours(view);
  while (after.drawnFg !== after.bodyFg || after.bodyFg === before.bodyFg) {
    if (Date.now() > deadline)
      throw new Error(
        `after switching to ${label} the chart is still drawn in ${after.drawnFg} (theme: ${after.bodyFg})`,
      );
    await page.waitForTimeout(200);
    after = await chartColours(view);
  }
  const [newCount, stale] = (await chartColours(view, [after.rgb, before.rgb])).counts;
  if (newCount === 0) throw new Error(`no pixel of the redrawn chart is in ${label}'s foreground ${after.rgb}`);
  if (stale > oldCount / 10)
    throw new Error(`${stale} pixels still in the old foreground ${before.rgb} (${oldCount} before the switch)`);
  console.log(
    `    live switch to ${label}: chart fg ${before.rgb} -> ${after.rgb} (${oldCount} -> ${newCount} pixels)`,
  );
}

/** Clicks the first front point with the mouse; its menu must offer to write and export the plan. */
async function clickPoint(page: Page, view: Frame): Promise<void> {
  const chart = view.locator('.front-chart');
  const points = JSON.parse((await chart.getAttribute('data-points')) ?? '[]') as { x: number; y: number }[];
  if (points.length === 0) throw new Error('the chart reports no points');
  const over = await chart.locator('.u-over').boundingBox();
  if (!over) throw new Error('the chart has no plot area');
  await page.mouse.click(over.x + points[0].x, over.y + points[0].y);
  const menu = view.locator('.point-menu');
  await menu.waitFor({ timeout: TIMEOUT });
  for (const label of ['Write this plan', 'Export this plan'])
    if ((await menu.locator('button', { hasText: label }).count()) < 1) throw new Error(`the menu lacks "${label}"`);
}

/** The chart's marks ("chosen", "≈"): each clear of every marker (its ring included) and of the other marks. */
async function expectMarksClear(view: Frame): Promise<void> {
  const chart = view.locator('.front-chart');
  const points = JSON.parse((await chart.getAttribute('data-points')) ?? '[]') as { x: number; y: number; r: number }[];
  const labels = JSON.parse((await chart.getAttribute('data-labels')) ?? '[]') as {
    text: string;
    x: number;
    y: number;
    w: number;
    h: number;
  }[];
  if (!labels.some((l) => l.text === 'chosen'))
    throw new Error(`the chart marks no chosen plan: ${JSON.stringify(labels)}`);
  const overlaps = (a: { x: number; y: number; w: number; h: number }, b: typeof a): boolean =>
    a.x < b.x + b.w - 0.5 && b.x < a.x + a.w - 0.5 && a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5;
  for (const l of labels) {
    const hit = points.find((p) => overlaps(l, { x: p.x - p.r, y: p.y - p.r, w: 2 * p.r, h: 2 * p.r }));
    if (hit) throw new Error(`the mark "${l.text}" ${JSON.stringify(l)} covers the marker at ${JSON.stringify(hit)}`);
    const other = labels.find((m) => m !== l && overlaps(l, m));
    if (other) throw new Error(`the marks "${l.text}" and "${other.text}" overlap`);
  }
  console.log(`    ${labels.length} marks clear of ${points.length} markers: ${JSON.stringify(labels)}`);
}

async function shoot(page: Page, view: Frame, h: UiHelpers, theme: string): Promise<void> {
  await expectLayout(view);
  await expectMarksClear(view);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(h.artifacts, `plan-search-${theme}.png`) });
  await clickPoint(page, view);
  await page.screenshot({ path: path.join(h.artifacts, `plan-search-${theme}-menu.png`) });
  await view.locator('.point-menu button.close').click();
  await view.locator('table.heatmap-table').scrollIntoViewIfNeeded();
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(h.artifacts, `plan-search-${theme}-heatmap.png`) });
}

/** The plan search view's frame (other webviews, such as the results view, may be open too), once `selector` shows. */
async function searchFrame(page: Page, selector: string, timeoutMs = TIMEOUT): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      const found = await frame
        .locator(selector)
        .first()
        .isVisible()
        .catch(() => false);
      if (
        found &&
        (await frame
          .locator('.front-chart')
          .count()
          .catch(() => 0)) > 0
      )
        return frame;
    }
    if (Date.now() > deadline) throw new Error(`the plan search view never showed ${selector}`);
    await page.waitForTimeout(500);
  }
}

/** The results view of a spec with `search` has Find a Plan and Show the last plan search; the latter shows it. */
async function resultsButtons(page: Page): Promise<void> {
  await page.locator('.tab', { hasText: 'Evaluation: mnist_mlp.onnx' }).first().click();
  let results: Frame | undefined;
  for (let tries = 0; !results && tries < 60; tries++) {
    for (const frame of page.frames())
      if (
        await frame
          .locator('button.showPlanSearch')
          .isVisible()
          .catch(() => false)
      )
        results = frame;
    if (!results) await page.waitForTimeout(500);
  }
  if (!results) throw new Error('the results view has no "Show the last plan search" button');
  if ((await results.locator('button.findPlan').count()) !== 1) throw new Error('the results view has no Find a Plan');
  await results.locator('button.showPlanSearch').click();
  await page.locator('.tab.active', { hasText: 'Plan search: mnist.quantlens.json' }).waitFor({ timeout: TIMEOUT });
}

async function planSearchView(page: Page, h: UiHelpers): Promise<void> {
  await page.setViewportSize({ width: 1600, height: 1000 });
  try {
    await waitForActivation(page);
    await h.closeEditors(page);
    await setColorTheme(page, 'Dark Modern', 'vs-dark');
    await quickOpen(page, 'mnist.quantlens.json');
    await page
      .locator('.monaco-editor .view-line', { hasText: 'mnist_mlp.onnx' })
      .first()
      .waitFor({ timeout: TIMEOUT });
    await h.runCommand(page, 'QuantLens: Find a Plan');
    // The export is measured on the demo spec (its sweep and sensitivity included): give it time.
    let view = await searchFrame(page, '.export-line', 300_000);
    await view.locator('table.plan-slices th', { hasText: 'exported' }).waitFor({ timeout: TIMEOUT });
    await shoot(page, view, h, 'dark');
    await resultsButtons(page);
    await h.closeEditors(page);

    await setColorTheme(page, 'Light Modern', 'vs');
    await quickOpen(page, 'mnist.quantlens.json');
    const lens = page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Show the last plan search' });
    await lens.first().waitFor({ timeout: TIMEOUT });
    await lens.first().click();
    view = await searchFrame(page, '.front-chart canvas');
    await shoot(page, view, h, 'light');
    await view.locator('.point-menu').waitFor({ state: 'detached', timeout: TIMEOUT });
    await liveThemeSwitch(page, view, 'Dark High Contrast', 'hc-black');
    await page.screenshot({ path: path.join(h.artifacts, 'plan-search-live-switch-hc.png') });
    await h.closeEditors(page);

    await setColorTheme(page, 'Dark High Contrast', 'hc-black');
    await quickOpen(page, 'mnist.quantlens.json');
    await lens.first().waitFor({ timeout: TIMEOUT });
    await lens.first().click();
    view = await searchFrame(page, 'body.vscode-high-contrast .front-chart canvas');
    await highContrastHeatmap(view);
    await shoot(page, view, h, 'high-contrast');
    await h.closeEditors(page);
  } finally {
    await setColorTheme(page, 'Dark Modern', 'vs-dark').catch(() => undefined);
    await page.setViewportSize({ width: 1400, height: 900 });
  }
}

/**
 * A cancelled search: the primary button offers the best plan so far with the samples it was measured on (not
 * "Export and verify the chosen plan"), and without full-data slices its section says why in one line.
 */
async function expectCancelledTexts(view: Frame): Promise<void> {
  const label = (await view.locator('button.export-chosen').textContent()) ?? '';
  if (/chosen plan/.test(label)) throw new Error(`the cancelled search's button reads "${label}"`);
  if ((await view.locator('p.chosen-line').count()) === 0) return;
  const partial = /^Export the best plan so far \(measured on (\d+) of (\d+) samples\)$/.exec(label);
  if ((await view.locator('table.plan-slices').count()) > 0) {
    if (partial) throw new Error(`a plan with full-data slices reads "${label}"`);
    return;
  }
  if (!partial || Number(partial[1]) >= Number(partial[2]))
    throw new Error(`the best plan so far has no slices but the button reads "${label}"`);
  const note = (await view.locator('section.chosen p.no-slices').textContent()) ?? '';
  const expected = `Measured on ${partial[1]} samples only: the search was cancelled before it was read on all of them.`;
  if (note !== expected) throw new Error(`the best plan's section says "${note}", not "${expected}"`);
  console.log(`    cancelled: "${label}"; "${note}"`);
}

/**
 * Find a Plan on the language-model demo, cancelled from the progress notification once it has measured plans: the
 * view shows the front found so far, marked as cancelled.
 */
async function cancelledSearch(page: Page, h: UiHelpers): Promise<void> {
  await page.setViewportSize({ width: 1600, height: 1000 });
  try {
    await waitForActivation(page);
    await h.closeEditors(page);
    await quickOpen(page, 'char_gpt.quantlens.json');
    await page.locator('.monaco-editor .view-line', { hasText: 'char_gpt.onnx' }).first().waitFor({ timeout: TIMEOUT });
    await h.runCommand(page, 'QuantLens: Find a Plan');
    const toast = page
      .locator('.notifications-toasts .notification-toast', { hasText: 'finding a plan for char_gpt' })
      .filter({ hasText: /(?:^|\D)([89]|\d\d) plans measured/ });
    await toast.waitFor({ timeout: 240_000 });
    await toast.locator('.monaco-button', { hasText: 'Cancel' }).click();
    const view = await searchFrame(page, 'p.cancelled', 60_000);
    const points = JSON.parse((await view.locator('.front-chart').getAttribute('data-points')) ?? '[]') as unknown[];
    if (points.length < 8)
      throw new Error(`the cancelled search shows ${points.length} plans, not the 8 or more measured`);
    await expectCancelledTexts(view);
    await expectLayout(view);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(h.artifacts, 'plan-search-cancelled-lm.png') });
    await h.closeEditors(page);
  } finally {
    await page.setViewportSize({ width: 1400, height: 900 });
  }
}

/** The plan search view's UI tests. */
export function planSearchTests(h: UiHelpers): { name: string; run: (page: Page) => Promise<void> }[] {
  return [
    {
      name: 'Find a Plan on the demo spec shows the front, the per-slice table and its export; a point click offers its plan',
      run: (page) => planSearchView(page, h),
    },
    {
      name: 'Find a Plan on the language-model demo, cancelled, shows the front found so far marked as cancelled',
      run: (page) => cancelledSearch(page, h),
    },
  ];
}
