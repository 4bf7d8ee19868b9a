/** Analysis worker thread: runs analysis tasks posted by the pool, one at a time, and posts results back. */
import { parentPort } from 'node:worker_threads';
import { toModelErrorInfo } from '../core/onnx/errors';
import type { AnalysisTask } from './analysisTask';
import { runAnalysisTask } from './analysisTask';
import type { WorkerReply } from './analysisPool';

parentPort?.on('message', ({ id, task }: { id: number; task: AnalysisTask }) => {
  try {
    const result = runAnalysisTask(task, true);
    const { histogram, schemes } = result.analysis;
    // Hand the arrays over instead of copying them.
    const transfer = [
      histogram.counts.buffer,
      ...Object.values(schemes).map((m) => m.grid.sqnrDb.buffer),
    ] as ArrayBuffer[];
    if (result.detail)
      transfer.push(
        ...([
          result.detail.ranges.lo.buffer,
          result.detail.ranges.hi.buffer,
          result.detail.channelSqnr.buffer,
        ] as ArrayBuffer[]),
      );
    parentPort?.postMessage({ id, ok: true, result } satisfies WorkerReply, transfer);
  } catch (error) {
    parentPort?.postMessage({ id, ok: false, error: toModelErrorInfo(error) } satisfies WorkerReply);
  }
});
