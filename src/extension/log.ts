/** The QuantLens log: one LogOutputChannel, optionally echoed to the extension host console. */
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

  dispose(): void {
    this.channel.dispose();
  }
}
