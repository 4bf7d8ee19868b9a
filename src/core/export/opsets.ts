/**
 * Opset and IR versions an export needs, and whether raising the model's ai.onnx opset to them would change
 * what another node means (an attribute that became an input, a changed default): then the export is refused.
 */
import { DType } from '../onnx/dtypes';
import type { ExportFormat } from './exportFormat';

/**
 * ai.onnx opset versions at which an op's signature or meaning changed incompatibly: a node written for an
 * older opset reads differently at that version or later (ONNX Changelog).
 */
const BREAKING: Readonly<Record<string, readonly number[]>> = {
  Squeeze: [13],
  Unsqueeze: [13],
  Split: [13],
  ReduceSum: [13],
  ReduceMean: [18],
  ReduceMax: [18],
  ReduceMin: [18],
  ReduceProd: [18],
  ReduceL1: [18],
  ReduceL2: [18],
  ReduceLogSum: [18],
  ReduceLogSumExp: [18],
  ReduceSumSquare: [18],
  Softmax: [13],
  LogSoftmax: [13],
  Hardmax: [13],
  Clip: [11],
  Pad: [11],
  Slice: [10],
  TopK: [10],
  Dropout: [12],
  Resize: [11, 13],
  Upsample: [10],
  Scatter: [11],
  BatchNormalization: [9],
  GroupNormalization: [21],
};

/** The lowest ai.onnx opset a format needs. */
export function formatOpset(f: ExportFormat): number {
  switch (f.kind) {
    case 'float':
    case 'nbits':
      return 1;
    case 'cast':
      return f.storage === DType.bfloat16 ? 13 : 6;
    case 'dq': {
      const four = f.storage === DType.int4 || f.storage === DType.uint4;
      if (four || f.granularity === 'block') return 21;
      if (f.storage === DType.float8e4m3fn || f.storage === DType.float8e5m2) return 19;
      return f.granularity === 'axis' ? 13 : 10;
    }
  }
}

/** The lowest IR version an ai.onnx opset needs (ONNX versioning table). */
export function irForOpset(opset: number): number {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 15) return 8;
  if (opset >= 13) return 7;
  if (opset >= 11) return 6;
  if (opset >= 10) return 5;
  return 3;
}

/** A node of the model, as the opset check needs it. */
export interface OpsetNode {
  op: string;
  domain: string;
  name: string;
}

/** The first node whose meaning changes when the opset goes from `from` to `to`, with the version at which it does. */
export function opsetConflict(
  nodes: Iterable<OpsetNode>,
  from: number,
  to: number,
): { node: OpsetNode; at: number } | undefined {
  if (to <= from) return undefined;
  for (const node of nodes) {
    if (node.domain !== '') continue;
    const at = (BREAKING[node.op] ?? []).find((v) => v > from && v <= to);
    if (at !== undefined) return { node, at };
  }
  return undefined;
}
