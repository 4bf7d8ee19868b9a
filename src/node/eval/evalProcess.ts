/**
 * Entry of the evaluation child process (dist/evalProcess.js): onnxruntime runs here, so a crash in it
 * ends this process, never the extension host. Answers one run request, with progress, then leaves.
 */
import { errorToInfo } from '../../core/rpc/domainErrors';
import { serveProcess } from '../rpcPorts';
import { STOP_SEARCH, type EvalMethods } from './evalProtocol';
import { evaluate } from './evaluate';
import { findPlan } from '../search/findPlan';

serveProcess<EvalMethods>(
  {
    evaluate: (request, context) => {
      let last = 0;
      return evaluate(request.specPath, {
        thresholds: request.thresholds,
        threads: request.threads,
        version: request.version,
        extraPlans: request.extraPlans,
        extraModels: request.extraModels,
        latency: request.latency,
        signal: context.signal,
        onProgress: (p) => {
          const now = Date.now();
          if (now - last >= 100 || p.done === p.total) {
            last = now;
            context.progress(p);
          }
        },
      });
    },
    findPlan: (request, context) => {
      let last = 0;
      // A cancel of the request (the caller stopped waiting) or a STOP_SEARCH (the caller waits for the front so far).
      const stop = new AbortController();
      context.signal.addEventListener('abort', () => stop.abort(context.signal.reason), { once: true });
      process.on('message', (m: unknown) => {
        if ((m as { type?: unknown } | null)?.type === STOP_SEARCH.type)
          stop.abort(new Error('The plan search was stopped.'));
      });
      return findPlan(request.specPath, {
        threads: request.threads,
        signal: stop.signal,
        onProgress: (message, runs) => {
          const now = Date.now();
          if (now - last < 100) return;
          last = now;
          context.progress({ message, runs });
        },
      });
    },
  },
  {
    toInfo: errorToInfo,
    // Let the answer flush, then leave (onnxruntime's threads must not keep the process alive).
    onSettled: () => setTimeout(() => process.exit(0), 50),
  },
);
