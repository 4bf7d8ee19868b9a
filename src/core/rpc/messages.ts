/**
 * The envelope every boundary shares: requests answered by a response with the same id, progress and
 * cancellation tied to a request id. A boundary's own messages (notifications) live in its protocol file.
 */
import type { RpcErrorInfo } from './errors';

/** One method of a request table: its parameters, result and (optional) progress values. */
export interface MethodShape {
  params: unknown;
  result: unknown;
  progress?: unknown;
}

/** A boundary's request table (an interface of method name -> MethodShape); used as `T extends MethodTable<T>`. */
export type MethodTable<T> = { [M in keyof T]: MethodShape };

/** Calls `method` with `params`; answered by a `response` with the same id. */
export type RequestMessage<T extends MethodTable<T> = Record<string, MethodShape>> = {
  [M in keyof T & string]: { type: 'request'; id: number; method: M; params: T[M]['params'] };
}[keyof T & string];

/** The answer to request `id`: its value, or an error. */
export type ResponseMessage =
  | { type: 'response'; id: number; ok: true; value: unknown }
  | { type: 'response'; id: number; ok: false; error: RpcErrorInfo };

/** A progress report of the running request `id`. */
export interface ProgressMessage {
  type: 'progress';
  id: number;
  value: unknown;
}

/** Stop request `id` (its handler's AbortSignal fires); no response is expected any more. */
export interface CancelMessage {
  type: 'cancel';
  id: number;
}

/** Messages from the calling side to the serving side. */
export type CallerMessage<T extends MethodTable<T> = Record<string, MethodShape>> = RequestMessage<T> | CancelMessage;

/** Messages from the serving side to the calling side. */
export type ServerMessage = ResponseMessage | ProgressMessage;

/** Whether a value is one of the envelope's messages of `type` (a cheap structural check). */
export function isEnvelope<K extends 'request' | 'response' | 'progress' | 'cancel'>(
  message: unknown,
  type: K,
): message is Extract<CallerMessage | ServerMessage, { type: K }> {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === type &&
    typeof (message as { id?: unknown }).id === 'number'
  );
}
