/**
 * "Evaluate this plan": a code lens on every `*.qplan.json`, an editor title action and a palette command
 * that run the plan's evaluation spec with the plan added as a variant. The spec file is never edited: the
 * plan travels to the evaluation child as an extra variant.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parsePlan } from '../core/eval/plan';
import type { EvaluationRunner } from './evaluation';
import { SPEC_GLOB } from './evaluation';
import type { StoredResults } from './evaluationStore';
import { PLAN_SELECTOR, planFileFor } from './planFiles';

/** The command id. */
export const EVALUATE_PLAN = 'quantlens.evaluatePlan';

const isPlan = (uri: vscode.Uri | undefined): uri is vscode.Uri =>
  !!uri && uri.path.toLowerCase().endsWith('.qplan.json');

/** The lenses on a plan's first line: evaluate it, export it. */
class PlanLens implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    return [
      new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), {
        title: vscode.l10n.t('$(play) Evaluate this plan'),
        tooltip: vscode.l10n.t(
          "Run the plan's evaluation spec with this plan added as a variant (the spec is not edited)",
        ),
        command: EVALUATE_PLAN,
        arguments: [document.uri],
      }),
      new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), {
        title: vscode.l10n.t('$(package) Export quantized model'),
        tooltip: vscode.l10n.t(
          "Write the plan's model quantized as a runnable ONNX, verified in onnxruntime (and on the plan's spec)",
        ),
        command: 'quantlens.exportModel',
        arguments: [document.uri],
      }),
    ];
  }
}

/** The spec that evaluates a plan: the one it was made from (same stem), else one naming the plan's model; asks when several. */
async function specFor(plan: vscode.Uri): Promise<vscode.Uri | undefined> {
  const specs = await vscode.workspace.findFiles(SPEC_GLOB, '**/node_modules/**', 500);
  const made = specs.find((s) => planFileFor(s).fsPath === plan.fsPath);
  if (made) return made;
  const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(plan));
  const model = parsePlan(text).plan?.model;
  const modelPath = model ? path.resolve(path.dirname(plan.fsPath), model) : undefined;
  const naming: vscode.Uri[] = [];
  for (const spec of specs) {
    try {
      const named = (
        JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(spec))) as { model?: string }
      ).model;
      if (named && path.resolve(path.dirname(spec.fsPath), named) === modelPath) naming.push(spec);
    } catch {
      // A spec that does not parse cannot be the plan's.
    }
  }
  const candidates = naming.length > 0 ? naming : specs;
  if (candidates.length <= 1) return candidates[0];
  const pick = await vscode.window.showQuickPick(
    candidates.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { placeHolder: vscode.l10n.t('Which evaluation spec should evaluate {0}?', path.basename(plan.fsPath)) },
  );
  return pick?.uri;
}

/** Runs the evaluation of a plan (the argument or the active editor's plan). */
async function evaluatePlan(runner: EvaluationRunner, arg: unknown): Promise<StoredResults | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  const plan = isPlan(arg as vscode.Uri) ? (arg as vscode.Uri) : isPlan(active?.uri) ? active.uri : undefined;
  if (!plan) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Open a quantization plan (*.qplan.json) first.'));
    return undefined;
  }
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === plan.toString());
  if (open?.isDirty) await open.save();
  const spec = await specFor(plan);
  if (!spec) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t(
        'No evaluation spec (*.quantlens.json) in this workspace to evaluate {0} with.',
        path.basename(plan.fsPath),
      ),
    );
    return undefined;
  }
  return runner.runTrusted(spec, [plan]);
}

/** Registers the lens and the command. */
export function registerPlanEvaluation(runner: EvaluationRunner): vscode.Disposable[] {
  return [
    vscode.languages.registerCodeLensProvider(PLAN_SELECTOR, new PlanLens()),
    vscode.commands.registerCommand(EVALUATE_PLAN, (arg?: vscode.Uri) =>
      evaluatePlan(runner, arg).catch(() => undefined),
    ),
  ];
}
