/**
 * A live region at the bottom of a terminal: redrawn in place with plain ANSI (cursor up, erase
 * down), while permanent lines (finished objects, log lines) are printed above it. Each update is
 * one write, so the terminal never shows a half-drawn frame.
 */
import { truncate } from './format';
import type { Writer } from './io';

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const ERASE_DOWN = '\x1b[J';

export class LiveRegion {
  private drawn = 0;
  private current: string[] = [];
  private started = false;
  private closed = false;

  public constructor(
    private readonly out: Writer,
    private readonly width: number = 100,
  ) {}

  /** Replaces the region's lines. */
  public render(lines: readonly string[]): void {
    if (this.closed) return;
    this.current = lines.map((l) => truncate(l, Math.max(10, this.width - 1)));
    this.out.write(this.erase() + this.frame());
  }

  /** Prints text above the region (it stays); `text` should end with a newline. */
  public print(text: string): void {
    if (this.closed) {
      this.out.write(text);
      return;
    }
    this.out.write(this.erase() + text + this.frame());
  }

  /** Removes the region, prints the final text (if any) and gives the cursor back. */
  public close(finalText = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.out.write(this.erase() + finalText + (this.started ? SHOW_CURSOR : ''));
  }

  private erase(): string {
    if (this.drawn === 0) return '';
    const s = `\x1b[${this.drawn}F${ERASE_DOWN}`;
    this.drawn = 0;
    return s;
  }

  private frame(): string {
    if (this.current.length === 0) return '';
    let s = '';
    if (!this.started) {
      this.started = true;
      s += HIDE_CURSOR;
    }
    s += this.current.join('\n') + '\n';
    this.drawn = this.current.length;
    return s;
  }
}
