/** Request/response messaging with the extension: replies matched by id, every request times out. */
import type { FromWebview, RequestMethod, Requests, ToWebview } from '../src/protocol';

/** The VS Code webview API object. */
export interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** The single VS Code API instance of this webview. */
export const vscode = acquireVsCodeApi();

const REQUEST_TIMEOUT_MS = 30_000;
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: number }>();

/** Sends a request to the extension and resolves with its reply. */
export function request<M extends RequestMethod>(
  method: M,
  params: Requests[M]['params'],
): Promise<Requests[M]['result']> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = window.setTimeout(() => {
      pending.delete(id);
      reject(new Error(`${method}: no reply within ${REQUEST_TIMEOUT_MS / 1000} s`));
    }, REQUEST_TIMEOUT_MS);
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
    vscode.postMessage({ type: 'request', id, method, params } as FromWebview);
  });
}

/** Routes a reply to its pending request; returns false for messages that are not replies. */
export function handleResponse(message: ToWebview): boolean {
  if (message.type !== 'response') {
    return false;
  }
  const entry = pending.get(message.id);
  if (entry) {
    pending.delete(message.id);
    window.clearTimeout(entry.timer);
    if (message.ok) {
      entry.resolve(message.value);
    } else {
      entry.reject(new Error(message.error));
    }
  }
  return true;
}
