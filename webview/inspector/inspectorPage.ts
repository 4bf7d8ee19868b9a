/** The inspector page: renders the state through its controllers (analysis bar, tabs, table, detail, model heatmap) and routes messages to them. */
import { html, render, type TemplateResult } from 'lit';
import type { InspectorSettings, ModelState, ToWebview, ViewState } from '../../src/protocol';
import { request } from '../rpc';
import { AnalysisController } from './analysisController';
import { DetailController } from './detailController';
import { ModelHeatmapController } from './modelHeatmapController';
import { errorView, loadingView, overviewView, type ViewActions } from './overviewView';
import { sizesView } from './sizesView';
import { DEFAULT_QUERY, type InspectorState, type Tab } from './state';
import { TableController } from './tableController';
import { reportRendered } from './testHooks';
import { createUi, reportError, type Ui } from './ui';

const TABS: [Tab, string, string][] = [
  ['overview', 'Overview', 'info'],
  ['layers', 'Layers', 'list-flat'],
  ['heatmap', 'Model heatmap', 'symbol-color'],
];

/** A tab's panel (shown when its tab is the current one). */
function panel(id: Tab, current: Tab, body: TemplateResult): TemplateResult {
  return html`<div
    class="tab-body"
    role="tabpanel"
    id=${`panel-${id}`}
    aria-labelledby=${`tab-${id}`}
    ?hidden=${current !== id}
  >
    ${body}
  </div>`;
}

/** One inspector webview: the state, its controllers, and the page-level rendering. */
export class InspectorPage {
  private readonly ui: Ui;
  private readonly table: TableController;
  private readonly detail: DetailController;
  private readonly heatmap: ModelHeatmapController;
  private readonly analysis: AnalysisController;
  private readonly viewActions: ViewActions = {
    reload: () => void request('model/reload', {}).catch(reportError),
    showLog: () => void request('log/show', {}).catch(reportError),
    showAll: (part) => void request('overview/showAll', { part }).catch(reportError),
    toggled: (id, open) => {
      this.s.persisted.open[id] = open;
      this.ui.save();
    },
  };

  constructor(
    private readonly s: InspectorState,
    private readonly app: HTMLElement,
  ) {
    this.ui = createUi(s, () => this.draw());
    this.detail = new DetailController(s, this.ui);
    this.table = new TableController(s, this.ui, () => this.detail.load());
    this.heatmap = new ModelHeatmapController(s, this.ui, (w, scheme) => this.revealWeight(w, scheme));
    this.analysis = new AnalysisController(s, this.ui, this.table, this.detail, this.heatmap);
  }

  /** Takes the view remembered for this model by the extension (first time in this webview). */
  applySavedView(view: ViewState): void {
    const { persisted } = this.s;
    persisted.tab = view.tab;
    if (view.query) persisted.query = { ...DEFAULT_QUERY, ...view.query };
    persisted.weight = view.weight;
    persisted.scheme = view.scheme;
    this.table.reset();
  }

  /** Shows a model state; a model that became ready starts over (table, detail, analysis status). */
  showModel(state: ModelState): void {
    const { s } = this;
    const wasReady = s.model?.status === 'ready';
    s.model = state;
    if (state.status === 'ready' && !wasReady) {
      this.table.reset();
      s.table.selectedIndex = undefined;
      s.detail.shown = undefined;
      s.modelHeatmap = undefined;
      this.analysis.load();
      if (s.persisted.tab === 'heatmap') void this.heatmap.load();
    }
    this.draw();
    if (state.status !== 'loading') {
      window.scrollTo(0, s.persisted.scrollY);
      if (s.table.viewport && s.persisted.tableScroll) s.table.viewport.scrollTop = s.persisted.tableScroll;
    }
  }

  /** Handles a message of the extension (replies aside). */
  onMessage(message: ToWebview): void {
    switch (message.type) {
      case 'model/state':
        this.showModel(message.state);
        break;
      case 'analysis/status':
        this.analysis.setStatus(message.status);
        break;
      case 'settings/changed':
        this.setSettings(message.settings);
        break;
      case 'ui/reveal':
        this.revealWeight(message.weight, message.scheme, message.tab);
        break;
    }
  }

  /** The settings changed (or arrived): charts are drawn again with them. */
  setSettings(settings: InspectorSettings): void {
    this.s.settings = settings;
    this.s.charts.shownDetail = undefined;
    this.detail.load();
    this.ui.update();
  }

  /** The window was resized: charts are drawn again at the new size. */
  resized(): void {
    this.s.charts.shownDetail = undefined;
    this.s.charts.heatmap?.refresh();
    this.s.charts.model?.refresh();
    this.ui.update();
  }

  /** Shows a tab. */
  showTab(tab: Tab): void {
    this.s.persisted.tab = tab;
    this.ui.save();
    if (tab === 'heatmap') void this.heatmap.load();
    this.ui.update();
  }

  /** Shows a tab with a weight selected (found anywhere in the table) under a scheme, as commands and heatmap clicks ask. */
  private revealWeight(weight: string | undefined, scheme: string | undefined, tab: Tab = 'layers'): void {
    if (scheme) this.s.persisted.scheme = scheme;
    if (weight && weight !== this.s.detail.shown?.row.name) this.table.reveal(weight);
    else if (scheme && this.s.detail.shown) this.detail.load();
    this.showTab(tab);
  }

  private draw(): void {
    const { model } = this.s;
    if (!model) return;
    if (model.status === 'loading') render(loadingView(model.fileName), this.app);
    else if (model.status === 'error') render(errorView(model, this.viewActions), this.app);
    else {
      render(this.readyView(model), this.app);
      this.table.drawRows();
      this.detail.mount();
      this.heatmap.mount();
    }
    if (__QUANTLENS_TEST_HOOKS__) reportRendered(this.s);
  }

  private readyView(model: Extract<ModelState, { status: 'ready' }>): TemplateResult {
    const tab = this.s.persisted.tab;
    const overview = overviewView(
      model.overview,
      this.s.persisted.open,
      this.viewActions,
      sizesView(model.overview, this.s.status),
    );
    return html`
      ${this.header(model)} ${this.analysis.view()} ${this.tabs(tab)} ${panel('overview', tab, overview)}
      ${panel('layers', tab, html`${this.table.view()} ${this.detail.view()}`)}
      ${panel('heatmap', tab, this.heatmap.view())}
    `;
  }

  private header(model: Extract<ModelState, { status: 'ready' }>): TemplateResult {
    return html`<header class="title">
      <span class="codicon codicon-graph"></span>
      <h1 data-field="fileName">${model.fileName}</h1>
      <span class="muted">read in ${model.loadMs.toFixed(0)} ms</span>
      <vscode-button secondary icon="refresh" @click=${this.viewActions.reload} title="Re-read the model from disk"
        >Reload</vscode-button
      >
    </header>`;
  }

  /** The tabs: an ARIA tablist (arrow keys, Home and End move between tabs and show them). */
  private tabs(current: Tab): TemplateResult {
    const onKey = (e: KeyboardEvent): void => {
      const i = TABS.findIndex(([id]) => id === current);
      const moves: Record<string, number> = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 };
      if (!(e.key in moves)) return;
      e.preventDefault();
      const next = TABS[(moves[e.key] + TABS.length) % TABS.length][0];
      this.showTab(next);
      document.querySelector<HTMLElement>(`#app [role="tab"][data-tab="${next}"]`)?.focus();
    };
    return html`<nav class="tabs" role="tablist" aria-label="Inspector views" @keydown=${onKey}>
      ${TABS.map(
        ([id, label, icon]) =>
          html`<button
            role="tab"
            id=${`tab-${id}`}
            class="tab ${current === id ? 'active' : ''}"
            aria-selected=${current === id}
            aria-controls=${`panel-${id}`}
            tabindex=${current === id ? '0' : '-1'}
            data-tab=${id}
            @click=${() => this.showTab(id)}
          >
            <span class="codicon codicon-${icon}"></span> ${label}
          </button>`,
      )}
    </nav>`;
  }
}
