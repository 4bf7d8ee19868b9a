/** Analysis worker thread: runs analysis tasks posted by the pool, one at a time, and posts results back. */
import { errorToInfo } from '../core/rpc/domainErrors';
import type { AnalysisMethods } from './analysisProtocol';
import { runAnalysisTask, type AnalysisResult } from './analysisTask';
import { serveParentPort } from './rpcPorts';

/** The result's arrays, handed over instead of copied. */
function buffersOf(result: AnalysisResult): ArrayBufferLike[] {
  const { histogram, schemes } = result.analysis;
  const buffers = [histogram.counts.buffer, ...Object.values(schemes).map((m) => m.grid.sqnrDb.buffer)];
  if (result.detail)
    buffers.push(result.detail.ranges.lo.buffer, result.detail.ranges.hi.buffer, result.detail.channelSqnr.buffer);
  return buffers;
}

serveParentPort<AnalysisMethods>(
  {
    'task/run': (task, context) => {
      const result = runAnalysisTask(task, true);
      context.transfer(...buffersOf(result));
      return result;
    },
    'task/batch': (tasks, context) => {
      const results = tasks.map((task) => runAnalysisTask(task, true));
      context.transfer(...new Set(results.flatMap(buffersOf)));
      return results;
    },
  },
  { toInfo: errorToInfo },
);
