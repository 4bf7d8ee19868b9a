/**
 * One watcher of VS Code's live theme switches for every webview: VS Code swaps the body's theme class
 * (vscode-light, vscode-dark, vscode-high-contrast, vscode-high-contrast-light) and its theme id, then sets the new
 * colours, on a switch; charts drawn on a canvas read the colours once, so each view redraws them (`redraw`, its
 * existing resize or re-render path) on the next frame, with the new colours.
 */

import { themeKey } from './themeKey';

/** Theme switches seen by this view (test builds read it). */
let switches = 0;

/** Calls `redraw` after each live theme switch (not for the first theme); returns the stop function. */
export function onThemeChange(redraw: () => void): () => void {
  const body = document.body;
  const current = (): string => themeKey(body.classList, body.dataset.vscodeThemeId);
  let last = current();
  const observer = new MutationObserver(() => {
    const key = current();
    if (key === last) return;
    last = key;
    switches++;
    body.dataset.themeSwitches = String(switches);
    // The colours are set with the class; a frame later every computed style has them.
    requestAnimationFrame(redraw);
  });
  observer.observe(body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id'] });
  return () => observer.disconnect();
}
