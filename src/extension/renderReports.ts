/** Keeps the last RenderReport each inspector posted, so tests (and the log) can see what was shown. */
import type { RenderReport } from '../testHooks';

type Waiter = { predicate: (r: RenderReport) => boolean; resolve: (r: RenderReport) => void };

/** Last render report per model URI string, with waiters. */
export class RenderReports {
  private readonly last = new Map<string, RenderReport>();
  private readonly waiters = new Map<string, Set<Waiter>>();

  /** Records a report and wakes waiters whose predicate it satisfies. */
  record(uri: string, report: RenderReport): void {
    this.last.set(uri, report);
    for (const waiter of this.waiters.get(uri) ?? []) {
      if (waiter.predicate(report)) {
        this.waiters.get(uri)?.delete(waiter);
        waiter.resolve(report);
      }
    }
  }

  /** The last report for a model, if any. */
  get(uri: string): RenderReport | undefined {
    return this.last.get(uri);
  }

  /** Resolves with the first report (the last one included) that satisfies `predicate`; rejects after `timeoutMs`. */
  wait(uri: string, predicate: (r: RenderReport) => boolean, timeoutMs: number): Promise<RenderReport> {
    const current = this.last.get(uri);
    if (current && predicate(current)) {
      return Promise.resolve(current);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const set = this.waiters.get(uri) ?? new Set();
      set.add(waiter);
      this.waiters.set(uri, set);
      const timer = setTimeout(() => {
        set.delete(waiter);
        reject(
          new Error(
            `No matching render of ${uri} within ${timeoutMs} ms (last: ${JSON.stringify(this.last.get(uri)?.status)})`,
          ),
        );
      }, timeoutMs);
    });
  }
}
