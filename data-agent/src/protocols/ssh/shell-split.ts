/**
 * Splits a POSIX shell command line into the simple commands it runs, so that policy judges each:
 * `ls; rm -rf /`, `true && rm -rf /`, `echo $(rm -rf /)` all run `rm -rf /`. Pure.
 *
 * Each command comes back as its words with quotes removed (`r'm' -rf /` is `rm -rf /`), leading
 * variable assignments and shell keywords dropped (`FOO=1 rm x` runs `rm x`). Command and process
 * substitutions (`$(...)`, backticks, `<(...)`) are split too, even inside double quotes and
 * here-documents, since the shell runs them. What a shell would still wait on (an open quote or
 * substitution, an unfinished here-document, a trailing backslash or operator) is reported as
 * `incomplete`: the caller judges what is known so far and the whole once it is complete. A command
 * whose name comes from an expansion (`$X -rf /`, `/bin/r?`) cannot be known from the text and is
 * reported as unknowable.
 */

export interface SplitCommandLine {
  /** The simple commands, normalised: words joined by one space. */
  commands: string[];
  /** The shell would wait for more input (open quote, substitution, here-document or trailing operator). */
  incomplete: boolean;
  /** Why what runs cannot be known from the text; undefined when it can. */
  unknowable?: string;
}

const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', '!', '{', '}', 'time', 'function']);
/** Command names that contain glob characters but are builtins, not globs. */
const BRACKET_BUILTINS = new Set(['[', '[[']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;
const OPERATOR_CHARS = ';&|\n()<> \t';
const MAX_DEPTH = 16;

interface Word {
  text: string;
  /** An unquoted expansion ($, backtick) or glob character appears in the word. */
  expands: boolean;
}

interface HereDocument {
  delimiter: string;
  stripTabs: boolean;
  /** With an unquoted delimiter the body is expanded: substitutions in it run. */
  expands: boolean;
}

class Splitter {
  readonly commands: string[] = [];
  incomplete = false;
  unknowable: string | undefined;
  i = 0;
  private words: Word[] = [];
  private word: Word | undefined;
  private hereDocuments: HereDocument[] = [];

  constructor(private readonly src: string, private readonly depth: number) {}

  /** Splits from `i` to the end, or to the `stopAt` that closes a substitution; returns where it stopped. */
  run(stopAt?: ')' | '`'): number {
    const s = this.src;
    while (this.i < s.length) {
      const c = s[this.i]!;
      const next = s[this.i + 1];
      if (stopAt && c === stopAt) {
        this.endCommand();
        return this.i + 1;
      }
      if (c === '\\') {
        if (next === undefined) {
          this.incomplete = true;
          this.i++;
          continue;
        }
        if (next !== '\n') this.append(next);
        this.i += 2;
      } else if (c === "'") this.singleQuoted();
      else if (c === '$' && next === "'") this.ansiCQuoted();
      else if (c === '"') this.doubleQuoted();
      else if (c === '`') this.substitution('`');
      else if ((c === '$' || c === '<' || c === '>') && next === '(') this.substitution(')');
      else if (c === '$') {
        this.append('$', true);
        this.i++;
      } else if (c === '#' && !this.word) this.skipComment();
      else if (c === ' ' || c === '\t') {
        this.endWord();
        this.i++;
      } else if (c === '<' && next === '<' && s[this.i + 2] !== '<') this.hereDocument();
      else if (c === ';' || c === '&' || c === '|' || c === '\n' || c === '(' || c === ')') this.operator(c);
      else {
        this.append(c, c === '*' || c === '?' || c === '[');
        this.i++;
      }
    }
    if (stopAt) this.incomplete = true;
    this.endCommand();
    if (this.hereDocuments.length > 0) this.incomplete = true;
    return this.i;
  }

  private operator(c: string): void {
    const s = this.src;
    this.endCommand();
    const two = s.slice(this.i, this.i + 2);
    this.i += two === '&&' || two === '||' || two === ';;' || two === '|&' ? 2 : 1;
    if (c === '\n') return this.hereDocumentBodies();
    // A line that ends with a pipe or a list operator waits for the next line.
    const waits = two === '&&' || two === '||' || two === '|&' || c === '|';
    if (waits && s.slice(this.i).trim() === '') this.incomplete = true;
  }

  private singleQuoted(): void {
    const end = this.src.indexOf("'", this.i + 1);
    if (end < 0) {
      this.incomplete = true;
      this.append(this.src.slice(this.i + 1));
      this.i = this.src.length;
      return;
    }
    this.append(this.src.slice(this.i + 1, end));
    this.i = end + 1;
  }

  /** bash's `$'...'`: backslash escapes a quote inside it. */
  private ansiCQuoted(): void {
    const s = this.src;
    this.i += 2;
    this.append('');
    while (this.i < s.length && s[this.i] !== "'") {
      if (s[this.i] === '\\' && this.i + 1 < s.length) {
        this.append(s[this.i + 1]!);
        this.i += 2;
      } else this.append(s[this.i++]!);
    }
    if (this.i >= s.length) this.incomplete = true;
    else this.i++;
  }

  private doubleQuoted(): void {
    const s = this.src;
    this.i++;
    this.append('');
    while (this.i < s.length && s[this.i] !== '"') {
      const c = s[this.i]!;
      if (c === '\\' && this.i + 1 < s.length) {
        const next = s[this.i + 1]!;
        if (next !== '\n') this.append('$`"\\'.includes(next) ? next : `\\${next}`);
        this.i += 2;
      } else if (c === '`') this.substitution('`');
      else if (c === '$' && s[this.i + 1] === '(') this.substitution(')');
      else {
        this.append(c, c === '$');
        this.i++;
      }
    }
    if (this.i >= s.length) this.incomplete = true;
    else this.i++;
  }

  /** `$( ... )`, `<( ... )` or `` ` ... ` ``: the inner commands run too. */
  private substitution(close: ')' | '`'): void {
    this.append('$', true);
    if (this.depth >= MAX_DEPTH) {
      this.unknowable ??= 'command substitutions nested too deeply';
      this.i = this.src.length;
      return;
    }
    const inner = new Splitter(this.src, this.depth + 1);
    inner.i = this.i + (close === '`' ? 1 : 2);
    this.i = inner.run(close);
    this.absorb(inner);
  }

  private absorb(inner: Splitter): void {
    this.commands.push(...inner.commands);
    this.incomplete ||= inner.incomplete;
    this.unknowable ??= inner.unknowable;
  }

  /** `<<WORD` or `<<-WORD`: the document's lines follow this line, up to a line that is WORD. */
  private hereDocument(): void {
    const s = this.src;
    this.i += 2;
    const stripTabs = s[this.i] === '-';
    if (stripTabs) this.i++;
    while (s[this.i] === ' ' || s[this.i] === '\t') this.i++;
    let delimiter = '';
    let quoted = false;
    while (this.i < s.length && !OPERATOR_CHARS.includes(s[this.i]!)) {
      const c = s[this.i]!;
      if (c === "'" || c === '"') {
        quoted = true;
        const end = s.indexOf(c, this.i + 1);
        if (end < 0) {
          this.incomplete = true;
          this.i = s.length;
          return;
        }
        delimiter += s.slice(this.i + 1, end);
        this.i = end + 1;
      } else if (c === '\\') {
        quoted = true;
        delimiter += s[this.i + 1] ?? '';
        this.i += 2;
      } else {
        delimiter += c;
        this.i++;
      }
    }
    if (delimiter === '') {
      this.unknowable ??= 'a here-document without a delimiter';
      return;
    }
    this.hereDocuments.push({ delimiter, stripTabs, expands: !quoted });
  }

  /** After a newline: the bodies of the here-documents opened on the line just ended. */
  private hereDocumentBodies(): void {
    const s = this.src;
    for (const doc of this.hereDocuments.splice(0)) {
      const bodyStart = this.i;
      for (;;) {
        if (this.i >= s.length) {
          this.incomplete = true;
          return;
        }
        const end = s.indexOf('\n', this.i);
        const lineEnd = end < 0 ? s.length : end;
        const line = s.slice(this.i, lineEnd);
        const next = end < 0 ? s.length : end + 1;
        if ((doc.stripTabs ? line.replace(/^\t+/, '') : line) === doc.delimiter) {
          if (doc.expands) this.bodySubstitutions(s.slice(bodyStart, this.i));
          this.i = next;
          break;
        }
        this.i = next;
      }
    }
  }

  /** An expanded here-document runs the substitutions in it. */
  private bodySubstitutions(body: string): void {
    for (let j = 0; j < body.length; j++) {
      const c = body[j]!;
      if (c === '\\') j++;
      else if (c === '`' || (c === '$' && body[j + 1] === '(')) {
        const inner = new Splitter(body, this.depth + 1);
        inner.i = j + (c === '`' ? 1 : 2);
        j = inner.run(c === '`' ? '`' : ')') - 1;
        this.absorb(inner);
      }
    }
  }

  private skipComment(): void {
    const end = this.src.indexOf('\n', this.i);
    this.i = end < 0 ? this.src.length : end;
  }

  private append(text: string, expands = false): void {
    this.word ??= { text: '', expands: false };
    this.word.text += text;
    this.word.expands ||= expands;
  }

  private endWord(): void {
    if (this.word) this.words.push(this.word);
    this.word = undefined;
  }

  private endCommand(): void {
    this.endWord();
    let words = this.words;
    this.words = [];
    while (words.length > 0 && (KEYWORDS.has(words[0]!.text) || ASSIGNMENT.test(words[0]!.text))) words = words.slice(1);
    if (words.length === 0) return;
    const name = words[0]!;
    if (name.expands && !BRACKET_BUILTINS.has(name.text)) this.unknowable ??= `the command name "${name.text}" comes from an expansion`;
    this.commands.push(words.map((w) => w.text).join(' '));
  }
}

export function splitCommandLine(line: string): SplitCommandLine {
  const splitter = new Splitter(line, 0);
  splitter.run();
  return {
    commands: splitter.commands,
    incomplete: splitter.incomplete,
    ...(splitter.unknowable ? { unknowable: splitter.unknowable } : {}),
  };
}
