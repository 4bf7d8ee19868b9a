/** Worker thread entry: reads one model (overview and analysis plan) off the caller's thread and posts it back. */
import { errorToInfo } from '../core/rpc/domainErrors';
import { readModelForAnalysis } from './analysisPlan';
import type { OverviewMethods } from './overviewProtocol';
import { serveParentPort } from './rpcPorts';

serveParentPort<OverviewMethods>(
  { 'model/read': ({ modelPath }) => readModelForAnalysis(modelPath) },
  { toInfo: errorToInfo },
);
