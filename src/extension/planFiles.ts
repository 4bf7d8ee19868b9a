/**
 * Quantization plan files (`*.qplan.json`): created or extended from an evaluation, validated as they are
 * edited (schema, unknown layers), a Warning on each layer set to a scheme that broke the budget when
 * measured alone, with Quick Fixes to the cheapest measured scheme that met it, or to fp16.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { GENERATED_BY } from '../core/files/writePolicy';
import { targetState, WriteRefused } from '../node/safeWrite';
import { writeFileSafely } from './safeWriteUi';
import {
  KEEP_FLOAT,
  layerPointer,
  newPlanText,
  parsePlan,
  planEntry,
  setLayerScheme,
  setLayerSchemeEdits,
  unknownLayers,
  type ParsedPlan,
  type QuantPlan,
} from '../core/eval/plan';
import type { LayerResult } from '../core/eval/results';
import { describeViolation, layerBudget, readSlice } from '../core/eval/verdict';
import type { EvaluationStore, StoredResults } from './evaluationStore';
import { newPlanScheme } from '../core/eval/planBudget';
import { ACTIVATION_CODE, activationPlanFindings } from './activationDiagnostics';
import { planFixText, wholeModelDiagnostic, WHOLE_MODEL_CODE, type PlanFix as Fix } from './planBudgetDiagnostics';

/** Plan files. */
export const PLAN_SELECTOR: vscode.DocumentSelector = { pattern: '**/*.qplan.json' };
const isPlan = (uri: vscode.Uri): boolean => uri.path.toLowerCase().endsWith('.qplan.json');

const toRange = (r: { line: number; character: number; endLine: number; endCharacter: number }): vscode.Range =>
  new vscode.Range(r.line, r.character, r.endLine, r.endCharacter);

/** Errors on the plan keys that name neither a quantizable weight nor a layer of the evaluated model. */
function unknownLayerDiagnostics(
  parsed: ParsedPlan,
  plan: QuantPlan,
  stored: StoredResults,
  layers: LayerResult[],
): vscode.Diagnostic[] {
  return unknownLayers(
    plan,
    layers.map((l) => ({ name: l.weight, layers: l.layers })),
  ).map((key) => {
    const d = new vscode.Diagnostic(
      toRange(parsed.json.rangeOf(layerPointer(key), true)),
      vscode.l10n.t(
        "'{0}' is neither a quantizable weight nor a layer of {1}.",
        key,
        path.basename(stored.model.fsPath),
      ),
      vscode.DiagnosticSeverity.Error,
    );
    d.source = 'QuantLens';
    return d;
  });
}

/**
 * A Warning where the plan sets a layer to a scheme that broke the budget when measured alone (on the layer's
 * entry, else on the default), with its quick fixes; undefined when the layer's scheme met the budget.
 */
function sensitiveLayerFinding(
  parsed: ParsedPlan,
  plan: QuantPlan,
  stored: StoredResults,
  layer: LayerResult,
): { diagnostic: vscode.Diagnostic; fixes: Fix[] } | undefined {
  const entry = planEntry(plan, { name: layer.weight, layers: layer.layers });
  if (entry.scheme === KEEP_FLOAT) return undefined;
  const measured = layer.oneAtATime[entry.scheme];
  if (!measured || measured.meetsBudget) return undefined;
  const { results } = stored;
  const budget = layerBudget(results.budget, results.thresholds);
  const bigEnough = results.slices.filter((s) => s.n >= results.thresholds.minSliceSize).map((s) => s.name);
  const violation = bigEnough
    .flatMap((s) => readSlice(s, measured.metrics[s], budget).violations)
    .sort((a, b) => b.value / b.limit - a.value / a.limit)[0];
  const range = toRange(
    entry.key !== undefined
      ? parsed.json.rangeOf(layerPointer(entry.key), true)
      : parsed.json.rangeOf('/default', true),
  );
  const where = entry.key !== undefined ? '' : vscode.l10n.t(' (through the default)');
  const diagnostic = new vscode.Diagnostic(
    range,
    vscode.l10n.t(
      '{0} on {1}{2} breaks the budget: {3} on slice {4} (measured with only this layer quantized, {5}).',
      entry.scheme,
      layer.layer,
      where,
      violation ? describeViolation(violation) : '',
      violation?.slice ?? measured.worst.slice,
      path.basename(stored.file.fsPath),
    ),
    vscode.DiagnosticSeverity.Warning,
  );
  diagnostic.source = 'QuantLens';
  diagnostic.code = 'sensitive-layer';
  return { diagnostic, fixes: schemeFixes(entry.key ?? layer.layer, entry.scheme, layer) };
}

/** Quick fixes for a layer whose scheme broke the budget: the cheapest scheme that met it, and fp16. */
function schemeFixes(target: string, scheme: string, layer: LayerResult): Fix[] {
  const cheapest = passingSchemes(layer).filter((s) => s !== scheme)[0];
  const list: Fix[] = [];
  if (cheapest)
    list.push({
      layer: target,
      scheme: cheapest,
      preferred: true,
      title: vscode.l10n.t('Use {0} for {1} (cheapest scheme that met the budget)', cheapest, target),
    });
  if (cheapest !== 'fp16')
    list.push({
      layer: target,
      scheme: 'fp16',
      preferred: !cheapest,
      title: vscode.l10n.t('Use fp16 for {0}', target),
    });
  return list;
}

/** A new plan's text, marked as made by QuantLens (`generatedBy`) so that it may later be replaced unasked. */
export function markedPlanText(model: string, defaultScheme: string, layers: Record<string, string>): string {
  const plan = JSON.parse(newPlanText(model, defaultScheme, layers)) as Record<string, unknown>;
  return `${JSON.stringify({ generatedBy: GENERATED_BY, ...plan }, null, 2)}\n`;
}

/** The plan file an evaluation creates or extends: `<spec stem>.qplan.json` next to the spec. */
export function planFileFor(spec: vscode.Uri): vscode.Uri {
  return vscode.Uri.file(
    path.join(path.dirname(spec.fsPath), `${path.basename(spec.fsPath).replace(/\.quantlens\.json$/i, '')}.qplan.json`),
  );
}

/** Schemes a layer met the budget with, alone, cheapest first. */
function passingSchemes(layer: LayerResult): string[] {
  return Object.entries(layer.oneAtATime)
    .filter(([, r]) => r.meetsBudget)
    .map(([s]) => s)
    .sort((a, b) => (layer.bytes[a] ?? Infinity) - (layer.bytes[b] ?? Infinity));
}

/** Validates plan documents against the latest results and offers the quick fixes. */
export class PlanFiles implements vscode.Disposable, vscode.CodeActionProvider {
  static readonly providedCodeActionKinds = [vscode.CodeActionKind.QuickFix];
  private readonly collection = vscode.languages.createDiagnosticCollection('quantlens-plan');
  private readonly fixes = new Map<string, { range: vscode.Range; fixes: Fix[] }[]>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly store: EvaluationStore) {
    this.disposables.push(
      vscode.languages.registerCodeActionsProvider(PLAN_SELECTOR, this, {
        providedCodeActionKinds: PlanFiles.providedCodeActionKinds,
      }),
      vscode.workspace.onDidOpenTextDocument((d) => this.validate(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.validate(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (isPlan(d.uri)) {
          this.collection.delete(d.uri);
          this.fixes.delete(d.uri.toString());
        }
      }),
      store.onDidChange(() => vscode.workspace.textDocuments.forEach((d) => this.validate(d))),
    );
    vscode.workspace.textDocuments.forEach((d) => this.validate(d));
  }

  /** Creates the plan next to the spec (every layer at the most aggressive measured scheme) or adds missing layers. */
  async updateFromResults(stored: StoredResults): Promise<vscode.Uri | undefined> {
    const sensitivity = stored.results.sensitivity;
    if (!sensitivity || sensitivity.schemes.length === 0) return undefined;
    const uri = planFileFor(stored.spec);
    // Never from a scheme measured to break the budget on the whole model (issue 17, "the plan trap").
    const aggressive = newPlanScheme(stored.results, sensitivity.rankScheme);
    // lstat first: a symlink (dangling or not) is neither read nor written through.
    const state = uri.scheme === 'file' ? (await targetState(uri.fsPath)).kind : 'file';
    if (state === 'symlink' || state === 'other') {
      throw new WriteRefused(`${uri.fsPath} is not a regular file; QuantLens does not write the plan there.`);
    }
    let text: string | undefined;
    try {
      text = state === 'missing' ? undefined : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      text = undefined;
    }
    if (text === undefined) {
      const model = path.relative(path.dirname(uri.fsPath), stored.model.fsPath).split(path.sep).join('/');
      const layers = Object.fromEntries(sensitivity.layers.map((l) => [l.layer, aggressive]));
      const written = await writeFileSafely(uri, markedPlanText(model, aggressive, layers), {
        folder: path.dirname(stored.spec.fsPath),
      });
      return written ? uri : undefined;
    }
    const parsed = parsePlan(text);
    if (!parsed.plan) return uri; // the user's file has problems: leave it as it is (its diagnostics say what)
    const plan = parsed.plan;
    const missing = sensitivity.layers.filter(
      (l) => planEntry(plan, { name: l.weight, layers: l.layers }).key === undefined,
    );
    if (missing.length > 0) {
      const document = await vscode.workspace.openTextDocument(uri);
      const edit = new vscode.WorkspaceEdit();
      const current = missing.reduce((t, l) => setLayerScheme(t, l.layer, plan.default), document.getText());
      edit.replace(
        uri,
        new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)),
        current,
      );
      await vscode.workspace.applyEdit(edit);
      await document.save();
    }
    return uri;
  }

  /** The results of the model a plan names (its `model`, relative to the plan). */
  private resultsFor(document: vscode.TextDocument, model: string | undefined): StoredResults | undefined {
    if (model) return this.store.get(vscode.Uri.file(path.resolve(path.dirname(document.uri.fsPath), model)));
    return this.store.all().find((s) => planFileFor(s.spec).toString() === document.uri.toString());
  }

  /** Re-validates one plan document. */
  validate(document: vscode.TextDocument): void {
    if (!isPlan(document.uri)) return;
    const parsed = parsePlan(document.getText());
    const diagnostics: vscode.Diagnostic[] = parsed.problems.map((p) => {
      const d = new vscode.Diagnostic(toRange(p.range), p.message, vscode.DiagnosticSeverity.Error);
      d.source = 'QuantLens';
      return d;
    });
    const fixes: { range: vscode.Range; fixes: Fix[] }[] = [];
    const plan = parsed.plan;
    const stored = plan ? this.resultsFor(document, plan.model) : undefined;
    const layers = stored?.results.sensitivity?.layers;
    if (plan && stored && layers) {
      diagnostics.push(...unknownLayerDiagnostics(parsed, plan, stored, layers));
      for (const layer of layers) {
        const finding = sensitiveLayerFinding(parsed, plan, stored, layer);
        if (!finding) continue;
        diagnostics.push(finding.diagnostic);
        fixes.push({ range: finding.diagnostic.range, fixes: finding.fixes });
      }
      for (const finding of activationPlanFindings(parsed, plan, stored)) {
        diagnostics.push(finding.diagnostic);
        fixes.push({ range: finding.diagnostic.range, fixes: finding.fixes });
      }
      const whole = wholeModelDiagnostic(document, plan, parsed.json, stored);
      if (whole) {
        diagnostics.push(whole.diagnostic);
        fixes.push({ range: whole.diagnostic.range, fixes: whole.fixes });
      }
    }
    this.collection.set(document.uri, diagnostics);
    this.fixes.set(document.uri.toString(), fixes);
  }

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    const diagnostics = this.collection.get(document.uri) ?? [];
    for (const entry of this.fixes.get(document.uri.toString()) ?? []) {
      if (!entry.range.intersection(range) && !entry.range.contains(range.start)) continue;
      const diagnostic = diagnostics.find(
        (d) =>
          d.range.isEqual(entry.range) &&
          [ACTIVATION_CODE, 'sensitive-layer', WHOLE_MODEL_CODE].includes(String(d.code)),
      );
      for (const fix of entry.fixes) {
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        action.isPreferred = fix.preferred;
        if (diagnostic) action.diagnostics = [diagnostic];
        const edit = new vscode.WorkspaceEdit();
        if (fix.also || fix.setDefault) {
          const text = document.getText();
          const end = document.positionAt(text.length);
          edit.replace(document.uri, new vscode.Range(document.positionAt(0), end), planFixText(text, fix));
          action.edit = edit;
          actions.push(action);
          continue;
        }
        for (const e of setLayerSchemeEdits(document.getText(), fix.layer, fix.scheme)) {
          edit.replace(
            document.uri,
            new vscode.Range(document.positionAt(e.offset), document.positionAt(e.offset + e.length)),
            e.content,
          );
        }
        action.edit = edit;
        actions.push(action);
      }
    }
    return actions;
  }

  dispose(): void {
    this.collection.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
