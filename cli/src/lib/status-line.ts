/**
 * One live status line on stderr: rewritten in place on a terminal, printed line by line otherwise
 * (logs and CI keep every step). stdout stays clean for results and --json.
 */
export class StatusLine {
  private shown = '';

  constructor(private readonly out: NodeJS.WriteStream) {}

  show(text: string): void {
    if (text === this.shown) return;
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${text}`);
    else this.out.write(`${text}\n`);
    this.shown = text;
  }

  done(): void {
    if (this.out.isTTY && this.shown) this.out.write('\n');
    this.shown = '';
  }
}
