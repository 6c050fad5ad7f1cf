/**
 * SSH exec output through the session's masking rules (issue: "the same detectors apply to SSH exec
 * output when a policy asks"). Output is treated as UTF-8 text and masked a whole line at a time, so
 * a value split across two reads is still seen whole; a line longer than the bound is masked in pieces
 * of that size rather than held.
 */
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';

const MAX_LINE_CHARS = 64 * 1024;

export class OutputMasker extends Transform {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly mask: (text: string) => string) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending += this.decoder.write(chunk);
    const lastNewline = this.pending.lastIndexOf('\n');
    let ready = '';
    if (lastNewline >= 0) {
      ready = this.pending.slice(0, lastNewline + 1);
      this.pending = this.pending.slice(lastNewline + 1);
    }
    while (this.pending.length > MAX_LINE_CHARS) {
      ready += this.pending.slice(0, MAX_LINE_CHARS);
      this.pending = this.pending.slice(MAX_LINE_CHARS);
    }
    if (ready) this.push(Buffer.from(this.maskLines(ready), 'utf8'));
    done();
  }

  override _flush(done: TransformCallback): void {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest) this.push(Buffer.from(this.mask(rest), 'utf8'));
    done();
  }

  private maskLines(text: string): string {
    return text.split('\n').map(this.mask).join('\n');
  }
}
