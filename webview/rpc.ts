/** Request/response messaging with the extension (src/core/rpc): replies matched by id, every request times out. */
import { RpcClient, type RequestOptions } from '../src/core/rpc/client';
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
const client = new RpcClient<Requests>((message) => vscode.postMessage(message));

/** Sends a request to the extension and resolves with its reply (an RpcError with the extension's error otherwise). */
export function request<M extends RequestMethod>(
  method: M,
  params: Requests[M]['params'],
  options: Pick<RequestOptions<unknown>, 'signal'> = {},
): Promise<Requests[M]['result']> {
  return client.request(method, params, { timeoutMs: REQUEST_TIMEOUT_MS, signal: options.signal });
}

/** Routes a reply to its pending request; returns false for messages that are not replies. */
export function handleResponse(message: ToWebview): boolean {
  return client.receive(message);
}
