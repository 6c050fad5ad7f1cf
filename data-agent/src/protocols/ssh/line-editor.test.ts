import { describe, expect, it } from 'vitest';
import { LineEditor, type EnteredLine, type LineEvent } from './line-editor.js';

/** Types `input` (in one go, or split into chunks) and returns the lines entered. */
function lines(input: string | string[]): EnteredLine[] {
  const editor = new LineEditor();
  const chunks = typeof input === 'string' ? [input] : input;
  return chunks.flatMap((c) => editor.feed(c)).flatMap((e) => (e.type === 'enter' ? [e.line] : []));
}

const LEFT = '\x1b[D';
const RIGHT = '\x1b[C';
const UP = '\x1b[A';

describe('LineEditor', () => {
  it('forwards every keystroke at once and holds only the Enter', () => {
    const editor = new LineEditor();
    const events: LineEvent[] = editor.feed('ls -l\rpwd');
    expect(events).toEqual([
      { type: 'forward', data: 'ls -l' },
      { type: 'enter', line: { text: 'ls -l', terminator: '\r' } },
      { type: 'forward', data: 'pwd' },
    ]);
    expect(editor.current).toEqual({ text: 'pwd' });
  });

  it('applies Backspace, Ctrl-U, Ctrl-W and Ctrl-K', () => {
    expect(lines('rm -rf /tmpp\x7f\r')).toEqual([{ text: 'rm -rf /tmp', terminator: '\r' }]);
    expect(lines('echo hi\x15rm x\r')[0]!.text).toBe('rm x');
    expect(lines('echo hello world\x17there\r')[0]!.text).toBe('echo hello there');
    expect(lines(`echo abc${LEFT}${LEFT}\x0b\r`)[0]!.text).toBe('echo a');
    expect(lines('ab\x08\x08\x08c\n')).toEqual([{ text: 'c', terminator: '\n' }]);
  });

  it('follows the cursor: arrows, Home/End, Ctrl-A/E/B/F and Delete', () => {
    expect(lines(`m -rf x\x01r\r`)[0]!.text).toBe('rm -rf x');
    expect(lines(`ls${LEFT}${LEFT}s${RIGHT}${RIGHT}\x1b[3~ x\r`)[0]!.text).toBe('sls x');
    expect(lines(`cat${'\x1b[H'}sudo \x1b[F file\r`)[0]!.text).toBe('sudo cat file');
    expect(lines('ac\x02b\x06d\r')[0]!.text).toBe('abcd');
    expect(lines('rm x\x01\x04\x04\x04echo \r')[0]!.text).toBe('echo x');
    // Ctrl-U kills only before the cursor, as readline does.
    expect(lines(`echo rm${LEFT}${LEFT}\x15\r`)[0]!.text).toBe('rm');
  });

  it('starts a fresh, known line after Ctrl-C', () => {
    expect(lines(`ls\t\x03rm x\r`)).toEqual([{ text: 'rm x', terminator: '\r' }]);
  });

  it('calls a line unknowable after tab completion, history or an unknown key, and says why', () => {
    expect(lines('rm -rf /et\t\r')[0]).toEqual({ text: 'rm -rf /et', terminator: '\r', unknowable: 'tab completion' });
    expect(lines(`${UP}\r`)[0]!.unknowable).toBe('history (arrow up/down)');
    expect(lines('\x12rm\r')[0]!.unknowable).toBe('history search (Ctrl-R)');
    expect(lines('ls\x1bb\r')[0]!.unknowable).toBe('an Alt/Meta key');
    expect(lines('ls\x1b\r')[0]!.unknowable).toBe('an Alt/Meta key');
    expect(lines('ls\x1b[1;5D\r')[0]!.unknowable).toBe('an escape sequence airlock does not follow');
    // ...until the line ends: the next one is known again.
    expect(lines('ab\t\rls\r')[1]).toEqual({ text: 'ls', terminator: '\r' });
  });

  it('treats Ctrl-O as an Enter that also fetches history', () => {
    const entered = lines('ls\x0fx\r');
    expect(entered[0]).toEqual({ text: 'ls', terminator: '\x0f' });
    expect(entered[1]!.unknowable).toBe('history (Ctrl-O)');
  });

  it('keeps escape sequences split across chunks, and Enter always ends a line', () => {
    expect(lines(['abc\x1b', '[', 'D', 'X\r'])[0]!.text).toBe('abXc');
    expect(lines(['ls\x1b[', '\r'])[0]!.unknowable).toBe('an Alt/Meta key');
  });

  it('ignores bracketed-paste markers and judges each pasted line', () => {
    expect(lines('\x1b[200~ls\rrm x\x1b[201~\r')).toEqual([
      { text: 'ls', terminator: '\r' },
      { text: 'rm x', terminator: '\r' },
    ]);
  });

  it('handles multi-byte characters as one character each', () => {
    expect(lines(`echo héllo→${LEFT}\x7f!\r`)[0]!.text).toBe('echo héll!→');
  });
});
