/**
 * The plan file's whole-model warning: a plan whose measured whole-model result breaks the budget gets a Warning
 * on its default line, with a Quick Fix to the most aggressive whole-model scheme that met it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { JsonText } from '../core/eval/jsonLocation';
import { setLayerScheme, type QuantPlan } from '../core/eval/plan';
import { planBudgetBreak, planFixKeys } from '../core/eval/planBudget';
import { describeViolation } from '../core/eval/verdict';
import { applyEdits, modify } from 'jsonc-parser';
import type { StoredResults } from './evaluationStore';

/** Diagnostic code of the whole-model warning. */
export const WHOLE_MODEL_CODE = 'plan-over-budget';

/** A quick fix offered on a diagnostic: set `layer` (and `also`, and the default when `setDefault`) to `scheme`. */
export interface PlanFix {
  layer: string;
  scheme: string;
  title: string;
  preferred: boolean;
  also?: string[];
  setDefault?: boolean;
}

/** The plan text after a fix (every key it names, and the default when asked, set to its scheme). */
export function planFixText(text: string, fix: PlanFix): string {
  let out = [fix.layer, ...(fix.also ?? [])]
    .filter((k) => k !== '')
    .reduce((t, k) => setLayerScheme(t, k, fix.scheme), text);
  if (fix.setDefault) {
    const eol = out.includes('\r\n') ? '\r\n' : '\n';
    out = applyEdits(
      out,
      modify(out, ['default'], fix.scheme, { formattingOptions: { insertSpaces: true, tabSize: 2, eol } }),
    );
  }
  return out;
}

/** The id a spec gave this plan as a variant (`plan:<path as written>`), if the run evaluated it. */
function planVariantId(document: vscode.TextDocument, stored: StoredResults): string | undefined {
  const dir = path.dirname(stored.spec.fsPath);
  return stored.results.variants.find(
    (v) => v.kind === 'plan' && path.resolve(dir, v.id.slice('plan:'.length)) === document.uri.fsPath,
  )?.id;
}

/** The whole-model warning of a plan and its fixes, when its measured whole-model result breaks the budget. */
export function wholeModelDiagnostic(
  document: vscode.TextDocument,
  plan: QuantPlan,
  json: JsonText,
  stored: StoredResults,
): { diagnostic: vscode.Diagnostic; fixes: PlanFix[] } | undefined {
  const broken = planBudgetBreak(plan, stored.results, planVariantId(document, stored));
  if (!broken) return undefined;
  const r = json.rangeOf('/default', true);
  const range = new vscode.Range(r.line, r.character, r.endLine, r.endCharacter);
  const file = path.basename(stored.file.fsPath);
  const what =
    broken.measured.kind === 'plan'
      ? vscode.l10n.t('This plan, evaluated as a whole,')
      : vscode.l10n.t('{0} on every layer (the whole model)', broken.measured.scheme);
  const diagnostic = new vscode.Diagnostic(
    range,
    vscode.l10n.t(
      '{0} breaks the budget: {1} on slice {2} (measured on the whole model, {3}).',
      what,
      describeViolation(broken.violation),
      broken.violation.slice,
      file,
    ),
    vscode.DiagnosticSeverity.Warning,
  );
  diagnostic.source = 'QuantLens';
  diagnostic.code = WHOLE_MODEL_CODE;
  const fixes: PlanFix[] = [];
  if (broken.fix) {
    const from = broken.measured.kind === 'scheme' ? broken.measured.scheme : plan.default;
    fixes.push({
      layer: '',
      also: planFixKeys(plan, from),
      setDefault: true,
      scheme: broken.fix,
      preferred: true,
      title: vscode.l10n.t(
        'Use {0} instead of {1} (the most aggressive whole-model scheme that met the budget)',
        broken.fix,
        from,
      ),
    });
  }
  return { diagnostic, fixes };
}
