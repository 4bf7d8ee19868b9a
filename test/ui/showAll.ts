/**
 * UI test of the overview's "Show all" (issue 18): a model whose description is 20,000 lines long shows it cut
 * (with a note and a "Show all" button); the button opens the whole text in an editor, down to its last line.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { DT, model, node, value } from '../fixtures/onnxBuilder';

const TIMEOUT = 30_000;
const LINES = 20_000;
const LAST = `END OF THE DESCRIPTION, LINE ${LINES}`;

/** Writes the model with the long description into `folder`; returns its file name. */
export function writeLongDocModel(folder: string): string {
  const lines = Array.from({ length: LINES - 1 }, (_, i) => `line ${i + 1} of a long model description`);
  const docString = [...lines, LAST].join('\n');
  const bytes = model(
    {
      node: [node('Identity', ['x'], ['y'], 'id')],
      input: [value('x', DT.float32, [1])],
      output: [value('y', DT.float32, [1])],
    },
    { docString },
  );
  const name = 'long_description.onnx';
  writeFileSync(path.join(folder, name), bytes);
  return name;
}

/** Opens `file` from the explorer, clicks "Show all" under its description, checks the editor shows all of it. */
export async function checkShowAll(page: Page, file: string): Promise<void> {
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: file }).first();
  await row.waitFor({ timeout: TIMEOUT });
  await row.dblclick();
  const view = page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
  const note = view.locator('[data-truncated="docString"]');
  await note.waitFor({ timeout: TIMEOUT });
  const said = (await note.textContent()) ?? '';
  if (!/Showing the first [\d,]+ of [\d,]+/.test(said)) throw new Error(`the cut description says "${said.trim()}"`);
  if ((await view.getByText(LAST).count()) > 0) throw new Error('the cut description already shows its last line');
  await view.locator('[data-show-all="docString"]').click();
  const editor = page.locator('.part.editor .monaco-editor').last();
  await editor
    .locator('.view-line', { hasText: 'line 1 of a long model description' })
    .first()
    .waitFor({ timeout: TIMEOUT });
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+End');
  await editor.locator('.view-line', { hasText: LAST }).first().waitFor({ timeout: TIMEOUT });
  const position = await page
    .locator('.statusbar-item', { hasText: /Ln \d+/ })
    .first()
    .textContent();
  if (!position?.includes(`Ln ${LINES}`))
    throw new Error(`the editor's last line is "${position}", expected Ln ${LINES}`);
}
