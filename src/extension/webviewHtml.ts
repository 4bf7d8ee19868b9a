/** The inspector webview's HTML: strict CSP, scripts by nonce, resources only from dist/webview and media. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** Folders the webview may load from. */
export function webviewRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

/** Builds the HTML page hosting the inspector UI. */
export function inspectorHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  title: string,
  script = 'inspector.js',
): string {
  const nonce = randomBytes(16).toString('base64');
  const asset = (...parts: string[]): vscode.Uri => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...parts));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const escapedTitle = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${asset('dist', 'webview', 'codicon.css').toString()}" id="vscode-codicon-stylesheet" nonce="${nonce}">
  <link rel="stylesheet" href="${asset('dist', 'webview', 'uPlot.min.css').toString()}" nonce="${nonce}">
  <link rel="stylesheet" href="${asset('media', 'inspector.css').toString()}" nonce="${nonce}">
  <title>${escapedTitle}</title>
</head>
<body>
  <main id="app" aria-live="polite"></main>
  <script nonce="${nonce}" src="${asset('dist', 'webview', script).toString()}"></script>
</body>
</html>`;
}
