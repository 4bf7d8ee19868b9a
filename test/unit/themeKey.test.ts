/** The theme watcher's key: a switch is a change of VS Code's theme class or theme id, nothing else on the body. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { themeKey } from '../../webview/themeKey';

describe('theme watcher', () => {
  it('keys on the theme classes and id only', () => {
    const dark = themeKey(['vscode-dark', 'vscode-reduce-motion'], 'Default Dark Modern');
    assert.equal(dark, 'vscode-dark|Default Dark Modern');
    assert.equal(themeKey(['vscode-reduce-motion', 'vscode-dark', 'other'], 'Default Dark Modern'), dark);
    assert.notEqual(themeKey(['vscode-light'], 'Default Light Modern'), dark);
    assert.notEqual(themeKey(['vscode-dark'], 'Default Dark+'), dark, 'two dark themes differ by their id');
    const hcLight = themeKey(['vscode-high-contrast', 'vscode-high-contrast-light'], 'Default High Contrast Light');
    assert.equal(hcLight, 'vscode-high-contrast vscode-high-contrast-light|Default High Contrast Light');
    assert.notEqual(themeKey(['vscode-high-contrast'], 'Default High Contrast Light'), hcLight);
    assert.equal(themeKey([]), '|');
  });
});
