/** Runs readModelForAnalysis in a worker thread so large files never block the caller's event loop. */
import { ModelError, type ModelErrorInfo } from '../core/onnx/errors';
import type { ModelReadResult } from './analysisPlan';
import { startWorker } from './workers';

/** Data handed to the overview worker. */
export interface OverviewWorkerRequest {
  modelPath: string;
}

/** What the overview worker posts back. */
export type OverviewWorkerReply = { ok: true; result: ModelReadResult } | { ok: false; error: ModelErrorInfo };

/** Reads a model's overview in a fresh worker (script at `workerScript`); aborting terminates the worker. */
export function readOverviewInWorker(
  workerScript: string,
  modelPath: string,
  signal?: AbortSignal,
): Promise<ModelReadResult> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const worker = startWorker(workerScript, { workerData: { modelPath } satisfies OverviewWorkerRequest });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (!settled) {
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        fn();
      }
    };
    const onAbort = (): void => {
      finish(() => reject(signal?.reason));
      void worker.terminate();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: OverviewWorkerReply) => {
      finish(() => (reply.ok ? resolve(reply.result) : reject(new ModelError(reply.error))));
      void worker.terminate();
    });
    worker.once('error', (error) => finish(() => reject(error)));
    worker.once('exit', (code) =>
      finish(() =>
        reject(new ModelError({ code: 'io', message: `The model reader stopped unexpectedly (exit code ${code}).` })),
      ),
    );
  });
}
