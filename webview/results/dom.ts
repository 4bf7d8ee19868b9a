/** DOM helpers of the results view: elements with a class and text, and the theme's chart colours. */

/** A new element with an optional class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Chart colours and font from the VS Code theme. */
export function theme(): { fg: string; bg: string; grid: string; font: string; palette: string[] } {
  const s = getComputedStyle(document.body);
  const v = (n: string, f: string): string => s.getPropertyValue(n).trim() || f;
  return {
    fg: v('--vscode-foreground', '#ccc'),
    bg: v('--vscode-editor-background', '#1e1e1e'),
    grid: v('--vscode-editorWidget-border', '#8884'),
    font: `11px ${v('--vscode-font-family', 'sans-serif')}`,
    palette: ['blue', 'red', 'green', 'yellow', 'orange', 'purple', 'foreground'].map((c) =>
      v(`--vscode-charts-${c}`, '#888'),
    ),
  };
}
