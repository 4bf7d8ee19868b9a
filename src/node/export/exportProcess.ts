/**
 * Entry of the export child process (dist/exportProcess.js): the export and its verification run here, so an
 * onnxruntime crash on an exported model ends this process, never the extension host or the CLI. Answers one
 * request, with progress, then leaves.
 */
import { errorToInfo } from '../../core/rpc/domainErrors';
import { serveProcess } from '../rpcPorts';
import { diffModels } from './diffModels';
import { exportModel } from './exportModel';
import type { ExportMethods } from './exportProtocol';
import { calibrateExport, calibrationRecord } from './specCalibration';
import { verifyExport } from './verifyExport';

serveProcess<ExportMethods>(
  {
    export: async ({ model, spec, ...options }, context) => {
      const calibration = spec ? await calibrateExport(model, spec, options, context.signal) : undefined;
      return exportModel(model, {
        ...options,
        activations: calibration?.activations,
        ...(calibration && spec ? { calibration: calibrationRecord(calibration, spec) } : {}),
        signal: context.signal,
        onProgress: (p) => context.progress(p),
      });
    },
    diff: ({ original, quantized }, context) => diffModels(original, quantized, context.signal),
    verify: (request, context) =>
      verifyExport({ ...request, signal: context.signal, onProgress: (p) => context.progress(p) }),
  },
  {
    toInfo: (error) => {
      const info = errorToInfo(error);
      const refused = error instanceof Error && error.name === 'WriteRefused';
      return refused
        ? { ...info, data: { needsConfirmation: (error as { needsConfirmation?: boolean }).needsConfirmation } }
        : info;
    },
    onSettled: () => setTimeout(() => process.exit(0), 50),
  },
);
