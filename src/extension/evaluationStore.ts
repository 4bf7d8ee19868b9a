/**
 * The latest evaluation results per model: read from `*.results.json` files (so Problems entries come back
 * after a reload) or set by a run. Turns flagged layers into Problems-panel diagnostics on the model file.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseResults, type EvalResults } from '../core/eval/results';
import type { Log } from './log';
import { activationModelDiagnostics } from './activationDiagnostics';

/** Results and where they came from. */
export interface StoredResults {
  results: EvalResults;
  /** The results file (next to the spec). */
  file: vscode.Uri;
  spec: vscode.Uri;
  model: vscode.Uri;
}

/** Resolves the model a results file describes (its path is relative to the spec, which sits next to it). */
export function modelOf(resultsFile: vscode.Uri, results: EvalResults): vscode.Uri {
  return vscode.Uri.file(path.resolve(path.dirname(resultsFile.fsPath), results.model.file));
}

/** The command URI that opens the inspector on a layer (used as the diagnostic's code link). */
export function revealLayerUri(model: vscode.Uri, weight: string, scheme: string): vscode.Uri {
  return vscode.Uri.parse(
    `command:quantlens.revealLayer?${encodeURIComponent(JSON.stringify([model.toString(), weight, scheme]))}`,
  );
}

/** Owns the 'quantlens-sensitivity' diagnostics and the results per model. */
export class EvaluationStore implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('quantlens-sensitivity');
  private readonly byModel = new Map<string, StoredResults>();
  private readonly changed = new vscode.EventEmitter<StoredResults>();
  /** Fires when a model's results change. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: Log) {}

  /** Results of a model, if any run or results file is known. */
  get(model: vscode.Uri): StoredResults | undefined {
    return this.byModel.get(model.toString());
  }

  /** Every model with results. */
  all(): StoredResults[] {
    return [...this.byModel.values()];
  }

  /** Records a run's results and updates the model's diagnostics. */
  set(stored: StoredResults): void {
    this.byModel.set(stored.model.toString(), stored);
    this.collection.set(stored.model, this.diagnosticsOf(stored));
    this.changed.fire(stored);
  }

  /** Reads a results file (ignored with a log line when it is not one). */
  async load(file: vscode.Uri): Promise<StoredResults | undefined> {
    try {
      const results = parseResults(new TextDecoder().decode(await vscode.workspace.fs.readFile(file)));
      if (results.format !== 'quantlens-eval-results') return undefined;
      const stored = {
        results,
        file,
        spec: vscode.Uri.file(path.join(path.dirname(file.fsPath), results.spec.file)),
        model: modelOf(file, results),
      };
      const known = this.get(stored.model);
      if (!known || known.results.createdAt <= results.createdAt) this.set(stored);
      return stored;
    } catch (error) {
      this.log.warn(`Skipped ${file.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  /** Loads every results file of the workspace (the Problems panel shows flags after a reload). */
  async loadWorkspace(): Promise<void> {
    const files = await vscode.workspace.findFiles('**/*.results.json', '**/node_modules/**', 200);
    await Promise.all(files.map((f) => this.load(f)));
  }

  private diagnosticsOf(stored: StoredResults): vscode.Diagnostic[] {
    return [...this.flagDiagnostics(stored), ...activationModelDiagnostics(stored)];
  }

  private flagDiagnostics(stored: StoredResults): vscode.Diagnostic[] {
    return stored.results.flags.map((flag) => {
      const d = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 0), flag.message, vscode.DiagnosticSeverity.Warning);
      d.source = 'QuantLens';
      d.code = { value: 'sensitive-layer', target: revealLayerUri(stored.model, flag.weight, flag.scheme) };
      d.relatedInformation = [
        new vscode.DiagnosticRelatedInformation(
          new vscode.Location(stored.spec, new vscode.Position(0, 0)),
          `Measured by ${path.basename(stored.spec.fsPath)} on ${stored.results.data.evaluated} samples (${path.basename(stored.file.fsPath)})`,
        ),
      ];
      return d;
    });
  }

  dispose(): void {
    this.collection.dispose();
    this.changed.dispose();
  }
}
