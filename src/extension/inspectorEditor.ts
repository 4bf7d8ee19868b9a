/** The `quantlens.inspector` custom readonly editor for .onnx files. */
import * as vscode from 'vscode';
import type { FromWebview, ModelState, RequestMethod, Requests, ToWebview } from '../protocol';
import { ModelDocument, type ModelDocumentDeps } from './modelDocument';
import type { RenderReports } from './renderReports';
import { inspectorHtml, webviewRoots } from './webviewHtml';

/** View type registered in package.json. */
export const INSPECTOR_VIEW_TYPE = 'quantlens.inspector';

/** Provides the model inspector webview for .onnx files. */
export class InspectorEditorProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly deps: ModelDocumentDeps,
    private readonly reports: RenderReports,
  ) {}

  /** Registers the provider; returns its registration. */
  static register(context: vscode.ExtensionContext, deps: ModelDocumentDeps, reports: RenderReports): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(
      INSPECTOR_VIEW_TYPE,
      new InspectorEditorProvider(context.extensionUri, deps, reports),
      { supportsMultipleEditorsPerDocument: true },
    );
  }

  openCustomDocument(uri: vscode.Uri): ModelDocument {
    this.deps.log.info(`Opening ${uri.fsPath}`);
    return new ModelDocument(uri, this.deps);
  }

  resolveCustomEditor(document: ModelDocument, panel: vscode.WebviewPanel): void {
    const { webview } = panel;
    this.deps.log.info(`Inspector editor for ${document.fileName} created`);
    webview.options = { enableScripts: true, localResourceRoots: webviewRoots(this.extensionUri) };
    webview.html = inspectorHtml(webview, this.extensionUri, document.fileName);
    const post = (message: ToWebview): void => {
      void webview.postMessage(message);
    };
    const listeners = [
      document.onDidChangeState((state) => post({ type: 'model/state', state })),
      webview.onDidReceiveMessage((message: FromWebview) => this.onMessage(document, message, post)),
    ];
    panel.onDidDispose(() => listeners.forEach((l) => l.dispose()));
  }

  private onMessage(document: ModelDocument, message: FromWebview, post: (m: ToWebview) => void): void {
    const { log } = this.deps;
    switch (message.type) {
      case 'request':
        log.info(`[webview ${document.fileName}] request ${message.method}`);
        this.answer(document, message.method, message.params).then(
          (value) => post({ type: 'response', id: message.id, ok: true, value }),
          (error: unknown) => post({ type: 'response', id: message.id, ok: false, error: String(error) }),
        );
        break;
      case 'rendered':
        log.info(`Inspector of ${document.fileName} rendered: ${message.report.status}`);
        this.reports.record(document.uri.toString(), message.report);
        break;
      case 'log':
        log[message.level](`[webview ${document.fileName}] ${message.message}`);
        break;
    }
  }

  private async answer<M extends RequestMethod>(
    document: ModelDocument,
    method: M,
    _params: Requests[M]['params'],
  ): Promise<Requests[M]['result'] | ModelState | null> {
    switch (method) {
      case 'model/get':
        return document.state;
      case 'model/reload':
        return document.reload();
      case 'log/show':
        this.deps.log.channel.show(true);
        return null;
      default:
        throw new Error(`Unknown request ${String(method)}`);
    }
  }
}
