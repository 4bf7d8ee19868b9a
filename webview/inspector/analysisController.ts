/** The analysis bar's controller: scheme changes, cancel and resume, and what a new analysis status refreshes. */
import type { TemplateResult } from 'lit';
import { DEFAULT_SCHEMES } from '../../src/core/quant/schemes';
import type { AnalysisStatus } from '../../src/protocol';
import { request } from '../rpc';
import type { DetailController } from './detailController';
import type { ModelHeatmapController } from './modelHeatmapController';
import { analysisBar, type BarActions } from './schemesBar';
import type { InspectorState } from './state';
import type { TableController } from './tableController';
import { errorText, reportError, type Ui } from './ui';

/** Keeps the analysis status and refreshes the table, detail and model heatmap as it progresses. */
export class AnalysisController {
  private readonly actions: BarActions = {
    cancel: () => void request('analysis/cancel', {}).then((s) => this.setStatus(s), reportError),
    resume: () => void request('analysis/resume', {}).then((s) => this.setStatus(s), reportError),
    removeScheme: (id) => this.s.status && this.setSchemes(this.s.status.schemes.filter((x) => x !== id)),
    addScheme: (id) =>
      this.s.status && !this.s.status.schemes.includes(id) && this.setSchemes([...this.s.status.schemes, id]),
    resetSchemes: () => this.setSchemes([...DEFAULT_SCHEMES]),
    togglePicker: () => {
      this.s.pickerOpen = !this.s.pickerOpen;
      this.ui.update();
    },
  };

  constructor(
    private readonly s: InspectorState,
    private readonly ui: Ui,
    private readonly table: TableController,
    private readonly detail: DetailController,
    private readonly heatmap: ModelHeatmapController,
  ) {}

  /** The bar (nothing before the first status). */
  view(): TemplateResult {
    return analysisBar(this.s.status, this.s.pickerOpen, this.actions);
  }

  /** Asks for the status (starts the analysis if it has not run). */
  load(): void {
    request('analysis/status', {}).then((s) => this.setStatus(s), reportError);
  }

  /** Takes a new status: new schemes reset the table, progress refreshes rows, detail and model heatmap. */
  setStatus(next: AnalysisStatus): void {
    const s = this.s;
    const schemesChanged = !s.status || s.status.schemes.join() !== next.schemes.join();
    // A new evaluation brings the detail's measured note and activation charts.
    const measuredChanged = !!s.status && s.status.sensitivity !== next.sensitivity;
    const progressed =
      !s.status ||
      s.status.done !== next.done ||
      s.status.state !== next.state ||
      s.status.sensitivity !== next.sensitivity;
    s.status = next;
    if (schemesChanged) this.table.reset();
    else if (progressed) s.table.cache.invalidate();
    if (progressed || schemesChanged) {
      // The detail's metrics and heatmap arrive with the weight's results.
      if (s.table.selectedIndex !== undefined && (!s.detail.shown?.metrics || schemesChanged || measuredChanged))
        this.detail.load();
      if (s.persisted.tab === 'heatmap' && (next.state !== 'running' || Date.now() - s.lastHeatmapLoad > 500))
        void this.heatmap.load();
    }
    this.ui.update();
  }

  private setSchemes(schemes: string[]): void {
    request('analysis/setSchemes', { schemes }).then(
      (s) => this.setStatus(s),
      (e: unknown) => {
        reportError(e);
        this.showNotice(errorText(e));
      },
    );
  }

  private showNotice(text: string): void {
    this.s.notice = text;
    this.ui.update();
    window.setTimeout(() => {
      this.s.notice = undefined;
      this.ui.update();
    }, 6000);
  }
}
