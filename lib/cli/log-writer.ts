/**
 * Where `logs` and `submit --logs` put lines: the terminal (prefixed by step and attempt,
 * coloured on a terminal, NDJSON with `--output json`) and the log file (plain, appended batch by
 * batch as lines arrive). Every text passes the redactor.
 */
import type { Redactor } from '../cluster/redact';
import type { LogBatch, LogSink } from '../cluster/logs';
import type { FileWriter } from './io';
import type { Style } from './style';

/** Options of {@link LogWriter}. */
export interface LogWriterOptions {
  /** The log file. @default - none */
  readonly file?: FileWriter;
  /** Terminal output (plain lines or, with `json`, NDJSON records). @default - none */
  readonly terminal?: (text: string) => void;
  /** Terminal lines as NDJSON records. @default false */
  readonly json?: boolean;
  readonly style: Style;
  /** Prefix lines with the API's timestamp. @default false */
  readonly timestamps?: boolean;
  readonly redactor: Redactor;
}

/** A {@link LogSink} writing to the terminal and a file. */
export class LogWriter implements LogSink {
  /** Lines written so far. */
  public lines = 0;
  private readonly o: LogWriterOptions;

  public constructor(options: LogWriterOptions) {
    this.o = options;
  }

  public write(batch: LogBatch): void {
    const { lines, timestamps } = batch;
    const n = lines.length;
    if (n === 0) return;
    this.lines += n;
    const prefix = `${batch.label}: `;
    const ts = this.o.timestamps;
    let plain = '';
    for (let i = 0; i < n; i++) plain += (ts ? `${timestamps[i]} ` : '') + prefix + lines[i] + '\n';
    const redactor = this.o.redactor;
    if (!redactor.empty) plain = redactor.redact(plain);
    this.o.file?.write(plain);
    const terminal = this.o.terminal;
    if (!terminal) return;
    if (this.o.json) {
      let s = '';
      for (let i = 0; i < n; i++) {
        s += JSON.stringify({ type: 'log', step: batch.step, attempt: batch.attempt, pod: batch.pod, time: timestamps[i], text: lines[i] }) + '\n';
      }
      terminal(redactor.empty ? s : redactor.redact(s));
    } else if (this.o.style.color) {
      const colored = this.o.style.cyan(batch.label) + ': ';
      let s = '';
      for (let i = 0; i < n; i++) s += (ts ? this.o.style.dim(`${timestamps[i]} `) : '') + colored + lines[i] + '\n';
      terminal(redactor.empty ? s : redactor.redact(s));
    } else {
      terminal(plain);
    }
  }
}
