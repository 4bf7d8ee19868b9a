/** Analysis worker thread: runs analysis tasks posted by the pool, one at a time, and posts results back. */
import { errorToInfo } from '../core/rpc/domainErrors';
import type { AnalysisMethods } from './analysisProtocol';
import { runAnalysisTask } from './analysisTask';
import { serveParentPort } from './rpcPorts';

serveParentPort<AnalysisMethods>(
  {
    'task/run': (task, context) => {
      const result = runAnalysisTask(task, true);
      const { histogram, schemes } = result.analysis;
      // Hand the arrays over instead of copying them.
      context.transfer(histogram.counts.buffer, ...Object.values(schemes).map((m) => m.grid.sqnrDb.buffer));
      if (result.detail)
        context.transfer(
          result.detail.ranges.lo.buffer,
          result.detail.ranges.hi.buffer,
          result.detail.channelSqnr.buffer,
        );
      return result;
    },
  },
  { toInfo: errorToInfo },
);
