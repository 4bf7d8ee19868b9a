/** Messages between the export client (exportClient.ts) and the export child process (exportProcess.ts). */
import type { ModelDiff } from './diffModels';
import type { ExportOptions, ExportResult } from './exportModel';
import type { VerifyRequest, VerifyResult } from './verifyExport';

/** Progress of an export or a verification: weights done of total. */
export interface ExportProgress {
  done: number;
  total: number;
}

/** An export as the child runs it (the model path plus the options that cross a process boundary). */
export interface ExportChildRequest extends Omit<ExportOptions, 'signal' | 'onProgress' | 'activations'> {
  model: string;
  /** An evaluation spec whose calibration samples calibrate the activations (activation schemes and plans). */
  spec?: string;
}

/** Requests the export child answers; a cancel stops them (a cancelled export leaves no file). */
export interface ExportMethods {
  /** Export a model (no onnxruntime needed; run here to keep the extension host free). */
  export: { params: ExportChildRequest; result: ExportResult; progress: ExportProgress };
  /** Verify an export with onnxruntime (weights bit for bit, a run on generated inputs). */
  verify: { params: Omit<VerifyRequest, 'signal' | 'onProgress'>; result: VerifyResult; progress: ExportProgress };
  /** The weight diff of a quantized model against its original (no onnxruntime; off the extension host). */
  diff: { params: { original: string; quantized: string }; result: ModelDiff; progress: ExportProgress };
}
