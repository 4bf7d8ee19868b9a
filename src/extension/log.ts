/** The QuantLens log: a LogOutputChannel plus a helper that records how long steps take. */
import * as vscode from 'vscode';

/** Wraps the LogOutputChannel shared by the whole extension. */
export class Log implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('QuantLens', { log: true });
  /** Also print to the extension host console (set by the test runner to see the log in test output). */
  private readonly echo = process.env.QUANTLENS_LOG_TO_CONSOLE === '1';

  info(message: string): void {
    this.channel.info(message);
    if (this.echo) {
      console.log(`[QuantLens] ${message}`);
    }
  }

  warn(message: string): void {
    this.channel.warn(message);
    if (this.echo) {
      console.log(`[QuantLens] WARN ${message}`);
    }
  }

  error(message: string): void {
    this.channel.error(message);
    if (this.echo) {
      console.log(`[QuantLens] ERROR ${message}`);
    }
  }

  /** Runs `fn`, logging its duration (and failure) under `label`. */
  async time<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      const value = await fn();
      this.channel.info(`${label}: ${(performance.now() - start).toFixed(1)} ms`);
      return value;
    } catch (error) {
      this.channel.warn(`${label}: failed after ${(performance.now() - start).toFixed(1)} ms: ${String(error)}`);
      throw error;
    }
  }

  dispose(): void {
    this.channel.dispose();
  }
}
