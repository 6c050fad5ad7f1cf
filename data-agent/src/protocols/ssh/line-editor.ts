/**
 * Follows what a person types into an interactive shell, keystroke by keystroke, to know the line
 * the shell will run when Enter comes. Pure: no I/O, no policy.
 *
 * Every keystroke goes on to the target at once (the shell echoes it); only the keys that make the
 * shell run a line (Enter, Ctrl-J, Ctrl-O) are returned as `enter` events, for the caller to hold
 * until the line is judged. The editor models readline's default (emacs) bindings for the keys
 * whose effect is certain: printable text, Backspace, Delete, Ctrl-U/K/W, Ctrl-A/E/B/F, Home, End,
 * left and right arrows, Ctrl-C and bracketed paste. A key whose effect depends on state that only
 * the target has (Tab completion, history with up/down or Ctrl-R/P/N, yank, Alt/Meta and vi-mode
 * keys, unknown escape sequences) makes the line unknowable until it is cleared; the event then
 * says why, so policy can treat it strictly.
 */

export interface EnteredLine {
  /** The line as far as it can be known (everything typed, edits applied). */
  text: string;
  /** Why the line cannot be known; undefined when `text` is exactly what the shell runs. */
  unknowable?: string;
  /** The key that ends the line, to send to the target if the line may run. */
  terminator: string;
}

export type LineEvent = { type: 'forward'; data: string } | { type: 'enter'; line: EnteredLine };

const ESC = '\x1b';

/** Keys that change the line in ways only the target knows, with the reason shown to the person. */
const UNKNOWABLE_KEYS: Record<string, string> = {
  '\t': 'tab completion',
  '\x10': 'history (Ctrl-P)',
  '\x0e': 'history (Ctrl-N)',
  '\x12': 'history search (Ctrl-R)',
  '\x13': 'history search (Ctrl-S)',
  '\x19': 'yank (Ctrl-Y)',
  '\x14': 'transpose (Ctrl-T)',
  '\x1f': 'undo (Ctrl-_)',
  '\x18': 'a Ctrl-X command',
  '\x16': 'quoted insert (Ctrl-V)',
  '\x00': 'set mark (Ctrl-Space)',
  '\x1d': 'character search (Ctrl-])',
};

/** Keys that leave the line as it is. */
const NEUTRAL_KEYS = new Set(['\x0c', '\x1a', '\x1c', '\x07', '\x11']);

/** Keys that make the shell run the line. Ctrl-O (operate-and-get-next) also fetches history. */
const ENTER_KEYS = new Set(['\r', '\n', '\x0f']);

type EscapeState = { kind: 'none' } | { kind: 'esc' } | { kind: 'csi' | 'ss3'; body: string };

export class LineEditor {
  private chars: string[] = [];
  private cursor = 0;
  private unknowable: string | undefined;
  private escape: EscapeState = { kind: 'none' };
  private insidePaste = false;

  /** Feeds typed input; returns what to forward now and the Enters to judge, in order. */
  feed(data: string): LineEvent[] {
    const events: LineEvent[] = [];
    let pending = '';
    for (const ch of data) {
      if (ENTER_KEYS.has(ch)) {
        if (this.escape.kind !== 'none') this.abandonEscape();
        if (pending) events.push({ type: 'forward', data: pending });
        pending = '';
        events.push({ type: 'enter', line: this.take(ch) });
        if (ch === '\x0f') this.markUnknowable('history (Ctrl-O)');
        continue;
      }
      pending += ch;
      this.key(ch);
    }
    if (pending) events.push({ type: 'forward', data: pending });
    return events;
  }

  /** The line typed so far (for tests and messages). */
  get current(): { text: string; unknowable?: string } {
    return { text: this.chars.join(''), ...(this.unknowable ? { unknowable: this.unknowable } : {}) };
  }

  /** Inside a bracketed paste: the shell inserts what comes as text until the paste ends. */
  get pasting(): boolean {
    return this.insidePaste;
  }

  /** Forgets the line, as Ctrl-C does in the shell (the caller sends one when it refuses a line). */
  reset(): void {
    this.chars = [];
    this.cursor = 0;
    this.unknowable = undefined;
    this.escape = { kind: 'none' };
    this.insidePaste = false;
  }

  private take(terminator: string): EnteredLine {
    const line: EnteredLine = { text: this.chars.join(''), terminator, ...(this.unknowable ? { unknowable: this.unknowable } : {}) };
    const pasting = this.insidePaste;
    this.reset();
    this.insidePaste = pasting;
    return line;
  }

  private key(ch: string): void {
    if (this.escape.kind !== 'none') return this.escapeKey(ch);
    if (ch === ESC) {
      this.escape = { kind: 'esc' };
      return;
    }
    const code = ch.codePointAt(0)!;
    if (code >= 0x20 && code !== 0x7f) return this.insert(ch);
    if (this.insidePaste) return this.markUnknowable('a control character in pasted text');
    switch (ch) {
      case '\x7f':
      case '\x08':
        if (this.cursor > 0) this.chars.splice(--this.cursor, 1);
        return;
      case '\x03':
        return this.reset();
      case '\x15':
        this.chars.splice(0, this.cursor);
        this.cursor = 0;
        return;
      case '\x0b':
        this.chars.length = this.cursor;
        return;
      case '\x17':
        return this.killWordBackward();
      case '\x01':
        this.cursor = 0;
        return;
      case '\x05':
        this.cursor = this.chars.length;
        return;
      case '\x02':
        this.cursor = Math.max(0, this.cursor - 1);
        return;
      case '\x06':
        this.cursor = Math.min(this.chars.length, this.cursor + 1);
        return;
      case '\x04':
        // On an empty line it is end-of-file (the shell exits); otherwise it deletes under the cursor.
        if (this.cursor < this.chars.length) this.chars.splice(this.cursor, 1);
        return;
      default:
        if (NEUTRAL_KEYS.has(ch)) return;
        return this.markUnknowable(UNKNOWABLE_KEYS[ch] ?? `control key 0x${code.toString(16).padStart(2, '0')}`);
    }
  }

  private insert(ch: string): void {
    this.chars.splice(this.cursor++, 0, ch);
  }

  /** readline's unix-word-rubout: back over spaces, then over the word before them. */
  private killWordBackward(): void {
    let start = this.cursor;
    while (start > 0 && /\s/.test(this.chars[start - 1]!)) start--;
    while (start > 0 && !/\s/.test(this.chars[start - 1]!)) start--;
    this.chars.splice(start, this.cursor - start);
    this.cursor = start;
  }

  private escapeKey(ch: string): void {
    const state = this.escape;
    const code = ch.codePointAt(0)!;
    // A control character cannot be part of a sequence: what came before was an Alt/Meta key.
    if (code < 0x20 && ch !== ESC) {
      this.abandonEscape();
      return this.key(ch);
    }
    if (state.kind === 'esc') {
      if (ch === '[') this.escape = { kind: 'csi', body: '' };
      else if (ch === 'O') this.escape = { kind: 'ss3', body: '' };
      else {
        this.escape = { kind: 'none' };
        this.markUnknowable(ch === ESC ? 'the Escape key (vi mode or Meta)' : 'an Alt/Meta key');
        if (ch === ESC) this.escape = { kind: 'esc' };
      }
      return;
    }
    if (state.kind === 'none') return;
    if (code >= 0x40 && code <= 0x7e) {
      this.escape = { kind: 'none' };
      return this.sequence(state.kind, state.body, ch);
    }
    if (state.body.length > 16) {
      this.escape = { kind: 'none' };
      return this.markUnknowable('an escape sequence airlock does not know');
    }
    state.body += ch;
  }

  private abandonEscape(): void {
    this.escape = { kind: 'none' };
    this.markUnknowable('an Alt/Meta key');
  }

  private sequence(kind: 'csi' | 'ss3', body: string, final: string): void {
    const key = body === '' || kind === 'ss3' ? final : `${body}${final}`;
    switch (key) {
      case 'D':
        this.cursor = Math.max(0, this.cursor - 1);
        return;
      case 'C':
        this.cursor = Math.min(this.chars.length, this.cursor + 1);
        return;
      case 'H':
      case '1~':
      case '7~':
        this.cursor = 0;
        return;
      case 'F':
      case '4~':
      case '8~':
        this.cursor = this.chars.length;
        return;
      case '3~':
        if (this.cursor < this.chars.length) this.chars.splice(this.cursor, 1);
        return;
      case '200~':
        this.insidePaste = true;
        return;
      case '201~':
        this.insidePaste = false;
        return;
      case 'A':
      case 'B':
        return this.markUnknowable('history (arrow up/down)');
      case 'Z':
        return this.markUnknowable('tab completion (Shift-Tab)');
      default:
        return this.markUnknowable('an escape sequence airlock does not follow');
    }
  }

  private markUnknowable(reason: string): void {
    this.unknowable ??= reason;
  }
}
