/**
 * What the plan search does with files: keeps the search in `<spec stem>.search.json` (atomic, never through a
 * symlink), writes a plan of the front (`<stem>.found.qplan.json` for the chosen one; a file QuantLens did not make
 * only after a modal confirmation), and exports a plan with the export command, evaluating the export on the spec's
 * slices (onnxruntime's kernels) next to the simulation.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { finiteReplacer, type EvalResults } from '../core/eval/results';
import {
  parseSearchFile,
  planFileName,
  planFileText,
  searchFileName,
  type ExportedPlan,
  type PlanSearchFile,
} from '../core/search/planSearchFile';
import type { ReportedPlan } from '../core/search/planReport';
import type { PlanAction } from '../planSearchProtocol';
import type { ExportOutcome } from './exportCommand';
import { writeFileSafely } from './safeWriteUi';

/** `<spec stem>.search.json` next to the spec. */
export const searchUri = (spec: vscode.Uri): vscode.Uri =>
  vscode.Uri.file(path.join(path.dirname(spec.fsPath), searchFileName(path.basename(spec.fsPath))));

/** The spec's last search, or undefined when there is none (or the file is not one). */
export async function readSearch(spec: vscode.Uri): Promise<PlanSearchFile | undefined> {
  try {
    return parseSearchFile(new TextDecoder().decode(await vscode.workspace.fs.readFile(searchUri(spec))));
  } catch {
    return undefined;
  }
}

/** Keeps the search next to the spec; false when the user declined replacing a file QuantLens did not make. */
export async function persistSearch(spec: vscode.Uri, search: PlanSearchFile): Promise<boolean> {
  const text = `${JSON.stringify(search, finiteReplacer, 2)}\n`;
  return writeFileSafely(searchUri(spec), text, { folder: path.dirname(spec.fsPath) });
}

/** Writes plan `p` of the search next to the spec; the file written (undefined: declined). */
export async function writeSearchPlan(
  spec: vscode.Uri,
  search: PlanSearchFile,
  p: ReportedPlan,
): Promise<vscode.Uri | undefined> {
  const folder = path.dirname(spec.fsPath);
  const file = vscode.Uri.file(path.join(folder, planFileName(path.basename(spec.fsPath), search.report, p)));
  const r = search.report;
  const model = path.relative(folder, path.resolve(folder, r.model)) || r.model;
  return (await writeFileSafely(file, planFileText(r, p, model), { folder })) ? file : undefined;
}

/** The export's column: its verdict and metrics per slice, from the evaluation of the export. */
export function exportedOf(
  spec: vscode.Uri,
  plan: vscode.Uri,
  outcome: ExportOutcome,
  minSliceSize: number,
): ExportedPlan {
  const folder = path.dirname(spec.fsPath);
  const rel = (file: string): string => path.relative(folder, file) || file;
  const results: EvalResults | undefined = outcome.evaluation?.stored.results;
  const variant = results?.variants.find((v) => v.kind === 'export');
  const slices = variant
    ? results!.slices.map((s) => ({
        name: s.name,
        n: s.n,
        verdict: variant.verdicts?.[s.name] ?? '',
        metrics: variant.metrics[s.name],
      }))
    : [];
  const deciding = slices.filter((s) => s.n >= minSliceSize);
  return {
    plan: rel(plan.fsPath),
    output: rel(outcome.result.output),
    verified: outcome.verification?.ok ?? false,
    ...(outcome.evaluation?.comparison ? { agreement: outcome.evaluation.comparison.agreement } : {}),
    ...(outcome.evaluation ? { resultsFile: rel(outcome.evaluation.stored.file.fsPath) } : {}),
    passes: variant !== undefined && deciding.every((s) => s.verdict === 'pass' || s.verdict === 'noise'),
    slices,
    ...(variant ? {} : { note: outcome.verifyNote ?? 'The export was not evaluated on the spec.' }),
  };
}

/** Exports `plan` and evaluates the export on `spec` (the export command); undefined when nothing was exported. */
export async function exportAndMeasure(
  spec: vscode.Uri,
  plan: vscode.Uri,
  minSliceSize: number,
): Promise<ExportedPlan | undefined> {
  const outcome = await vscode.commands.executeCommand<ExportOutcome | undefined>('quantlens.exportModel', plan, {
    spec,
    accuracyLevel: 0,
  });
  return outcome ? exportedOf(spec, plan, outcome, minSliceSize) : undefined;
}

/** A plan picked in the view: written, or written then exported and measured; returns the updated search. */
export async function pickedPlan(
  spec: vscode.Uri,
  search: PlanSearchFile,
  index: number,
  action: PlanAction,
): Promise<{ search: PlanSearchFile; file?: vscode.Uri }> {
  const p = search.report.plans[index];
  if (!p) return { search };
  const file = await writeSearchPlan(spec, search, p);
  if (!file) return { search };
  if (action === 'write') {
    const open = vscode.l10n.t('Open');
    void vscode.window
      .showInformationMessage(vscode.l10n.t('Wrote {0}.', vscode.workspace.asRelativePath(file)), open)
      .then((choice) => (choice === open ? vscode.window.showTextDocument(file) : undefined));
    return { search, file };
  }
  const exported = await exportAndMeasure(spec, file, search.report.minSliceSize);
  if (!exported) return { search, file };
  const updated = { ...search, exported };
  await persistSearch(spec, updated);
  return { search: updated, file };
}
