/**
 * The third verification step of `QuantLens: Export Quantized Model…`, as `quantlens export --spec` does it: with a
 * spec (chosen, or found next to the model or plan naming the exported model's source), the export is evaluated on
 * the spec's slices by onnxruntime's kernels (`export:<path>`) next to the simulated plan or scheme, its cost
 * measured against fp32, and shown in the results view.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { compareExport, type ExportComparison } from '../core/export/exportComparison';
import type { EvaluationRunner } from './evaluation';
import type { StoredResults } from './evaluationStore';
import { planFileFor } from './planFiles';

/** What the evaluation of an export measured. */
export interface ExportEvaluationOutcome {
  spec: vscode.Uri;
  stored: StoredResults;
  /** The export next to its simulation, per slice (identical, float rounding or differs). */
  comparison?: ExportComparison;
}

/** What was exported, as the evaluation needs it. */
export interface ExportedFrom {
  model: vscode.Uri;
  plan?: vscode.Uri;
  scheme?: string;
  output: string;
  accuracyLevel: number;
}

const SPEC_SUFFIX = '.quantlens.json';

/** The model a spec names (absolute), or undefined when it does not parse. */
async function specModel(spec: vscode.Uri): Promise<string | undefined> {
  try {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(spec));
    const model = (JSON.parse(text) as { model?: unknown }).model;
    return typeof model === 'string' ? path.resolve(path.dirname(spec.fsPath), model) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The spec to verify an export on: one in the model's or the plan's folder naming the model (the plan's own spec,
 * same stem, first); asks when several remain.
 */
export async function exportSpecFor(from: Pick<ExportedFrom, 'model' | 'plan'>): Promise<vscode.Uri | undefined> {
  const folders = [...new Set([from.model, from.plan].flatMap((u) => (u ? [path.dirname(u.fsPath)] : [])))];
  const naming: vscode.Uri[] = [];
  for (const folder of folders) {
    const entries = await vscode.workspace.fs.readDirectory(vscode.Uri.file(folder)).then(
      (e) => e,
      () => [] as [string, vscode.FileType][],
    );
    for (const [name, type] of entries.sort(([a], [b]) => a.localeCompare(b))) {
      if (type !== vscode.FileType.File || !name.toLowerCase().endsWith(SPEC_SUFFIX)) continue;
      const spec = vscode.Uri.file(path.join(folder, name));
      if ((await specModel(spec)) === from.model.fsPath) naming.push(spec);
    }
  }
  const own = from.plan && naming.find((s) => planFileFor(s).fsPath === from.plan!.fsPath);
  if (own || naming.length <= 1) return own || naming[0];
  const pick = await vscode.window.showQuickPick(
    naming.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { placeHolder: vscode.l10n.t('Verify the export on which evaluation spec?') },
  );
  return pick?.uri;
}

/** Evaluates the export on `spec` next to its plan (added as a variant) and opens the results view. */
export async function evaluateExportOnSpec(
  runner: EvaluationRunner,
  spec: vscode.Uri,
  from: ExportedFrom,
): Promise<ExportEvaluationOutcome | undefined> {
  // onnxruntime fuses DequantizeLinear -> MatMul into MatMulNBits at accuracy level 4 unless told otherwise: the
  // export runs at the level it was made for, as its own MatMulNBits nodes do (the CLI's export --spec does the same).
  const config = { 'session.qdq_matmulnbits_accuracy_level': String(from.accuracyLevel) };
  const stored = await runner.run(spec, from.plan ? [from.plan] : [], [
    { file: from.output, sessionOptions: { config } },
  ]);
  if (!stored) return undefined;
  const exported = stored.results.variants.find((v) => v.kind === 'export');
  const comparison = compareExport(stored.results, exported?.exportedFrom);
  await vscode.commands.executeCommand('quantlens.showResults', stored.model);
  return { spec, stored, comparison };
}

/** One line for the notification: how the export's metrics compare with the simulation on the spec's slices. */
export function comparisonLine(e: ExportEvaluationOutcome): string {
  const spec = path.basename(e.spec.fsPath);
  const c = e.comparison;
  if (!c?.simulated) return vscode.l10n.t('Evaluated on {0} (no simulated variant to compare with).', spec);
  if (c.agreement === 'identical')
    return vscode.l10n.t('On {0}: every slice identical to the simulation {1}.', spec, c.simulated);
  if (c.agreement === 'rounding')
    return vscode.l10n.t('On {0}: the same as the simulation {1} up to float rounding.', spec, c.simulated);
  return vscode.l10n.t(
    'On {0}: the runtime DIFFERS from the simulation {1} (KL by up to {2}); see the results view.',
    spec,
    c.simulated,
    c.maxKlDifference.toExponential(2),
  );
}
