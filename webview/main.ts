/** Inspector webview entry: asks the extension for the model state, renders it, reports what it rendered. */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import { render } from 'lit';
import type { ModelState, RenderReport, ToWebview } from '../src/protocol';
import { handleResponse, request, vscode } from './rpc';
import { errorView, loadingView, overviewView, type OpenSections, type ViewActions } from './views';

interface PersistedState {
  open: OpenSections;
  scrollY: number;
}

const app = document.getElementById('app')!;
const persisted: PersistedState = { open: {}, scrollY: 0, ...((vscode.getState() as Partial<PersistedState> | undefined) ?? {}) };
let restoredScroll = false;

const save = (): void => vscode.setState(persisted);

const actions: ViewActions = {
  reload: () => void request('model/reload', {}).catch(reportError),
  showLog: () => void request('log/show', {}).catch(reportError),
  toggled: (id, open) => {
    persisted.open[id] = open;
    save();
  },
};

function reportError(error: unknown): void {
  vscode.postMessage({ type: 'log', level: 'error', message: String(error) });
}

/** Reads back from the DOM what is shown, so the extension (and tests) see the rendered values. */
function readBack(status: ModelState['status']): RenderReport {
  const fields: Record<string, string> = {};
  for (const el of app.querySelectorAll<HTMLElement>('[data-field]')) {
    fields[el.dataset.field!] = el.textContent?.trim() ?? '';
  }
  const tables: Record<string, string[][]> = {};
  for (const el of app.querySelectorAll<HTMLElement>('[data-table-empty]')) {
    tables[el.dataset.tableEmpty!] = [];
  }
  for (const el of app.querySelectorAll<HTMLTableElement>('table[data-table]')) {
    tables[el.dataset.table!] = [...el.tBodies[0].rows].map((row) => [...row.cells].map((c) => c.textContent?.trim() ?? ''));
  }
  return { status, fields, tables };
}

function show(state: ModelState): void {
  switch (state.status) {
    case 'loading':
      render(loadingView(state.fileName), app);
      break;
    case 'ready':
      render(overviewView(state.fileName, state.overview, state.loadMs, persisted.open, actions), app);
      break;
    case 'error':
      render(errorView(state, actions), app);
      break;
  }
  if (state.status !== 'loading' && !restoredScroll) {
    restoredScroll = true;
    window.scrollTo(0, persisted.scrollY);
  }
  // lit renders synchronously: read the DOM back now, so the report cannot pair this state with a later one.
  vscode.postMessage({ type: 'rendered', report: readBack(state.status) });
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  if (handleResponse(message)) {
    return;
  }
  if (message.type === 'model/state') {
    show(message.state);
  }
});

let scrollTimer: number | undefined;
window.addEventListener('scroll', () => {
  window.clearTimeout(scrollTimer);
  scrollTimer = window.setTimeout(() => {
    persisted.scrollY = window.scrollY;
    save();
  }, 200);
});

window.addEventListener('error', (event) => reportError(event.message));
window.addEventListener('unhandledrejection', (event) => reportError(event.reason));

request('model/get', {}).then(show, reportError);
