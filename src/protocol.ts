/** Typed messages between the extension and the inspector webview (one union per direction). */
import type { ModelErrorInfo } from './core/onnx/errors';
import type { ModelOverview } from './core/onnx/overview';

/** What the inspector shows for one model file. */
export type ModelState =
  /** The model is being read. */
  | { status: 'loading'; fileName: string }
  /** The model was read; `loadMs` is the wall time of reading and indexing it. */
  | { status: 'ready'; fileName: string; overview: ModelOverview; loadMs: number }
  /** The model could not be read; `fileSize` is null when the file itself could not be stat'ed. */
  | { status: 'error'; fileName: string; fileSize: number | null; error: ModelErrorInfo };

/** Requests the webview may send, each with its parameters and result. */
export interface Requests {
  /** The current state of the model shown in this editor. */
  'model/get': { params: Record<string, never>; result: ModelState };
  /** Ask the extension to re-read the model from disk. */
  'model/reload': { params: Record<string, never>; result: ModelState };
  /** Open the QuantLens log. */
  'log/show': { params: Record<string, never>; result: null };
}

/** Name of a request method. */
export type RequestMethod = keyof Requests;

/** What the webview read back from its own DOM after rendering: used by tests and the log. */
export interface RenderReport {
  status: ModelState['status'];
  /** Text of every element marked `data-field`, by field name. */
  fields: Record<string, string>;
  /** Cell texts of every table marked `data-table`, by table name (rows of cells, header excluded). */
  tables: Record<string, string[][]>;
}

/** Messages from the extension to the webview. */
export type ToWebview =
  /** A successful reply to request `id`. */
  | { type: 'response'; id: number; ok: true; value: unknown }
  /** A failed reply to request `id`, with a readable error. */
  | { type: 'response'; id: number; ok: false; error: string }
  /** The model's state changed (loaded, failed, changed on disk). */
  | { type: 'model/state'; state: ModelState };

/** Messages from the webview to the extension. */
export type FromWebview =
  /** A request; answered with a `response` carrying the same id. */
  | { [M in RequestMethod]: { type: 'request'; id: number; method: M; params: Requests[M]['params'] } }[RequestMethod]
  /** The webview finished rendering a state. */
  | { type: 'rendered'; report: RenderReport }
  /** A message for the extension's log (e.g. an error inside the webview). */
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };
