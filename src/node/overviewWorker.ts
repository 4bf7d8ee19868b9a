/** Worker thread entry: reads one model's overview off the caller's thread and posts the result back. */
import { parentPort, workerData } from 'node:worker_threads';
import { toModelErrorInfo } from '../core/onnx/errors';
import { readModelOverview } from './modelFile';
import type { OverviewWorkerReply, OverviewWorkerRequest } from './overviewClient';

const request = workerData as OverviewWorkerRequest;
readModelOverview(request.modelPath).then(
  (result) => parentPort?.postMessage({ ok: true, result } satisfies OverviewWorkerReply),
  (error: unknown) => parentPort?.postMessage({ ok: false, error: toModelErrorInfo(error) } satisfies OverviewWorkerReply),
);
