/** The calling side of a boundary: typed requests matched to responses by id, with progress, cancel and timeout. */
import { RpcCode, RpcError, type RpcErrorInfo } from './errors';
import { isEnvelope, type CallerMessage, type MethodTable } from './messages';

/** Posts a message to the peer (`transfer`: buffers handed over, where the transport supports it). */
export type PostCaller<T extends MethodTable<T>> = (message: CallerMessage<T>, transfer?: readonly unknown[]) => void;

/** Options of one request. */
export interface RequestOptions<P> {
  /** Aborting rejects with the signal's reason and sends the peer a cancel. */
  signal?: AbortSignal;
  /** Rejects with code `timeout` (and sends a cancel) when no response came within this time. */
  timeoutMs?: number;
  /** Buffers handed to the peer instead of copied. */
  transfer?: readonly unknown[];
  onProgress?: (value: P) => void;
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (value: never) => void;
  cleanup: () => void;
}

/** Sends requests of method table `T` and routes the peer's responses and progress to them. */
export class RpcClient<T extends MethodTable<T>> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedWith?: Error;

  constructor(
    private readonly post: PostCaller<T>,
    /** Rebuilds an error from its plain form (a boundary's domain errors); RpcError by default. */
    private readonly fromInfo: (info: RpcErrorInfo) => Error = (info) => new RpcError(info),
  ) {}

  /** Requests not answered yet. */
  get size(): number {
    return this.pending.size;
  }

  /** Calls `method`; resolves with its result, rejects with the peer's error, on abort, timeout or a dead peer. */
  request<M extends keyof T & string>(
    method: M,
    params: T[M]['params'],
    options: RequestOptions<T[M]['progress']> = {},
  ): Promise<T[M]['result']> {
    const { signal, timeoutMs, transfer, onProgress } = options;
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.nextId++;
    return new Promise<T[M]['result']>((resolve, reject) => {
      const stop = (error: Error): void => {
        if (!this.pending.delete(id)) return;
        cleanup();
        reject(error);
        this.send({ type: 'cancel', id });
      };
      const onAbort = (): void => stop(signal?.reason as Error);
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () =>
                stop(
                  new RpcError({ code: RpcCode.timeout, message: `${method}: no reply within ${timeoutMs / 1000} s` }),
                ),
              timeoutMs,
            );
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { method, resolve, reject, onProgress, cleanup });
      this.send({ type: 'request', id, method, params } as CallerMessage<T>, transfer);
    });
  }

  /** Routes a message from the peer; false when it is not a response or progress (e.g. a notification). */
  receive(message: unknown): boolean {
    if (isEnvelope(message, 'progress')) {
      this.pending.get(message.id)?.onProgress?.(message.value as never);
      return true;
    }
    if (!isEnvelope(message, 'response')) return false;
    const entry = this.pending.get(message.id);
    if (!entry) return true; // answered after a cancel or timeout
    this.pending.delete(message.id);
    entry.cleanup();
    if (message.ok) entry.resolve(message.value);
    else entry.reject(this.fromInfo(message.error));
    return true;
  }

  /** The peer is gone: every pending request, and every later one, rejects with `error`. */
  close(error: Error): void {
    this.closedWith ??= error;
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      entry.cleanup();
      entry.reject(error);
    }
  }

  private send(message: CallerMessage<T>, transfer?: readonly unknown[]): void {
    if (this.closedWith) return;
    this.post(message, transfer);
  }
}

/** The error of a dead peer: code `peer-exited`, the exit code or signal in the message. */
export function peerExited(message: string): RpcError {
  return new RpcError({ code: RpcCode.peerExited, message });
}

/** "exit code 3" or "signal SIGKILL", as the peer ended. */
export function describeExit(code: number | null, signal?: string | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}
