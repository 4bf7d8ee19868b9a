/**
 * `QuantLens: Run Slice Evaluation`: finds the spec, checks workspace trust, runs it in the inference child
 * process with a cancellable progress notification, writes the results next to the spec, and hands them to
 * diagnostics, the plan file and the results view. Bad specs become diagnostics on the spec's lines.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileSafely } from './safeWriteUi';
import { finiteReplacer, resultsFileName, type EvalResults } from '../core/eval/results';
import { SpecError } from '../core/eval/spec';
import { DEFAULT_THRESHOLDS, hasLimits, type Thresholds } from '../core/eval/verdict';
import { plural } from '../core/eval/describe';
import { evaluateInChild } from '../node/eval/evalClient';
import type { ExtraModel } from '../node/eval/evalCheck';
import type { EvalProgress } from '../node/eval/evaluate';
import { createSpec } from './createSpec';
import { modelOf, type EvaluationStore, type StoredResults } from './evaluationStore';
import type { Log } from './log';

/** Files of evaluation specs. */
export const SPEC_GLOB = '**/*.quantlens.json';

/** The sensitivity thresholds from the settings. */
export function configuredThresholds(): Thresholds {
  const c = vscode.workspace.getConfiguration('quantlens.sensitivity');
  return {
    accuracyDrop: c.get('accuracyDrop', DEFAULT_THRESHOLDS.accuracyDrop),
    kl: c.get('kl', DEFAULT_THRESHOLDS.kl),
    increase: c.get('increase', DEFAULT_THRESHOLDS.increase),
    minSliceSize: c.get('minSliceSize', DEFAULT_THRESHOLDS.minSliceSize),
  };
}

const isSpec = (uri: vscode.Uri): boolean => uri.path.toLowerCase().endsWith('.quantlens.json');

/** The spec to run: the argument, the active spec editor, or a spec naming the model given/shown; asks when several. */
async function findSpec(
  arg: vscode.Uri | undefined,
  create: (model: vscode.Uri) => Promise<unknown>,
): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  const tabInput = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const activeCustom = tabInput instanceof vscode.TabInputCustom ? tabInput.uri : undefined;
  const target = arg ?? (active && isSpec(active) ? active : (activeCustom ?? active));
  if (target && isSpec(target)) return target;
  const specs = await vscode.workspace.findFiles(SPEC_GLOB, '**/node_modules/**', 500);
  let candidates = specs;
  if (target?.path.toLowerCase().endsWith('.onnx')) {
    const naming: vscode.Uri[] = [];
    for (const spec of specs) {
      try {
        const model = (
          JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(spec))) as { model?: string }
        ).model;
        if (model && path.resolve(path.dirname(spec.fsPath), model) === target.fsPath) naming.push(spec);
      } catch {
        // A spec that does not parse is not a candidate; running it directly shows its errors.
      }
    }
    if (naming.length === 0) {
      const createLabel = vscode.l10n.t('Create Spec');
      const choice = await vscode.window.showInformationMessage(
        vscode.l10n.t(
          'No evaluation spec (*.quantlens.json) names {0}. Create one next to the model?',
          path.basename(target.fsPath),
        ),
        createLabel,
      );
      if (choice === createLabel) await create(target);
      return undefined;
    }
    candidates = naming;
  }
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t(
        'No evaluation spec (*.quantlens.json) in this workspace. Open a model and run the command to create one.',
      ),
    );
    return undefined;
  }
  if (candidates.length === 1) return candidates[0];
  const pick = await vscode.window.showQuickPick(
    candidates.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    {
      placeHolder: vscode.l10n.t('Which evaluation spec?'),
    },
  );
  return pick?.uri;
}

/** Reports the child's progress in the notification: runs done, the phase's message and an estimate of the time left. */
function progressReporter(
  progress: vscode.Progress<{ message?: string; increment?: number }>,
): (p: EvalProgress) => void {
  let reported = 0;
  const started = Date.now();
  return (p) => {
    if (p.phase !== 'running' || p.total === 0) {
      progress.report({ message: p.message });
      return;
    }
    const fraction = p.done / p.total;
    const elapsed = (Date.now() - started) / 1000;
    const eta = fraction > 0.02 ? Math.max(0, (elapsed / fraction) * (1 - fraction)) : undefined;
    progress.report({
      increment: (fraction - reported) * 100,
      message: `${p.done}/${p.total} runs · ${p.message}${eta !== undefined ? ` · ${vscode.l10n.t('about {0} s left', Math.ceil(eta))}` : ''}`,
    });
    reported = fraction;
  };
}

/** Runs evaluations and reports their outcome. */
export class EvaluationRunner implements vscode.Disposable {
  private readonly specDiagnostics = vscode.languages.createDiagnosticCollection('quantlens-spec');
  private readonly running = new Map<string, Promise<StoredResults | undefined>>();
  private readonly aborts = new Set<AbortController>();

  constructor(
    private readonly childEntry: string,
    private readonly version: string,
    private readonly store: EvaluationStore,
    private readonly log: Log,
    private readonly onResults: (stored: StoredResults) => Promise<void>,
  ) {}

  /** The command: find the spec, check trust, run. Resolves with the stored results (undefined when not run). */
  async command(arg?: vscode.Uri): Promise<StoredResults | undefined> {
    if (!(await this.trusted())) return undefined;
    const spec = await findSpec(arg instanceof vscode.Uri ? arg : undefined, (model) => this.createSpec(model));
    return spec ? this.run(spec) : undefined;
  }

  /** Runs a spec (with `plans` as extra variants) once the workspace is trusted. */
  async runTrusted(spec: vscode.Uri, plans: vscode.Uri[] = []): Promise<StoredResults | undefined> {
    return (await this.trusted()) ? this.run(spec, plans) : undefined;
  }

  /** Whether the workspace is trusted; else offers to manage trust. */
  private async trusted(): Promise<boolean> {
    if (!vscode.workspace.isTrusted) {
      const manage = vscode.l10n.t('Manage Workspace Trust');
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t(
          'Slice evaluation runs the model and reads the data its spec names, so it needs a trusted workspace. The inspector works without trust.',
        ),
        manage,
      );
      if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
      return false;
    }
    return true;
  }

  /** Writes a starter spec for a model (`data` skips the file dialog); see createSpec.ts. */
  createSpec(model: vscode.Uri, data?: vscode.Uri): Promise<vscode.Uri | undefined> {
    // The overview worker sits next to the evaluation child in dist/.
    const worker = path.join(path.dirname(this.childEntry), 'overviewWorker.js');
    return createSpec(model, worker, this.log, data);
  }

  /** Cancels every running evaluation (as the notification's Cancel button does); returns how many. */
  cancelAll(): number {
    const n = this.aborts.size;
    this.aborts.forEach((a) => a.abort(new vscode.CancellationError()));
    return n;
  }

  /**
   * Runs one spec, with `plans` and `models` (model files, e.g. an export) added as variants (a second request for a
   * running spec joins the running one).
   */
  run(spec: vscode.Uri, plans: vscode.Uri[] = [], models: ExtraModel[] = []): Promise<StoredResults | undefined> {
    const key = [...[spec, ...plans].map((u) => u.toString()), ...models.map((m) => m.file)].join('|');
    let pending = this.running.get(key);
    if (!pending) {
      pending = this.runOnce(spec, plans, models).finally(() => this.running.delete(key));
      this.running.set(key, pending);
    }
    return pending;
  }

  private async runOnce(
    spec: vscode.Uri,
    plans: vscode.Uri[],
    models: ExtraModel[],
  ): Promise<StoredResults | undefined> {
    // Unsaved edits of the spec are what the user means to run.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === spec.toString());
    if (open?.isDirty) await open.save();
    const name = path.basename(spec.fsPath);
    const extras = [...plans.map((p) => p.fsPath), ...models.map((m) => m.file)].map((f) => path.basename(f));
    const withPlans = extras.length > 0 ? ` with ${extras.join(', ')}` : '';
    this.log.info(`Evaluation of ${spec.fsPath}${withPlans} started`);
    try {
      const results = await this.evaluateWithProgress(spec, name, plans, models);
      this.specDiagnostics.delete(spec);
      return await this.storeResults(spec, name, results, plans);
    } catch (error) {
      if (error instanceof vscode.CancellationError || (error instanceof Error && error.name === 'Canceled')) {
        this.log.info(`Evaluation of ${name} cancelled`);
        void vscode.window.showInformationMessage(
          vscode.l10n.t('QuantLens evaluation of {0} cancelled: no results written.', name),
        );
        return undefined;
      }
      if (error instanceof SpecError) {
        this.reportSpecError(spec, name, error);
        throw error;
      }
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(`Evaluation of ${name} failed: ${message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('QuantLens evaluation of {0} failed: {1}', name, message));
      throw error;
    }
  }

  /** Runs the spec in the child process under a cancellable progress notification. */
  private async evaluateWithProgress(
    spec: vscode.Uri,
    name: string,
    plans: vscode.Uri[],
    models: ExtraModel[],
  ): Promise<EvalResults> {
    return await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('QuantLens: evaluating {0}', name),
        cancellable: true,
      },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort(new vscode.CancellationError()));
        this.aborts.add(abort);
        return evaluateInChild(this.childEntry, spec.fsPath, {
          extraPlans: plans.map((p) => p.fsPath),
          extraModels: models,
          signal: abort.signal,
          thresholds: configuredThresholds(),
          threads: vscode.workspace.getConfiguration('quantlens.evaluation').get<number>('threads') || undefined,
          version: this.version,
          onSpawn: (pid) => this.log.info(`Evaluation of ${name} runs in process ${pid}`),
          onProgress: progressReporter(progress),
        }).finally(() => this.aborts.delete(abort));
      },
    );
  }

  /** Writes the results file next to the spec (its own file when plans were added), stores the results and hands them on. */
  private async storeResults(
    spec: vscode.Uri,
    name: string,
    results: EvalResults,
    plans: vscode.Uri[] = [],
  ): Promise<StoredResults> {
    const fileName = resultsFileName(
      name,
      plans.map((p) => path.basename(p.fsPath)),
    );
    const file = vscode.Uri.file(path.join(path.dirname(spec.fsPath), fileName));
    await writeFileSafely(file, `${JSON.stringify(results, finiteReplacer, 2)}\n`, {
      folder: path.dirname(spec.fsPath),
    });
    const stored: StoredResults = { results, file, spec, model: modelOf(file, results) };
    this.store.set(stored);
    this.log.info(
      `Evaluation of ${name}: ${results.timings.runs} runs in ${(results.timings.totalMs / 1000).toFixed(2)} s; ${plural(results.flags.length, 'sensitive layer')}; ${!hasLimits(results.budget) ? 'no budget set' : results.budgetViolated ? 'budget violated' : 'budget met'}`,
    );
    await this.onResults(stored);
    void this.announce(stored);
    return stored;
  }

  /** A bad spec: diagnostics on its lines and an error message that can show the first problem. */
  private reportSpecError(spec: vscode.Uri, name: string, error: SpecError): void {
    const rangeOf = (p: SpecError['problems'][number]): vscode.Range =>
      new vscode.Range(p.range.line, p.range.character, p.range.endLine, p.range.endCharacter);
    this.specDiagnostics.set(
      spec,
      error.problems.map((p) => {
        const d = new vscode.Diagnostic(rangeOf(p), p.message, vscode.DiagnosticSeverity.Error);
        d.source = 'QuantLens';
        d.code = 'spec';
        return d;
      }),
    );
    this.log.error(`Evaluation of ${name} not started: ${error.message}`);
    const show = vscode.l10n.t('Show Problem');
    const first = error.problems[0];
    void vscode.window
      .showErrorMessage(vscode.l10n.t('{0}, line {1}: {2}', name, first.range.line + 1, first.message), show)
      .then(async (choice) => {
        if (choice !== show) return;
        const editor = await vscode.window.showTextDocument(spec);
        const range = rangeOf(first);
        editor.selection = new vscode.Selection(range.start, range.end);
        editor.revealRange(range);
      });
  }

  private async announce(stored: StoredResults): Promise<void> {
    const r: EvalResults = stored.results;
    const violated = r.variants.filter((v) => v.violations.length > 0).map((v) => v.label);
    const text = [
      vscode.l10n.t('Evaluated {0} samples in {1} s.', r.data.evaluated, (r.timings.totalMs / 1000).toFixed(1)),
      r.flags.length > 1
        ? vscode.l10n.t('{0} sensitive layers in Problems.', r.flags.length)
        : r.flags.length === 1
          ? vscode.l10n.t('1 sensitive layer in Problems.')
          : vscode.l10n.t('No sensitive layer.'),
      !hasLimits(r.budget)
        ? vscode.l10n.t('No budget set in the spec.')
        : violated.length > 0
          ? vscode.l10n.t('Budget violated by {0}.', violated.join(', '))
          : vscode.l10n.t('No variant violates the budget.'),
    ].join(' ');
    const show = vscode.l10n.t('Show Results');
    const choice = await vscode.window.showInformationMessage(text, show);
    if (choice === show) await vscode.commands.executeCommand('quantlens.showResults', stored.model);
  }

  dispose(): void {
    this.specDiagnostics.dispose();
  }
}

/** `quantlens.createSpec` (model?, data?) and `quantlens.cancelEvaluation`. */
export function registerEvaluationCommands(runner: EvaluationRunner): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('quantlens.createSpec', async (arg?: vscode.Uri, data?: vscode.Uri) => {
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      const active = tab instanceof vscode.TabInputCustom || tab instanceof vscode.TabInputText ? tab.uri : undefined;
      const isOnnx = (u: vscode.Uri | undefined): u is vscode.Uri => !!u && u.path.toLowerCase().endsWith('.onnx');
      const model = isOnnx(arg)
        ? arg
        : isOnnx(active)
          ? active
          : (
              await vscode.window.showOpenDialog({
                canSelectMany: false,
                filters: { [vscode.l10n.t('ONNX models')]: ['onnx'] },
                title: vscode.l10n.t('QuantLens: the model to write an evaluation spec for'),
              })
            )?.[0];
      if (!model) return undefined;
      try {
        return await runner.createSpec(model, data instanceof vscode.Uri ? data : undefined);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        void vscode.window.showErrorMessage(vscode.l10n.t('QuantLens could not create a spec: {0}', message));
        return undefined;
      }
    }),
    vscode.commands.registerCommand('quantlens.cancelEvaluation', () => runner.cancelAll()),
  ];
}
