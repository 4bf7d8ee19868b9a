/**
 * The message layer (src/core/rpc) over Node's transports: worker threads and child process IPC. A peer that
 * fails or exits closes its client: every pending request rejects with code `peer-exited`.
 */
import type { ChildProcess } from 'node:child_process';
import { parentPort, type TransferListItem, type Worker } from 'node:worker_threads';
import { describeExit, peerExited, RpcClient } from '../core/rpc/client';
import type { RpcErrorInfo } from '../core/rpc/errors';
import type { MethodTable } from '../core/rpc/messages';
import { RpcServer, type Handlers, type ServerOptions } from '../core/rpc/server';

/** How a client names its dead peer and rebuilds the peer's errors. */
export interface PeerOptions {
  /** The error pending requests reject with when the peer exits (default: "<name> stopped unexpectedly (exit code N)."). */
  exitError?: (code: number | null, signal: NodeJS.Signals | null) => Error;
  /** Names the peer in the default messages ("The analysis worker"). */
  name?: string;
  fromInfo?: (info: RpcErrorInfo) => Error;
}

function exitErrorOf(options: PeerOptions): (code: number | null, signal: NodeJS.Signals | null) => Error {
  return (
    options.exitError ??
    ((code, signal) =>
      peerExited(`${options.name ?? 'The peer'} stopped unexpectedly (${describeExit(code, signal)}).`))
  );
}

/** A client of the handlers served in `worker` (see serveParentPort). */
export function workerClient<T extends MethodTable<T>>(worker: Worker, options: PeerOptions = {}): RpcClient<T> {
  const client = new RpcClient<T>(
    (message, transfer) => worker.postMessage(message, transfer as TransferListItem[] | undefined),
    options.fromInfo,
  );
  const exitError = exitErrorOf(options);
  worker.on('message', (message: unknown) => client.receive(message));
  worker.on('error', (error) => client.close(peerExited(`${options.name ?? 'The peer'} failed: ${error.message}`)));
  worker.on('exit', (code) => client.close(exitError(code, null)));
  return client;
}

/** Serves `handlers` to the thread that started this worker. */
export function serveParentPort<T extends MethodTable<T>>(handlers: Handlers<T>, options?: ServerOptions): void {
  const port = parentPort;
  if (!port) throw new Error('Not a worker thread.');
  const server = new RpcServer<T>(
    (message, transfer) => port.postMessage(message, transfer as TransferListItem[] | undefined),
    handlers,
    options,
  );
  port.on('message', (message: unknown) => server.receive(message));
}

/** A client of the handlers served in the child process (see serveProcess; fork it with an 'ipc' channel). */
export function childClient<T extends MethodTable<T>>(child: ChildProcess, options: PeerOptions = {}): RpcClient<T> {
  const client = new RpcClient<T>((message) => {
    if (child.connected) child.send(message, () => undefined); // a send that fails shows as the child's exit
  }, options.fromInfo);
  const exitError = exitErrorOf(options);
  child.on('message', (message: unknown) => client.receive(message));
  child.on('error', (error) => client.close(peerExited(`${options.name ?? 'The peer'} failed: ${error.message}`)));
  child.on('exit', (code, signal) => client.close(exitError(code, signal)));
  return client;
}

/** Serves `handlers` to the process that forked this one. */
export function serveProcess<T extends MethodTable<T>>(handlers: Handlers<T>, options?: ServerOptions): void {
  const server = new RpcServer<T>((message) => process.send?.(message), handlers, options);
  process.on('message', (message: unknown) => server.receive(message));
}
