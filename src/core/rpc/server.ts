/** The serving side of a boundary: runs each request's handler and answers with its value or its error. */
import { RpcCode, toRpcErrorInfo, type RpcErrorInfo } from './errors';
import { isEnvelope, type MethodTable, type ServerMessage } from './messages';

/** Posts a message to the caller (`transfer`: buffers handed over, where the transport supports it). */
export type PostServer = (message: ServerMessage, transfer?: readonly unknown[]) => void;

/** What a handler gets besides its parameters. */
export interface RequestContext<P> {
  /** Fires when the caller cancels the request. */
  readonly signal: AbortSignal;
  /** Reports progress to the caller. */
  progress(value: P): void;
  /** Hands these buffers over with the response instead of copying them. */
  transfer(...buffers: unknown[]): void;
}

/** A handler per method of table `T`. */
export type Handlers<T extends MethodTable<T>> = {
  [M in keyof T]: (
    params: T[M]['params'],
    context: RequestContext<T[M]['progress']>,
  ) => T[M]['result'] | Promise<T[M]['result']>;
};

/** Options of a server. */
export interface ServerOptions {
  /** Turns a thrown error into its plain form (a boundary's domain errors); toRpcErrorInfo by default. */
  toInfo?: (error: unknown) => RpcErrorInfo;
  /** Called when a request was answered (for logs: method, milliseconds, the error if it failed). */
  onSettled?: (method: string, ms: number, error?: RpcErrorInfo) => void;
}

/** Answers requests of method table `T` with `handlers`; a cancel message aborts the request's signal. */
export class RpcServer<T extends MethodTable<T>> {
  private readonly running = new Map<number, AbortController>();

  constructor(
    private readonly post: PostServer,
    private readonly handlers: Handlers<T>,
    private readonly options: ServerOptions = {},
  ) {}

  /** Handles a message from the caller; false when it is not a request or a cancel. */
  receive(message: unknown): boolean {
    if (isEnvelope(message, 'cancel')) {
      this.running.get(message.id)?.abort(new Error('Cancelled by the caller.'));
      return true;
    }
    if (!isEnvelope(message, 'request')) return false;
    void this.run(message.id, message.method, message.params);
    return true;
  }

  private async run(id: number, method: string, params: unknown): Promise<void> {
    const abort = new AbortController();
    this.running.set(id, abort);
    const transfer: unknown[] = [];
    const context: RequestContext<unknown> = {
      signal: abort.signal,
      progress: (value) => this.post({ type: 'progress', id, value }),
      transfer: (...buffers) => transfer.push(...buffers),
    };
    const started = performance.now();
    const handler = Object.hasOwn(this.handlers, method)
      ? (this.handlers[method as keyof T] as (params: unknown, context: RequestContext<unknown>) => unknown)
      : undefined;
    let reply: ServerMessage;
    try {
      if (!handler) throw new Error(`Unknown request ${method}`);
      const value: unknown = await handler(params, context);
      reply = { type: 'response', id, ok: true, value };
    } catch (error) {
      const info = (this.options.toInfo ?? toRpcErrorInfo)(error);
      if (!handler) info.code = RpcCode.unknownMethod;
      else if (abort.signal.aborted) info.code = RpcCode.cancelled;
      reply = { type: 'response', id, ok: false, error: info };
    } finally {
      this.running.delete(id);
    }
    if (abort.signal.aborted && reply.ok) return; // the caller stopped waiting
    this.options.onSettled?.(method, performance.now() - started, reply.ok ? undefined : reply.error);
    this.post(reply, reply.ok ? transfer : undefined);
  }
}
