/** The `quantlens.inspector` custom readonly editor for .onnx files. */
import * as vscode from 'vscode';
import type { FromWebview, InspectorSettings, ModelState, RequestMethod, Requests, ToWebview } from '../protocol';
import { RpcServer, type Handlers } from '../core/rpc/server';
import { boundOverview, overviewPartText, type OverviewPart } from '../core/view/overviewDisplay';
import { encodeNumbers } from '../wire';
import { ModelDocument, type ModelDocumentDeps } from './modelDocument';
import type { InspectorTestFromWebview, InspectorTestToWebview } from '../testHooks';
import type { RenderReports } from './renderReports';
import { inspectorHtml, webviewRoots } from './webviewHtml';

/** View type registered in package.json. */
export const INSPECTOR_VIEW_TYPE = 'quantlens.inspector';

const COLORMAPS: InspectorSettings['colormap'][] = ['viridis', 'cividis', 'magma', 'inferno'];

/** The quantlens.inspector.* settings, checked. */
export function inspectorSettings(): InspectorSettings {
  const config = vscode.workspace.getConfiguration('quantlens.inspector');
  const bins = config.get<number>('histogramBins') ?? 128;
  const colormap = config.get<string>('colormap') ?? 'viridis';
  return {
    histogramBins: Number.isInteger(bins) && bins >= 8 && bins <= 4096 ? bins : 128,
    colormap: (COLORMAPS as string[]).includes(colormap) ? (colormap as InspectorSettings['colormap']) : 'viridis',
  };
}

/** The state as the webview gets it: the overview bounded for display (the document keeps it whole). */
function displayState(state: ModelState): ModelState {
  return state.status === 'ready' ? { ...state, overview: boundOverview(state.overview) } : state;
}

/** Opens the full text of one part of the model's overview in a read-only editor ("show all"). */
async function showAll(document: ModelDocument, part: OverviewPart): Promise<null> {
  const state = document.state;
  if (state.status !== 'ready') throw new Error(`${document.fileName} is not loaded`);
  const text = await vscode.workspace.openTextDocument({ content: overviewPartText(state.overview, part) });
  await vscode.window.showTextDocument(text, { preview: true });
  await vscode.commands.executeCommand('workbench.action.files.setActiveEditorReadonlyInSession');
  return null;
}

type Handler<M extends RequestMethod> = (
  document: ModelDocument,
  params: Requests[M]['params'],
) => Requests[M]['result'] | Promise<Requests[M]['result']>;

/** Provides the model inspector webview for .onnx files. */
export class InspectorEditorProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  /** Open inspector panels per model URI string, for reveal requests. */
  private readonly panels = new Map<
    string,
    Set<{ panel: vscode.WebviewPanel; post: (m: ToWebview | InspectorTestToWebview) => void }>
  >();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly deps: ModelDocumentDeps,
    /** Test builds only: where the webviews' render reports go. */
    private readonly reports?: RenderReports,
  ) {}

  /** Registers the provider; returns it with its registration. */
  static register(
    context: vscode.ExtensionContext,
    deps: ModelDocumentDeps,
    reports?: RenderReports,
  ): { provider: InspectorEditorProvider; registration: vscode.Disposable } {
    const provider = new InspectorEditorProvider(context.extensionUri, deps, reports);
    const registration = vscode.Disposable.from(
      vscode.window.registerCustomEditorProvider(INSPECTOR_VIEW_TYPE, provider, {
        supportsMultipleEditorsPerDocument: true,
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('quantlens.inspector'))
          provider.broadcast({ type: 'settings/changed', settings: inspectorSettings() });
      }),
    );
    return { provider, registration };
  }

  private readonly documents = new Map<string, ModelDocument>();

  openCustomDocument(uri: vscode.Uri): ModelDocument {
    this.deps.log.info(`Opening ${uri.fsPath}`);
    const document = new ModelDocument(uri, this.deps, () => this.documents.delete(uri.toString()));
    this.documents.set(uri.toString(), document);
    return document;
  }

  /** The open document of a model, if its inspector is open. */
  document(uri: vscode.Uri): ModelDocument | undefined {
    return this.documents.get(uri.toString());
  }

  resolveCustomEditor(document: ModelDocument, panel: vscode.WebviewPanel): void {
    const { webview } = panel;
    this.deps.log.info(`Inspector editor for ${document.fileName} created`);
    webview.options = { enableScripts: true, localResourceRoots: webviewRoots(this.extensionUri) };
    webview.html = inspectorHtml(webview, this.extensionUri, document.fileName);
    const post = (message: ToWebview | InspectorTestToWebview): void => {
      void webview.postMessage(encodeNumbers(message));
    };
    const server = new RpcServer<Requests>(post, this.handlersFor(document), {
      onSettled: (method, ms, error) => {
        const where = `[webview ${document.fileName}] ${method}`;
        if (error) this.deps.log.warn(`${where} failed: ${error.message}`);
        else if (ms > 50 || method.startsWith('model/') || method.startsWith('analysis/'))
          this.deps.log.info(`${where} answered in ${ms.toFixed(0)} ms`);
      },
    });
    const key = document.uri.toString();
    const entry = { panel, post };
    const set = this.panels.get(key) ?? new Set();
    set.add(entry);
    this.panels.set(key, set);
    const listeners = [
      document.onDidChangeState((state) => post({ type: 'model/state', state: displayState(state) })),
      document.session.onDidChangeStatus((status) => post({ type: 'analysis/status', status })),
      webview.onDidReceiveMessage((message: FromWebview | InspectorTestFromWebview) => {
        if (__QUANTLENS_TEST_HOOKS__ && message.type === 'rendered') this.reports?.record(key, message.report);
        else if (!server.receive(message as FromWebview)) this.onMessage(document, message as FromWebview);
      }),
    ];
    panel.onDidDispose(() => {
      listeners.forEach((l) => l.dispose());
      set.delete(entry);
    });
  }

  /** Posts a message to every open inspector. */
  broadcast(message: ToWebview): void {
    for (const set of this.panels.values()) for (const { post } of set) post(message);
  }

  /** Posts a message to the inspectors of one model; false when none is open. */
  postTo(uri: vscode.Uri, message: ToWebview | InspectorTestToWebview): boolean {
    const set = this.panels.get(uri.toString());
    for (const { post } of set ?? []) post(message);
    return (set?.size ?? 0) > 0;
  }

  private onMessage(document: ModelDocument, message: FromWebview): void {
    const { log } = this.deps;
    switch (message.type) {
      case 'log':
        log[message.level](`[webview ${document.fileName}] ${message.message}`);
        break;
    }
  }

  /** The request handlers, for the webview of one document. */
  private handlersFor(document: ModelDocument): Handlers<Requests> {
    const bound: Partial<Record<RequestMethod, (params: Requests[RequestMethod]['params']) => unknown>> = {};
    for (const method of Object.keys(this.handlers) as RequestMethod[]) {
      const handler = this.handlers[method] as Handler<RequestMethod>;
      bound[method] = (params: Requests[RequestMethod]['params']) => handler(document, params);
    }
    return bound as unknown as Handlers<Requests>;
  }

  private readonly handlers: { [M in RequestMethod]: Handler<M> } = {
    'model/get': (d) => displayState(d.state),
    'model/reload': async (d) => displayState(await d.reload()),
    'overview/showAll': (d, p) => showAll(d, p.part),
    'log/show': () => {
      this.deps.log.channel.show(true);
      return null;
    },
    'analysis/status': (d) => d.session.getStatus(),
    'analysis/setSchemes': (d, p) => d.session.setSchemes(p.schemes),
    'analysis/cancel': (d) => d.session.cancel(),
    'analysis/resume': (d) => d.session.resume(),
    'table/page': (d, p) => d.session.page(p.query, p.offset, p.limit, p.find),
    'table/export': (d, p) => d.session.exportTable(p.query, p.format),
    'layer/detail': (d, p) => d.session.detail(p.index, p.scheme, p.bins),
    'heatmap/tile': (d, p) => d.session.tile(p),
    'model/heatmap': (d) => d.session.modelHeatmap(),
    'chart/export': (d, p) => d.session.exportChart(p.name, p.dataUrl),
    'view/save': async (d, p) => {
      await d.session.saveView(p);
      return null;
    },
    'view/get': (d) => d.session.savedView(),
    'settings/get': () => inspectorSettings(),
  };
}
