/** The one error shape of every message boundary: a code, a readable message and, when known, where. */

/** Where an error is: a file, a byte offset, a tensor, a JSON pointer (any that apply). */
export interface RpcLocation {
  file?: string;
  offset?: number;
  tensor?: string;
  pointer?: string;
}

/** Plain-data error as it crosses a boundary (like JSON-RPC's error: `data` carries extra detail). */
export interface RpcErrorInfo {
  /** A domain code (`io`, `spec`, ...) or one of the layer's own (`peer-exited`, `timeout`, `cancelled`, ...). */
  code: string;
  message: string;
  location?: RpcLocation;
  /** The original error's class name, when it is worth keeping (`SpecError`, `RangeError`). */
  name?: string;
  stack?: string;
  data?: unknown;
}

/** The codes the message layer itself produces. */
export const RpcCode = {
  /** The worker or child process died (crash, kill, exit) with requests pending. */
  peerExited: 'peer-exited',
  /** No reply within the request's timeout. */
  timeout: 'timeout',
  /** The request was cancelled (its AbortSignal on the serving side fired). */
  cancelled: 'cancelled',
  /** The peer has no handler for the method. */
  unknownMethod: 'unknown-method',
  /** Anything thrown that carries no code of its own. */
  error: 'error',
} as const;

/** An error that arrived over a boundary (or that the layer raised): carries its RpcErrorInfo. */
export class RpcError extends Error {
  readonly code: string;
  readonly location?: RpcLocation;
  readonly data?: unknown;

  constructor(info: RpcErrorInfo) {
    super(info.message);
    this.name = info.name ?? 'RpcError';
    this.code = info.code;
    if (info.location) this.location = info.location;
    if (info.data !== undefined) this.data = info.data;
    if (info.stack) this.stack = info.stack;
  }

  /** The plain-data form, to post on. */
  info(): RpcErrorInfo {
    const out: RpcErrorInfo = { code: this.code, message: this.message, name: this.name };
    if (this.location) out.location = this.location;
    if (this.data !== undefined) out.data = this.data;
    return out;
  }
}

/** Turns anything thrown into an RpcErrorInfo (RpcErrors keep their code; other errors get `error`). */
export function toRpcErrorInfo(error: unknown): RpcErrorInfo {
  if (error instanceof RpcError) return { ...error.info(), stack: error.stack };
  if (error instanceof Error)
    return { code: RpcCode.error, name: error.name, message: error.message, stack: error.stack };
  return { code: RpcCode.error, message: String(error) };
}
