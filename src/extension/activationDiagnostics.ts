/**
 * Diagnostics for layers whose activations break the budget or are flagged (issue 20): on the model file (Problems
 * panel), and on the layer's line in a plan that quantizes that layer's activations, with the quick fixes "Keep
 * activations at 16 bits" (`<weight scheme>+a16`) and "Keep activations float" (the weight scheme alone).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { layerPointer, planEntry, type ParsedPlan, type QuantPlan } from '../core/eval/plan';
import {
  activationBitsOf,
  activationFindings,
  quantizesActivations,
  weightSchemeOf,
  type ActivationFinding,
} from '../core/view/activationView';
import { revealLayerUri, type StoredResults } from './evaluationStore';
import type { PlanFix } from './planBudgetDiagnostics';

/** Diagnostic code of an activation finding. */
export const ACTIVATION_CODE = 'activation-layer';

const severity = (f: ActivationFinding): vscode.DiagnosticSeverity =>
  f.breaksBudget ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;

/** Problems-panel entries on the model for its activation findings. */
export function activationModelDiagnostics(stored: StoredResults): vscode.Diagnostic[] {
  return activationFindings(stored.results).map((f) => {
    const d = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 0), f.message, severity(f));
    d.source = 'QuantLens';
    d.code = f.layer
      ? {
          value: ACTIVATION_CODE,
          target: revealLayerUri(stored.model, f.layer.weight, stored.results.sensitivity?.rankScheme ?? ''),
        }
      : ACTIVATION_CODE;
    d.relatedInformation = [
      new vscode.DiagnosticRelatedInformation(
        new vscode.Location(stored.spec, new vscode.Position(0, 0)),
        `Measured by ${path.basename(stored.spec.fsPath)} on ${stored.results.data.evaluated} samples (${path.basename(stored.file.fsPath)})`,
      ),
    ];
    return d;
  });
}

/** The two quick fixes of a layer whose activations the plan quantizes at `scheme`. */
export function activationFixes(target: string, scheme: string): PlanFix[] {
  const weight = weightSchemeOf(scheme);
  const fixes: PlanFix[] = [];
  if (activationBitsOf(scheme) !== 16)
    fixes.push({
      layer: target,
      scheme: `${weight}+a16`,
      preferred: true,
      title: vscode.l10n.t('Keep activations at 16 bits for {0}', target),
    });
  fixes.push({
    layer: target,
    scheme: weight,
    preferred: fixes.length === 0,
    title: vscode.l10n.t('Keep activations float for {0}', target),
  });
  return fixes;
}

/** Findings on a plan: a diagnostic on each entry that quantizes a finding's activations at the measured bits. */
export function activationPlanFindings(
  parsed: ParsedPlan,
  plan: QuantPlan,
  stored: StoredResults,
): { diagnostic: vscode.Diagnostic; fixes: PlanFix[] }[] {
  return activationFindings(stored.results).flatMap((f) => {
    const weight = f.layer ? { name: f.layer.weight, layers: f.layer.layers } : { name: f.node, layers: [f.node] };
    const entry = planEntry(plan, weight);
    if (!quantizesActivations(entry.scheme) || activationBitsOf(entry.scheme) !== f.bits) return [];
    const r = parsed.json.rangeOf(entry.key !== undefined ? layerPointer(entry.key) : '/default', true);
    const where = entry.key !== undefined ? '' : vscode.l10n.t(' (through the default {0})', entry.scheme);
    const diagnostic = new vscode.Diagnostic(
      new vscode.Range(r.line, r.character, r.endLine, r.endCharacter),
      `${f.message.replace(/\.$/, '')}${where} (${path.basename(stored.file.fsPath)}).`,
      severity(f),
    );
    diagnostic.source = 'QuantLens';
    diagnostic.code = ACTIVATION_CODE;
    return [{ diagnostic, fixes: activationFixes(entry.key ?? f.node, entry.scheme) }];
  });
}
