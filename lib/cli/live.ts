/**
 * A live region at the bottom of a terminal, redrawn in place by log-update (the erase-and-redraw
 * logic, wrapping to the terminal width and height), while permanent lines (finished objects,
 * log lines) are printed above it.
 */
import ansiEscapes from 'ansi-escapes';
import createLogUpdate from 'log-update';
import { truncate } from './format';
import type { Writer } from './io';

export class LiveRegion {
  private readonly update: ReturnType<typeof createLogUpdate.create>;
  private current = '';
  private started = false;
  private closed = false;

  public constructor(
    private readonly out: Writer,
    private readonly width: number = 100,
  ) {
    // log-update reads `columns` to wrap; the cursor is hidden and shown here, on the same stream.
    this.update = createLogUpdate.create({ write: (t: string) => void out.write(t), columns: width } as unknown as NodeJS.WritableStream, { showCursor: true });
  }

  /** Replaces the region's lines. */
  public render(lines: readonly string[]): void {
    if (this.closed) return;
    this.current = lines.map((l) => truncate(l, Math.max(10, this.width - 1))).join('\n');
    if (!this.started) {
      this.started = true;
      this.out.write(ansiEscapes.cursorHide);
    }
    if (this.current) this.update(this.current);
    else this.update.clear();
  }

  /** Prints text above the region (it stays); `text` should end with a newline. */
  public print(text: string): void {
    if (this.closed || !this.current) {
      this.out.write(text);
      return;
    }
    this.update.clear();
    this.out.write(text);
    this.update(this.current);
  }

  /** Removes the region, prints the final text (if any) and gives the cursor back. */
  public close(finalText = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.update.clear();
    this.update.done();
    this.out.write(finalText + (this.started ? ansiEscapes.cursorShow : ''));
  }
}
