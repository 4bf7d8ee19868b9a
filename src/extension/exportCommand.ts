/**
 * `QuantLens: Export Quantized Model…`: from a plan file (its model) or a model (a plan next to it or one
 * scheme), writes the quantized model in the export child process under a cancellable progress notification,
 * then verifies it there with onnxruntime when the workspace is trusted. A cancelled export leaves no file. With a
 * spec (given, or found next to the model or plan), the verified export is then evaluated on its slices next to the
 * simulation and shown in the results view (exportEvaluation.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parsePlan } from '../core/eval/plan';
import { DEFAULT_SCHEMES } from '../core/quant/schemes';
import { runExportChild } from '../node/export/exportClient';
import { quantizesActivations, weightSchemeId } from '../core/export/exportPlan';
import type { ExportResult } from '../node/export/exportModel';
import type { VerifyResult } from '../node/export/verifyExport';
import { WriteRefused } from '../node/safeWrite';
import type { EvaluationRunner } from './evaluation';
import { registerCompareCommand } from './exportCompare';
import { comparisonLine, evaluateExportOnSpec, exportSpecFor, type ExportEvaluationOutcome } from './exportEvaluation';
import { calibrationSpecs } from './exportSpecs';
import type { Log } from './log';

/** What the command did (also its return value, for tests and other extensions). */
export interface ExportOutcome {
  result: ExportResult;
  verification?: VerifyResult;
  /** Why there is no verification (an untrusted workspace, a failure). */
  verifyNote?: string;
  /** The export evaluated on a spec's slices next to its simulation (when a spec was given or found). */
  evaluation?: ExportEvaluationOutcome;
}

/** Options a caller may pass instead of being asked. */
export interface ExportCommandOptions {
  scheme?: string;
  plan?: vscode.Uri;
  accuracyLevel?: number;
  /**
   * The spec to evaluate the export on and, for activation schemes, whose calibration samples calibrate it
   * (default: one next to the model or plan naming the model; for activations the first calibrated one); false: none.
   */
  spec?: vscode.Uri | false;
}

type Request = { model: vscode.Uri; plan?: vscode.Uri; scheme?: string; spec?: vscode.Uri };

/** The model a plan names (relative to the plan). */
async function planModel(plan: vscode.Uri): Promise<vscode.Uri | undefined> {
  const parsed = parsePlan(new TextDecoder().decode(await vscode.workspace.fs.readFile(plan)));
  if (parsed.plan?.model) return vscode.Uri.file(path.resolve(path.dirname(plan.fsPath), parsed.plan.model));
  const picked = await vscode.window.showOpenDialog({
    title: vscode.l10n.t('The plan names no model: choose the .onnx model to export'),
    filters: { 'ONNX model': ['onnx'] },
    defaultUri: vscode.Uri.file(path.dirname(plan.fsPath)),
  });
  return picked?.[0];
}

/** A plan next to the model or one scheme, chosen by the user. */
async function choosePlanOrScheme(model: vscode.Uri): Promise<Omit<Request, 'model'> | undefined> {
  const folder = vscode.Uri.file(path.dirname(model.fsPath));
  const plans = (await vscode.workspace.fs.readDirectory(folder))
    .filter(([name]) => name.endsWith('.qplan.json'))
    .map(([name]) => ({ label: name, description: vscode.l10n.t('plan'), plan: vscode.Uri.joinPath(folder, name) }));
  const schemes = [...DEFAULT_SCHEMES, 'int8-channel-asym', 'int4-block32-asym', 'bf16', 'fp8-e5m2'].map((s) => ({
    label: s,
    description: vscode.l10n.t('every weight'),
    scheme: s,
  }));
  // W8A8 is offered where a spec can calibrate it: activation scales come from the user's data.
  const w8a8 = (await calibrationSpecs(model)).map((spec) => ({
    label: 'w8a8',
    description: vscode.l10n.t('int8 weights + uint8 activations, calibrated on {0}', path.basename(spec.fsPath)),
    scheme: 'w8a8',
    spec,
  }));
  const picked = await vscode.window.showQuickPick<
    vscode.QuickPickItem & { plan?: vscode.Uri; scheme?: string; spec?: vscode.Uri }
  >([...plans, ...schemes, ...w8a8], { title: vscode.l10n.t('Export {0} with', path.basename(model.fsPath)) });
  return picked ? { plan: picked.plan, scheme: picked.scheme, spec: picked.spec } : undefined;
}

/** What to export, from the argument, the options, the active editor, or by asking. */
async function resolveRequest(
  arg: vscode.Uri | undefined,
  options: ExportCommandOptions,
): Promise<Request | undefined> {
  const active = vscode.window.tabGroups.activeTabGroup.activeTab?.input as { uri?: vscode.Uri } | undefined;
  const uri = arg ?? options.plan ?? active?.uri;
  const spec = options.spec || undefined;
  if (uri?.fsPath.endsWith('.qplan.json')) {
    const model = await planModel(uri);
    return model ? { model, plan: uri, spec } : undefined;
  }
  let model = uri?.fsPath.endsWith('.onnx') ? uri : undefined;
  model ??= (
    await vscode.window.showOpenDialog({
      title: vscode.l10n.t('Choose the .onnx model to export'),
      filters: { 'ONNX model': ['onnx'] },
    })
  )?.[0];
  if (!model) return undefined;
  if (options.scheme) return { model, scheme: options.scheme, spec };
  const chosen = await choosePlanOrScheme(model);
  return chosen ? { model, ...chosen } : undefined;
}

/** Runs the export command. */
export class ExportCommand {
  constructor(
    private readonly childEntry: string,
    private readonly version: string,
    private readonly log: Log,
    private readonly runner?: EvaluationRunner,
  ) {}

  /** The command: resolves with what was exported (undefined when nothing was). */
  async command(arg?: vscode.Uri, options: ExportCommandOptions = {}): Promise<ExportOutcome | undefined> {
    const request = await resolveRequest(arg instanceof vscode.Uri ? arg : undefined, options);
    if (!request || !(await this.withCalibration(request))) return undefined;
    try {
      return await this.exportAndEvaluate(request, options, false);
    } catch (error) {
      if (error instanceof WriteRefused && error.needsConfirmation) {
        const overwrite = vscode.l10n.t('Overwrite');
        if ((await vscode.window.showWarningMessage(error.message, { modal: true }, overwrite)) !== overwrite) return;
        return await this.exportAndEvaluate(request, options, true);
      }
      if (error instanceof vscode.CancellationError || (error as { code?: string }).code === 'cancelled') return;
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(`Export of ${request.model.fsPath} failed: ${message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('QuantLens could not export the model: {0}', message));
      return undefined;
    }
  }

  /** Export and verify, then (verified, with a spec) evaluate on the spec's slices; notifies the outcome. */
  private async exportAndEvaluate(
    request: Request,
    options: ExportCommandOptions,
    force: boolean,
  ): Promise<ExportOutcome | undefined> {
    const outcome = await this.withProgress(request, options, force);
    if (!outcome) return undefined;
    if (this.runner && outcome.verification?.ok && options.spec !== false) {
      const spec = options.spec ?? request.spec ?? (await exportSpecFor(request));
      if (spec) {
        const from = { ...request, output: outcome.result.output, accuracyLevel: options.accuracyLevel ?? 0 };
        try {
          outcome.evaluation = await evaluateExportOnSpec(this.runner, spec, from);
        } catch {
          // The runner showed the spec's problems or the failure; the export stays, verified.
        }
        if (outcome.evaluation) this.log.info(`Export ${outcome.result.output}: ${comparisonLine(outcome.evaluation)}`);
      }
    }
    void this.notify(outcome);
    return outcome;
  }

  /**
   * An activation scheme or plan needs a spec to calibrate on (the first calibrated spec next to the model when
   * none was given) and a trusted workspace (calibration runs the model on the data); says why when not.
   */
  private async withCalibration(request: Request): Promise<boolean> {
    const plan = request.plan
      ? parsePlan(new TextDecoder().decode(await vscode.workspace.fs.readFile(request.plan))).plan
      : undefined;
    const ids = plan ? [plan.default, ...Object.values(plan.layers)] : [request.scheme ?? ''];
    if (!ids.some(quantizesActivations)) return true;
    request.spec ??= (await calibrationSpecs(request.model))[0];
    const problem = !request.spec
      ? vscode.l10n.t(
          'Activation quantization needs calibration on your data: add a spec (*.quantlens.json) for this model with a "calibration" block next to it.',
        )
      : !vscode.workspace.isTrusted
        ? vscode.l10n.t('Calibrating activations runs onnxruntime on your data: trust the workspace first.')
        : undefined;
    if (problem) void vscode.window.showErrorMessage(problem);
    return !problem;
  }

  /** Export, then verify when trusted, under one cancellable progress notification. */
  private withProgress(
    request: Request,
    options: ExportCommandOptions,
    force: boolean,
  ): Thenable<ExportOutcome | undefined> {
    const name = path.basename(request.model.fsPath);
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('QuantLens: exporting {0}', name),
        cancellable: true,
      },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort(new vscode.CancellationError()));
        const report = (what: string) => (p: { done: number; total: number }) =>
          progress.report({ message: `${what} ${p.done}/${p.total}` });
        const result = await runExportChild(
          this.childEntry,
          'export',
          {
            model: request.model.fsPath,
            plan: request.plan?.fsPath,
            scheme: request.scheme,
            spec: request.spec?.fsPath,
            accuracyLevel: options.accuracyLevel,
            force,
            version: this.version,
          },
          { signal: abort.signal, onProgress: report(vscode.l10n.t('weights')) },
        );
        this.log.info(
          `Exported ${result.source} -> ${result.output} (${result.outputBytes} bytes, ${Math.round(result.ms)} ms)`,
        );
        if (!vscode.workspace.isTrusted) {
          return { result, verifyNote: vscode.l10n.t('Not verified: running onnxruntime needs a trusted workspace.') };
        }
        const weights = result.weights
          .filter((w) => !w.leftFloat)
          .map((w) => ({ name: w.name, scheme: weightSchemeId(w.scheme) }));
        try {
          const verification = await runExportChild(
            this.childEntry,
            'verify',
            { source: result.source, output: result.output, opset: result.opset, weights },
            { signal: abort.signal, onProgress: report(vscode.l10n.t('verifying')) },
          );
          return { result, verification };
        } catch (error) {
          if (abort.signal.aborted) return { result, verifyNote: vscode.l10n.t('Verification cancelled.') };
          return { result, verifyNote: error instanceof Error ? error.message : String(error) };
        }
      },
    );
  }

  /** The result notification, with Open (in the inspector) and Reveal. */
  private async notify(outcome: ExportOutcome): Promise<void> {
    const { result, verification: v } = outcome;
    const file = path.basename(result.output);
    const verified = v
      ? v.ok
        ? vscode.l10n.t(
            'verified: {0} weight values equal the simulation bit for bit in onnxruntime; the model runs.',
            v.checked,
          )
        : vscode.l10n.t(
            'verification FAILED ({0} weights differ; runs: {1}).',
            v.mismatched,
            v.run.ok ? 'yes' : (v.run.error ?? 'no'),
          )
      : (outcome.verifyNote ?? '');
    const open = vscode.l10n.t('Open');
    const reveal = vscode.l10n.t('Reveal');
    const evaluated = outcome.evaluation ? ` ${comparisonLine(outcome.evaluation)}` : '';
    const message = vscode.l10n.t('Exported {0}: {1}', file, verified) + evaluated;
    this.log.info(message);
    const show = v && !v.ok ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    const choice = await show(message, open, reveal);
    const uri = vscode.Uri.file(result.output);
    if (choice === open) await vscode.commands.executeCommand('vscode.openWith', uri, 'quantlens.inspector');
    if (choice === reveal) await vscode.commands.executeCommand('revealInExplorer', uri);
  }
}

/** Registers `quantlens.exportModel` and `quantlens.compareWithOriginal` (both run in dist/exportProcess.js). */
export function registerExportCommands(
  context: vscode.ExtensionContext,
  log: Log,
  runner?: EvaluationRunner,
): vscode.Disposable[] {
  const entry = vscode.Uri.joinPath(context.extensionUri, 'dist', 'exportProcess.js').fsPath;
  const exporter = new ExportCommand(entry, String(context.extension.packageJSON.version), log, runner);
  return [
    vscode.commands.registerCommand('quantlens.exportModel', (arg?: vscode.Uri, options?: ExportCommandOptions) =>
      exporter.command(arg, options),
    ),
    registerCompareCommand(context),
  ];
}
