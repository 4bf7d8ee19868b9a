/** The weights of a loaded model the export may quantize: the ones the evaluation's variants quantize. */
import type { onnx } from 'onnx-proto';
import { consumersByTensor } from '../../core/onnx/consumers';
import { DType } from '../../core/onnx/dtypes';
import { visitGraphs, type WeightRef } from '../../core/onnx/weights';
import type { ExportCandidate, ExportModelInfo } from '../../core/export/exportPlan';
import type { OpsetNode } from '../../core/export/opsets';
import { effectiveConsumers } from '../../core/quant/roles';
import { int64ToNumber, type Int64 } from '../../core/onnx/decode';
import { planAnalysis } from '../analysisPlan';
import type { LoadedModelFile } from '../modelFile';

/** Why a quantizable weight stays as it is (the evaluation's rule: float32 initializers of the main graph). */
function skipReason(graph: string, origin: string, dtype: number, stored: boolean): string | undefined {
  if (graph !== 'main') return `it is inside a subgraph (${graph}); the export quantizes the main graph's initializers`;
  if (origin !== 'initializer') return `it is stored in a ${origin} node, not an initializer`;
  if (stored) return 'it is stored quantized already';
  if (dtype !== DType.float32) return 'it is not stored as float32';
  return undefined;
}

/** Every quantizable weight of the model, with its consumers and why it is skipped (subgraph, Constant...). */
export async function exportCandidates(path: string, loaded: LoadedModelFile): Promise<ExportCandidate[]> {
  const planned = await planAnalysis({ path, ...loaded }, loaded.weights);
  const consumers = consumersByTensor(loaded.model);
  // Refs by name, in file order: planned weights with a repeated name (subgraphs) take them one by one.
  const refs = new Map<string, WeightRef[]>();
  for (const w of loaded.weights) refs.set(w.name, [...(refs.get(w.name) ?? []), w]);
  const candidates: ExportCandidate[] = [];
  for (const w of planned) {
    if (!w.quantizable || w.problem) continue;
    const ref = refs.get(w.name)?.shift();
    if (!ref) continue;
    const skip = skipReason(ref.graph, ref.origin, ref.dtype, !!w.stored);
    candidates.push({
      name: w.name,
      dims: w.shape,
      layout: w.layout,
      transpose: w.transpose,
      direct: (consumers.get(w.name) ?? []).filter((c) => c.graph === ref.graph),
      layers: effectiveConsumers(w.name, consumers),
      ...(skip ? { skip } : {}),
    });
  }
  return candidates;
}

/** The ai.onnx opset, IR version and every node (all graphs) of a model. */
export function modelInfo(model: onnx.IModelProto): ExportModelInfo {
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const nodes: OpsetNode[] = [];
  visitGraphs(model.graph ?? {}, (g) => {
    (g.node ?? []).forEach((n, i) =>
      nodes.push({
        op: n.opType ?? '',
        domain: n.domain === 'ai.onnx' ? '' : (n.domain ?? ''),
        name: n.name || `${n.opType}_${i}`,
      }),
    );
  });
  return {
    opset: int64ToNumber(opset?.version as Int64 | undefined) || 1,
    irVersion: int64ToNumber(model.irVersion as Int64),
    nodes,
  };
}
