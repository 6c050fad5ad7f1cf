import { describe, expect, it } from 'vitest';
import { splitCommandLine } from './shell-split.js';

const commands = (line: string) => splitCommandLine(line).commands;

describe('splitCommandLine', () => {
  it('splits lists, pipelines and subshells into simple commands', () => {
    expect(commands('ls -l; rm -rf /')).toEqual(['ls -l', 'rm -rf /']);
    expect(commands('true && rm -rf / || echo no')).toEqual(['true', 'rm -rf /', 'echo no']);
    expect(commands('cat x | sudo tee y & sleep 1')).toEqual(['cat x', 'sudo tee y', 'sleep 1']);
    expect(commands('(cd /tmp; rm -rf x)')).toEqual(['cd /tmp', 'rm -rf x']);
    expect(commands('ls\nrm x')).toEqual(['ls', 'rm x']);
  });

  it('removes quotes and escapes the way the shell does', () => {
    expect(commands(`r'm' -rf "/"`)).toEqual(['rm -rf /']);
    expect(commands('\\rm -rf /')).toEqual(['rm -rf /']);
    expect(commands(`echo "a;b" 'c|d'`)).toEqual(['echo a;b c|d']);
    expect(commands(`echo $'it\\'s'; rm x`)).toEqual(["echo it's", 'rm x']);
  });

  it('finds the commands of substitutions, also inside double quotes and nested', () => {
    expect(commands('echo $(rm -rf /)')).toEqual(['rm -rf /', 'echo $']);
    expect(commands('echo "today: `date`"')).toEqual(['date', 'echo today: $']);
    expect(commands('diff <(ls a) <(ls b)')).toEqual(['ls a', 'ls b', 'diff $ $']);
    expect(commands('echo $(echo $(id))')).toEqual(['id', 'echo $', 'echo $']);
  });

  it('drops leading assignments, keywords and comments', () => {
    expect(commands('FOO=1 BAR="x y" rm -rf /')).toEqual(['rm -rf /']);
    expect(commands('if true; then rm x; fi')).toEqual(['true', 'rm x']);
    expect(commands('ls # rm -rf /')).toEqual(['ls']);
    expect(commands('echo a#b')).toEqual(['echo a#b']);
  });

  it('reports what the shell would still wait for as incomplete', () => {
    expect(splitCommandLine(`echo 'abc`).incomplete).toBe(true);
    expect(splitCommandLine('echo "abc').incomplete).toBe(true);
    expect(splitCommandLine('r\\').incomplete).toBe(true);
    expect(splitCommandLine('ls |').incomplete).toBe(true);
    expect(splitCommandLine('ls &&').incomplete).toBe(true);
    expect(splitCommandLine('echo $(ls').incomplete).toBe(true);
    expect(splitCommandLine('ls &').incomplete).toBe(false);
    expect(splitCommandLine('ls;').incomplete).toBe(false);
    // The continued line is judged whole once complete: the backslash-newline disappears.
    expect(splitCommandLine('r\\\nm -rf /')).toEqual({ commands: ['rm -rf /'], incomplete: false });
  });

  it('waits for a here-document to end, and runs the substitutions in an unquoted one', () => {
    expect(splitCommandLine('cat <<EOF').incomplete).toBe(true);
    expect(splitCommandLine('rm -rf / <<EOF\nEOF').incomplete).toBe(false);
    expect(splitCommandLine('rm -rf / <<EOF\nEOF').commands).toEqual(['rm -rf /']);
    expect(splitCommandLine('cat <<EOF\nhello $(id)\nEOF\nls')).toEqual({ commands: ['cat', 'id', 'ls'], incomplete: false });
    expect(splitCommandLine("cat <<'EOF'\n$(id)\nEOF")).toEqual({ commands: ['cat'], incomplete: false });
    expect(splitCommandLine('cat <<-EOF\n\tbody\n\tEOF').incomplete).toBe(false);
  });

  it('calls a command name that comes from an expansion unknowable, but not the [ builtin', () => {
    expect(splitCommandLine('$CMD -rf /').unknowable).toMatch(/comes from an expansion/);
    expect(splitCommandLine('/bin/r? -rf /').unknowable).toMatch(/comes from an expansion/);
    expect(splitCommandLine('"$(echo rm)" -rf /').unknowable).toMatch(/comes from an expansion/);
    expect(splitCommandLine('[ -f x ] && cat x').unknowable).toBeUndefined();
    expect(splitCommandLine('echo $HOME *').unknowable).toBeUndefined();
  });

  it('gives no command for an empty or blank line', () => {
    expect(splitCommandLine('')).toEqual({ commands: [], incomplete: false });
    expect(splitCommandLine('   ')).toEqual({ commands: [], incomplete: false });
  });
});
