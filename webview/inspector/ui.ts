/** What every inspector controller needs from the page: schedule a render, persist the view, report errors, export a chart. */
import type { ViewState } from '../../src/protocol';
import { request, vscode } from '../rpc';
import type { InspectorState } from './state';

/** Services the controllers share. */
export interface Ui {
  /** Schedules one full render in the next animation frame. */
  update(): void;
  /** Persists the view: at once in the webview state, debounced in the extension (per model). */
  save(): void;
}

/** Sends an error to the extension's log. */
export function reportError(error: unknown): void {
  vscode.postMessage({ type: 'log', level: 'error', message: error instanceof Error ? error.message : String(error) });
}

/** The readable message of an error. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The Ui of a page: `draw` renders everything from the state. */
export function createUi(state: InspectorState, draw: () => void): Ui {
  let frame = 0;
  let saveTimer: number | undefined;
  return {
    update: () => {
      if (!frame)
        frame = requestAnimationFrame(() => {
          frame = 0;
          draw();
        });
    },
    save: () => {
      const { persisted } = state;
      vscode.setState(persisted);
      window.clearTimeout(saveTimer);
      saveTimer = window.setTimeout(() => {
        const view: ViewState = {
          tab: persisted.tab,
          query: persisted.query,
          ...(persisted.weight ? { weight: persisted.weight } : {}),
          ...(persisted.scheme ? { scheme: persisted.scheme } : {}),
        };
        request('view/save', view).catch(reportError);
      }, 300);
    },
  };
}

/** Saves a chart as PNG through the extension (save dialog), on the editor background (canvases are transparent). */
export function exportCanvas(name: string, canvas: HTMLCanvasElement): void {
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = getComputedStyle(document.body).getPropertyValue('--vscode-editor-background').trim() || '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  request('chart/export', { name, dataUrl: out.toDataURL('image/png') }).catch(reportError);
}

/** `fn`, run once `ms` after the last of a burst of calls. */
export function debounce(fn: () => void, ms: number): () => void {
  let timer: number | undefined;
  return () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(fn, ms);
  };
}
