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

/**
 * A batch's histograms and grids moved into one buffer (each array a view of it, 8-byte aligned), transferred
 * once: 512 small tensors arrive as one ArrayBuffer, not ~2,500, which the receiving thread (the extension
 * host) would otherwise track and sweep one by one.
 */
function packBatch(results: AnalysisResult[]): ArrayBuffer {
  let bytes = 0;
  const align = (n: number): number => Math.ceil(n / 8) * 8;
  for (const { analysis } of results) {
    bytes += align(analysis.histogram.counts.byteLength);
    for (const m of Object.values(analysis.schemes)) bytes += align(m.grid.sqnrDb.byteLength);
  }
  const buffer = new ArrayBuffer(bytes);
  let at = 0;
  const move = <T extends Uint32Array | Float64Array>(a: T, make: (b: ArrayBuffer, o: number, n: number) => T): T => {
    const view = make(buffer, at, a.length);
    view.set(a);
    at += align(a.byteLength);
    return view;
  };
  for (const { analysis } of results) {
    const h = analysis.histogram;
    h.counts = move(h.counts, (b, o, n) => new Uint32Array(b, o, n));
    for (const m of Object.values(analysis.schemes))
      m.grid.sqnrDb = move(m.grid.sqnrDb, (b, o, n) => new Float64Array(b, o, n));
  }
  return buffer;
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
      if (results.some((r) => r.detail)) context.transfer(...new Set(results.flatMap(buffersOf)));
      else context.transfer(packBatch(results));
      return results;
    },
  },
  { toInfo: errorToInfo },
);
