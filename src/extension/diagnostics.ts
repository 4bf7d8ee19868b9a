/** Problems-panel entries for models QuantLens cannot read. */
import * as vscode from 'vscode';
import type { ModelErrorInfo } from '../core/onnx/errors';

/** Owns the 'quantlens' DiagnosticCollection. */
export class ModelDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('quantlens');

  /** Reports a model that could not be read, as an Error on the file. */
  setError(uri: vscode.Uri, error: ModelErrorInfo): void {
    const diagnostic = new vscode.Diagnostic(
      new vscode.Range(0, 0, 0, 0),
      error.message,
      vscode.DiagnosticSeverity.Error,
    );
    diagnostic.source = 'QuantLens';
    diagnostic.code = error.code;
    this.collection.set(uri, [diagnostic]);
  }

  /** Removes what QuantLens reported on a file. */
  clear(uri: vscode.Uri): void {
    this.collection.delete(uri);
  }

  dispose(): void {
    this.collection.dispose();
  }
}
