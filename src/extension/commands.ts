/** Command palette commands (category "QuantLens"). */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileSafely } from './safeWriteUi';
import { toJson, toMarkdown } from '../core/view/reportFormat';
import { configuredSchemes, type AnalysisService } from './analysisService';
import { INSPECTOR_VIEW_TYPE, type InspectorEditorProvider } from './inspectorEditor';
import type { Log } from './log';

const isOnnx = (uri: vscode.Uri | undefined): uri is vscode.Uri => !!uri && uri.path.toLowerCase().endsWith('.onnx');

/** The .onnx file of the active editor (text or custom), if any. */
function activeOnnx(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText) {
    return isOnnx(input.uri) ? input.uri : undefined;
  }
  return undefined;
}

/** The model a command acts on: its argument, the active editor's model, or one the user picks. */
async function modelFor(arg: unknown, openLabel: string): Promise<vscode.Uri | undefined> {
  const uri = isOnnx(arg as vscode.Uri | undefined) ? (arg as vscode.Uri) : activeOnnx();
  if (uri) return uri;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { [vscode.l10n.t('ONNX models')]: ['onnx'] },
    openLabel,
    title: vscode.l10n.t('QuantLens: choose an ONNX model'),
  });
  return picked?.[0];
}

/** Analyses a model with a cancellable progress notification and saves the report where the user chooses. */
async function exportReport(arg: unknown, service: AnalysisService, log: Log): Promise<void> {
  const uri = await modelFor(arg, vscode.l10n.t('Analyse Model'));
  if (!uri) return;
  const name = path.basename(uri.fsPath);
  let report;
  try {
    const schemes = configuredSchemes();
    report = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('QuantLens: analysing {0}', name),
        cancellable: true,
      },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort(new vscode.CancellationError()));
        return service.inspect(uri, schemes, { signal: abort.signal, onProgress: progressReporter(progress) });
      },
    );
  } catch (error) {
    if (error instanceof vscode.CancellationError) {
      log.info(`Analysis of ${uri.fsPath} cancelled`);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    log.error(`Analysis of ${uri.fsPath} failed: ${message}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('QuantLens could not analyse {0}: {1}', name, message));
    return;
  }
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(uri.fsPath.replace(/\.onnx$/i, '.quantlens-report.json')),
    filters: { JSON: ['json'], Markdown: ['md'] },
    title: vscode.l10n.t('Save the QuantLens report of {0}', name),
  });
  if (!target) return;
  if (target.fsPath === uri.fsPath) {
    void vscode.window.showErrorMessage(vscode.l10n.t('QuantLens never overwrites a model: choose another file name.'));
    return;
  }
  const text = target.fsPath.toLowerCase().endsWith('.md') ? toMarkdown(report, name) : `${toJson(report)}\n`;
  // The save dialog already asked before replacing a file; symlinks and special files are still refused.
  try {
    await writeFileSafely(target, text, { confirmed: true });
  } catch (error) {
    void vscode.window.showErrorMessage(error instanceof Error ? error.message : String(error));
    return;
  }
  log.info(`Saved the report of ${uri.fsPath} to ${target.fsPath}`);
}

const SCHEME_CHOICES = [
  'fp16',
  'bf16',
  'fp8-e4m3',
  'fp8-e5m2',
  'int8-tensor',
  'int8-channel',
  'int8-channel-asym',
  'int8-block128',
  'int6-channel',
  'int5-channel',
  'int4-channel',
  'int4-block128',
  'int4-block64',
  'int4-block32',
  'int4-block32-asym',
  'int4-block16',
  'int3-block32',
  'int2-block32',
];

/** Lets the user pick the schemes an inspector compares (or applies `ids` directly). */
async function chooseSchemes(arg: unknown, ids: unknown, inspectors: InspectorEditorProvider): Promise<void> {
  const uri = isOnnx(arg as vscode.Uri | undefined) ? (arg as vscode.Uri) : activeOnnx();
  const document = uri && inspectors.document(uri);
  if (!document) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Open a model in the QuantLens inspector first.'));
    return;
  }
  let chosen = Array.isArray(ids) ? ids.map(String) : undefined;
  if (!chosen) {
    const current = document.session.getStatus().schemes;
    const items = [...new Set([...current, ...SCHEME_CHOICES])].map((id) => ({
      label: id,
      picked: current.includes(id),
    }));
    const picked = await vscode.window.showQuickPick(items, {
      canPickMany: true,
      title: vscode.l10n.t('QuantLens: schemes to compare in {0}', path.basename(uri.fsPath)),
      placeHolder: vscode.l10n.t(
        'Any intN-{tensor|channel|blockB}[-asym] (N = 2..8, B = 16/32/64/128) can also be added in the inspector',
      ),
    });
    if (!picked || picked.length === 0) return;
    chosen = picked.map((p) => p.label);
  }
  await document.session.setSchemes(chosen);
}

/** Opens a model's inspector on a tab, with one weight (layer) selected under a scheme if given. */
async function reveal(
  uri: vscode.Uri,
  tab: 'layers' | 'heatmap',
  weight: string | undefined,
  scheme: string | undefined,
  inspectors: InspectorEditorProvider,
): Promise<void> {
  await vscode.commands.executeCommand('vscode.openWith', uri, INSPECTOR_VIEW_TYPE);
  const document = inspectors.document(uri);
  if (!document) return;
  // A layer flagged under a scheme the inspector does not compare yet (int3-block32...): add it, so the detail shows it.
  const status = document.session.getStatus();
  if (scheme && !status.schemes.includes(scheme)) {
    await document.session.setSchemes([...status.schemes, scheme]);
  }
  const view = document.session.savedView();
  const selection = { ...(weight ? { weight } : {}), ...(scheme ? { scheme } : {}) };
  await document.session.saveView({ ...(view ?? {}), tab, ...selection });
  inspectors.postTo(uri, { type: 'ui/reveal', tab, ...selection });
}

/** Registers QuantLens commands. */
export function registerCommands(
  log: Log,
  service: AnalysisService,
  inspectors: InspectorEditorProvider,
): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('quantlens.chooseSchemes', (arg?: vscode.Uri, ids?: string[]) =>
      chooseSchemes(arg, ids, inspectors).catch((error: unknown) => {
        void vscode.window.showErrorMessage(
          vscode.l10n.t('QuantLens: {0}', error instanceof Error ? error.message : String(error)),
        );
      }),
    ),
    // From a diagnostic's code link the model arrives as a string.
    vscode.commands.registerCommand(
      'quantlens.revealLayer',
      (uri: vscode.Uri | string, weight: string, scheme?: string) =>
        reveal(typeof uri === 'string' ? vscode.Uri.parse(uri) : uri, 'layers', weight, scheme, inspectors),
    ),
    vscode.commands.registerCommand('quantlens.showModelHeatmap', async (arg?: vscode.Uri) => {
      const uri = await modelFor(arg, vscode.l10n.t('Inspect Model'));
      if (uri) await reveal(uri, 'heatmap', undefined, undefined, inspectors);
    }),
    vscode.commands.registerCommand('quantlens.exportReport', (arg?: vscode.Uri) => exportReport(arg, service, log)),
    vscode.commands.registerCommand('quantlens.openInspector', async (arg?: vscode.Uri) => {
      const uri = await modelFor(arg, vscode.l10n.t('Inspect Model'));
      if (!uri) {
        return;
      }
      log.info(`Open Model Inspector: ${uri.fsPath}`);
      await vscode.commands.executeCommand('vscode.openWith', uri, INSPECTOR_VIEW_TYPE);
    }),
    vscode.commands.registerCommand('quantlens.showLog', () => log.channel.show()),
  ];
}

/** Reports analysis progress to a notification, at most ten times a second (a model may have 100k weights). */
function progressReporter(
  progress: vscode.Progress<{ message?: string; increment?: number }>,
): (p: { done: number; total: number; weight: string }) => void {
  let last = 0;
  let lastAt = 0;
  return ({ done, total, weight }) => {
    if (done < total && Date.now() - lastAt < 100) return;
    lastAt = Date.now();
    const pct = total ? (100 * done) / total : 100;
    progress.report({ increment: pct - last, message: vscode.l10n.t('{0} of {1} weights {2}', done, total, weight) });
    last = pct;
  };
}
