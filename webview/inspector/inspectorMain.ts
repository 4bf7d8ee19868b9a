/**
 * Inspector webview entry: overview, layer table, layer detail and model heatmap. Asks the extension for
 * what it draws (pages, details, tiles) and keeps its view in getState/setState and in the extension (per
 * model). The state lives in one object (state.ts); the page and its controllers render it.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import type { ToWebview } from '../../src/protocol';
import type { InspectorTestToWebview } from '../../src/testHooks';
import { decodeNumbers } from '../../src/wire';
import { handleResponse, request, vscode } from '../rpc';
import { InspectorPage } from './inspectorPage';
import { createState, type Persisted } from './state';
import { runScrollProbe } from './testHooks';
import { debounce, reportError } from './ui';
import { onThemeChange } from '../themeWatch';

const saved = vscode.getState() as Partial<Persisted> | undefined;
const state = createState(saved);
const page = new InspectorPage(state, document.getElementById('app')!);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = decodeNumbers(event.data) as ToWebview | InspectorTestToWebview;
  if (__QUANTLENS_TEST_HOOKS__ && message.type === 'probe/scroll')
    return runScrollProbe(state, message.rows, () => page.showTab('layers'));
  const shipped = message as ToWebview;
  if (!handleResponse(shipped)) page.onMessage(shipped);
});

window.addEventListener(
  'scroll',
  debounce(() => {
    state.persisted.scrollY = window.scrollY;
    vscode.setState(state.persisted);
  }, 200),
);
window.addEventListener(
  'resize',
  debounce(() => page.resized(), 150),
);
// A live theme switch: the charts drawn again with the new colours (the resize path).
onThemeChange(() => page.resized());
window.addEventListener('error', (event) => reportError(event.message));
window.addEventListener('unhandledrejection', (event) => reportError(event.reason));

async function start(): Promise<void> {
  state.settings = await request('settings/get', {});
  if (saved === undefined) {
    // First time in this webview: take the view remembered for this model, if any.
    const view = await request('view/get', {});
    if (view) page.applySavedView(view);
  }
  page.showModel(await request('model/get', {}));
}

start().catch(reportError);
