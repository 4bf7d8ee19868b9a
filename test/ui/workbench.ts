/** Workbench steps the UI test modules share (scripts/uiTests.ts, test/ui/tableLayout.ts). */
import type { FrameLocator, Page } from 'playwright-core';

const TIMEOUT = 30_000;

/** The content frame of the `nth` visible webview (the last one by default). */
export function webview(page: Page, nth = -1): FrameLocator {
  const frames = page.frameLocator('iframe.webview.ready');
  return (nth < 0 ? frames.last() : frames.nth(nth)).frameLocator('#active-frame');
}

/** Double-clicks `file` in the explorer. */
export async function doubleClickInExplorer(page: Page, file: string): Promise<void> {
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: file }).first();
  await row.waitFor({ timeout: TIMEOUT });
  await row.dblclick();
}

/** Waits until the workbench shows and QuantLens is active (before that a double-click opens the text editor). */
export async function waitForActivation(page: Page): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  // Wait for its command in the palette (an open palette does not pick up commands registered later, so reopen it
  // until it shows).
  const deadline = Date.now() + 60_000;
  const showLog = page.locator('.quick-input-list .monaco-list-row', { hasText: 'QuantLens: Show Log' }).first();
  for (;;) {
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').fill('>QuantLens: Show Log');
    const found = await showLog.waitFor({ timeout: 2_000 }).then(
      () => true,
      () => false,
    );
    if (found) {
      // Click the row itself (Enter runs whichever row ranks first), then wait for any QuantLens log line: the log
      // shows only once the extension is active, and its first line may be scrolled out of the panel.
      await showLog.click();
      await page
        .locator('.part.panel .monaco-editor .view-line', { hasText: /\[(info|warning|error|debug|trace)\]/ })
        .first()
        .waitFor({ timeout: TIMEOUT });
      await page.keyboard.press('Control+J');
      return;
    }
    await page.keyboard.press('Escape');
    if (Date.now() > deadline) throw new Error('the QuantLens commands never appeared in the command palette');
  }
}

/** Switches the colour theme with the theme picker (Ctrl+K Ctrl+T) and waits until the workbench shows it. */
export async function setColorTheme(page: Page, label: string, workbenchClass: string): Promise<void> {
  await page.locator('.part.sidebar .title-label').first().click();
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+T');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ timeout: TIMEOUT });
  await page.keyboard.type(label);
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
  await page.locator(`.monaco-workbench.${workbenchClass}`).waitFor({ timeout: TIMEOUT });
}

/** WCAG contrast ratio of two CSS colours "rgb(r, g, b)" / "rgba(...)" (alpha ignored: opaque colours expected). */
export function contrastRatio(a: string, b: string): number {
  const lum = (c: string): number => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? ['0', '0', '0']).slice(0, 3).map((x) => {
      const v = Number(x) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
