/**
 * Turns libpg-query's parse result into one StatementAnalysis per statement. Pure and synchronous; it
 * runs inside the parser worker so that a huge tree is walked off the main thread and only the small
 * result crosses back.
 */
import type { SettingChange, StatementAnalysis, StatementKind, TableRef } from '../types.js';
import { isHarmlessSetting, isLexingSetting, isSafeLexingValue } from './catalogue.js';
import { copyStatementOf } from './copy-statement.js';
import { isHarmlessKind, kindOf, type Node } from './kinds.js';
import { constString, emptyFindings, nameList, walk, type WalkFindings } from './walk.js';

interface RawStmt {
  stmt?: Node;
  stmt_location?: number;
  stmt_len?: number;
}

/** An analysis for text that could not be analysed: evaluation gives it the strictest action. */
export function failedAnalysis(text: string, parseError: string): StatementAnalysis {
  return {
    text, kind: 'other', effects: ['other'], tables: [], functions: [], program: false, unknowable: true,
    reasons: [parseError], parseError, harmless: false, settings: [], executes: [],
  };
}

/**
 * Splits by the parser's statement boundaries, which are UTF-8 byte offsets: slicing the JS string
 * instead would cut in the wrong place after any multi-byte character.
 */
export function analyzeParseResult(sql: string, result: { stmts?: RawStmt[] }): StatementAnalysis[] {
  const bytes = Buffer.from(sql, 'utf8');
  return (result.stmts ?? []).map((raw) => {
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    const text = bytes.subarray(start, end).toString('utf8').trim();
    return raw.stmt ? analyzeStatement(text, raw.stmt) : failedAnalysis(text, 'empty parse node');
  });
}

function hasAnalyzeOption(explain: Node): boolean {
  const options = Array.isArray(explain['options']) ? explain['options'] : [];
  return options.some((o: Node) => {
    const d = o?.['DefElem'] as Node | undefined;
    if (d?.['defname'] !== 'analyze') return false;
    // EXPLAIN (ANALYZE false) does not run the statement; anything else (no arg, true, on, 1) does.
    const v = constString(d['arg']);
    return v === null || !['false', 'off', '0', 'no'].includes(v.toLowerCase());
  });
}

const TABLE_LIKE = new Set(['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE', 'OBJECT_SEQUENCE', 'OBJECT_INDEX']);
const ON_TABLE = new Set(['OBJECT_TRIGGER', 'OBJECT_RULE', 'OBJECT_POLICY']);

function qualified(parts: string[]): TableRef | null {
  if (parts.length === 0) return null;
  return { schema: parts.length >= 2 ? parts[parts.length - 2]! : null, name: parts[parts.length - 1]! };
}

/** DROP, GRANT ... IN SCHEMA and ALTER SCHEMA name their objects as plain name lists, not RangeVars. */
function namedObjects(type: string, body: Node): TableRef[] {
  const out: TableRef[] = [];
  const objects = Array.isArray(body['objects']) ? (body['objects'] as Node[]) : [];
  const schemaRefs = (names: string[]) => names.forEach((s) => out.push({ schema: s, name: '*', wholeSchema: true }));
  if (type === 'DropStmt') {
    const removeType = String(body['removeType'] ?? '');
    for (const o of objects) {
      const parts = isListNode(o) ? nameList((o['List'] as Node)['items']) : nameList([o]);
      if (TABLE_LIKE.has(removeType)) pushIf(out, qualified(parts));
      else if (ON_TABLE.has(removeType)) pushIf(out, qualified(parts.slice(0, -1)));
      else if (removeType === 'OBJECT_SCHEMA') schemaRefs(parts);
    }
  } else if (type === 'GrantStmt' && body['targtype'] === 'ACL_TARGET_ALL_IN_SCHEMA') {
    schemaRefs(nameList(objects));
  } else if (type === 'RenameStmt' && body['renameType'] === 'OBJECT_SCHEMA') {
    schemaRefs([String(body['subname'] ?? '')]);
  }
  return out;
}

function isListNode(o: Node): boolean {
  return typeof o === 'object' && o !== null && typeof o['List'] === 'object';
}

function pushIf(out: TableRef[], t: TableRef | null): void {
  if (t) out.push(t);
}

function settingValue(body: Node): string | null {
  if (body['kind'] !== 'VAR_SET_VALUE') return null; // DEFAULT, FROM CURRENT, RESET: value unknown here
  const args = Array.isArray(body['args']) ? body['args'] : [];
  return args.length === 1 ? constString(args[0]) : null;
}

/** SET / RESET / set_config: which settings change, and which changes fail closed. */
function judgeSettings(kind: StatementKind, body: Node, f: WalkFindings): { settings: SettingChange[]; harmless: boolean } {
  const settings: SettingChange[] = [];
  let harmless = false;
  if (kind === 'set' || kind === 'reset') {
    const all = body['kind'] === 'VAR_RESET_ALL';
    const name = String(body['name'] ?? '').toLowerCase();
    const value = settingValue(body);
    if (!all && name !== '') settings.push({ name, value });
    // RESET ALL restores session defaults, which the engine checks through ParameterStatus.
    harmless = all || isHarmlessSetting(name);
    if (!all && isLexingSetting(name) && !isSafeLexingValue(name, value)) {
      f.reasons.push(`${kind.toUpperCase()} ${name} changes how the server splits queries`);
    }
  }
  for (const call of f.setConfigs) {
    if (call.name === null) {
      f.reasons.push('set_config() with a computed setting name');
      continue;
    }
    const name = call.name.toLowerCase();
    settings.push({ name, value: call.value });
    if (isLexingSetting(name) && !isSafeLexingValue(name, call.value)) {
      f.reasons.push(`set_config('${name}') changes how the server splits queries`);
    }
  }
  return { settings, harmless };
}

function uniqueTables(tables: TableRef[]): TableRef[] {
  const seen = new Map<string, TableRef>();
  for (const t of tables) seen.set(`${t.schema ?? ''}\u0000${t.name}\u0000${t.wholeSchema ? 1 : 0}`, t);
  return [...seen.values()];
}

export function analyzeStatement(text: string, stmt: Node): StatementAnalysis {
  const type = Object.keys(stmt)[0] ?? '';
  const body = (stmt[type] ?? {}) as Node;
  const kind = kindOf(type, body);
  const f = emptyFindings();
  const effects = new Set<StatementKind>([kind]);
  let program = false;
  let prepare: StatementAnalysis['prepare'];
  let deallocate: StatementAnalysis['deallocate'];
  let copy: StatementAnalysis['copy'];

  switch (type) {
    case 'PrepareStmt': {
      // The inner statement runs only at EXECUTE; it is analysed on its own and remembered by the session.
      const inner = isListOrNode(body['query']) ? analyzeStatement(text, body['query'] as Node) : failedAnalysis(text, 'PREPARE without a statement');
      prepare = { name: String(body['name'] ?? ''), inner };
      walk(body['argtypes'], false, f);
      break;
    }
    case 'ExplainStmt': {
      const inner = body['query'] as Node | undefined;
      if (hasAnalyzeOption(body) && inner) {
        // EXPLAIN ANALYZE runs the statement: it does everything the statement does.
        const ran = analyzeStatement(text, inner);
        for (const e of ran.effects) effects.add(e);
        f.tables.push(...ran.tables);
        f.functions.push(...ran.functions);
        f.executes.push(...ran.executes);
        f.reasons.push(...ran.reasons);
        program = ran.program;
      } else {
        walk(body, false, f); // planned, not run: tables and functions only
      }
      break;
    }
    case 'ExecuteStmt':
      // Effects stay [execute] until the session judge substitutes the prepared statement's.
      f.executes.push(String(body['name'] ?? ''));
      walk(body['params'], true, f);
      break;
    case 'DeclareCursorStmt':
      // A cursor runs its query as it is fetched: its effects are the query's.
      effects.delete('declare');
      effects.add('select');
      walk(body, true, f);
      break;
    case 'CopyStmt':
      effects.add(body['is_from'] === true ? 'insert' : 'select');
      program = body['is_program'] === true;
      if (program) f.reasons.push('COPY ... PROGRAM runs a shell command on the database server');
      else if (typeof body['filename'] === 'string') f.reasons.push('COPY reads or writes a file on the database server');
      copy = copyStatementOf(body);
      walk(body, true, f);
      break;
    case 'CreateTableAsStmt':
    case 'SelectStmt':
      if (kind === 'create') effects.add('select'); // CREATE TABLE AS / SELECT INTO: create + select
      walk(body, true, f);
      break;
    case 'DoStmt':
      f.reasons.push('DO block: its body is not analysed');
      break;
    case 'CallStmt':
      f.reasons.push('CALL runs a procedure whose body is not analysed');
      walk(body, true, f);
      break;
    case 'LoadStmt':
      f.reasons.push('LOAD loads a library into the server');
      break;
    case 'DeallocateStmt':
      deallocate = { name: body['isall'] === true ? null : String(body['name'] ?? '') };
      break;
    case 'DiscardStmt':
      if (body['target'] === 'DISCARD_ALL') deallocate = { name: null };
      break;
    default:
      walk(body, true, f);
  }
  for (const e of f.effects) effects.add(e);
  f.tables.push(...namedObjects(type, body));
  const tables = uniqueTables(f.tables);
  if ([...effects].some((e) => e === 'update' || e === 'insert' || e === 'delete' || e === 'merge') &&
      tables.some((t) => t.name === 'pg_settings' && (t.schema === null || t.schema === 'pg_catalog'))) {
    f.reasons.push('writing pg_settings changes settings');
  }
  const { settings, harmless: harmlessSetting } = judgeSettings(kind, body, f);
  const reasons = [...new Set(f.reasons)];
  return {
    text,
    kind,
    effects: [...effects],
    tables,
    functions: [...new Set(f.functions)],
    program,
    unknowable: reasons.length > 0,
    reasons,
    harmless: isHarmlessKind(kind, type, body) || harmlessSetting,
    settings,
    ...(prepare ? { prepare } : {}),
    executes: [...new Set(f.executes)],
    ...(deallocate ? { deallocate } : {}),
    ...(copy ? { copy } : {}),
  };
}

function isListOrNode(v: unknown): boolean {
  return typeof v === 'object' && v !== null;
}
