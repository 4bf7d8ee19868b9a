/**
 * Entry of the cost measurement child process (dist/costProcess.js): one model measured in a fresh process,
 * so its memory figure is its own and one model's allocations do not slow the next. Answers one request.
 */
import { errorToInfo } from '../../core/rpc/domainErrors';
import { serveProcess } from '../rpcPorts';
import { measureModel } from './costMeasure';
import type { CostMethods } from './costProtocol';

serveProcess<CostMethods>(
  { measure: (request, context) => measureModel(request, context.signal) },
  { toInfo: errorToInfo, onSettled: () => setTimeout(() => process.exit(0), 50) },
);
