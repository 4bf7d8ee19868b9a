/** Worker thread entry: reads one model (overview and analysis plan) off the caller's thread and posts it back. */
import { parentPort, workerData } from 'node:worker_threads';
import { toModelErrorInfo } from '../core/onnx/errors';
import { readModelForAnalysis } from './analysisPlan';
import type { OverviewWorkerReply, OverviewWorkerRequest } from './overviewClient';

const request = workerData as OverviewWorkerRequest;
readModelForAnalysis(request.modelPath).then(
  (result) => parentPort?.postMessage({ ok: true, result } satisfies OverviewWorkerReply),
  (error: unknown) =>
    parentPort?.postMessage({ ok: false, error: toModelErrorInfo(error) } satisfies OverviewWorkerReply),
);
