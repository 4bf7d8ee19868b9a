/** What identifies the VS Code theme a webview shows (pure: no DOM; the theme watcher compares it). */

/** The body's theme classes VS Code sets. */
export const THEME_CLASSES = ['vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light'];

/** What identifies the theme shown: its class(es) and VS Code's theme id, when set. */
export function themeKey(classes: Iterable<string>, themeId?: string): string {
  const kinds = [...classes].filter((c) => THEME_CLASSES.includes(c)).sort();
  return `${kinds.join(' ')}|${themeId ?? ''}`;
}
