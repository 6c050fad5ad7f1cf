/**
 * One iterative pass over a statement's parse tree (a recursive walker overflows on deeply nested
 * input). Many typed fields come back without a type label, so relations are recognised by shape
 * (`relname`) and function calls by `funcname` + `funcformat`.
 */
import type { StatementKind, TableRef } from '../types.js';
import { OPAQUE_FUNCTIONS } from './catalogue.js';
import type { Node } from './kinds.js';

export interface WalkFindings {
  tables: TableRef[];
  functions: string[];
  /** Data-modifying kinds found below the top (CTEs, MERGE actions, ON CONFLICT DO UPDATE). */
  effects: Set<StatementKind>;
  executes: string[];
  reasons: string[];
  /** set_config(name, value, ...) calls: name null when not a constant. */
  setConfigs: { name: string | null; value: string | null }[];
}

const DML: Readonly<Record<string, StatementKind>> = {
  InsertStmt: 'insert', UpdateStmt: 'update', DeleteStmt: 'delete', MergeStmt: 'merge',
};

const MERGE_COMMANDS: Readonly<Record<string, StatementKind>> = {
  CMD_INSERT: 'insert', CMD_UPDATE: 'update', CMD_DELETE: 'delete',
};

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null;
}

/** A constant string argument, looking through casts ('x'::text); null when computed. */
export function constString(v: unknown): string | null {
  let n: unknown = v;
  for (let i = 0; i < 8 && isNode(n); i++) {
    if (isNode(n['TypeCast'])) n = (n['TypeCast'] as Node)['arg'];
    // Bare value nodes (DefElem arguments); a zero or false field is omitted from the JSON.
    else if (isNode(n['String'])) return String((n['String'] as Node)['sval'] ?? '');
    else if (isNode(n['Integer'])) return String((n['Integer'] as Node)['ival'] ?? 0);
    else if (isNode(n['Boolean'])) return (n['Boolean'] as Node)['boolval'] === true ? 'true' : 'false';
    else if (isNode(n['A_Const'])) {
      const c = n['A_Const'] as Node;
      if (isNode(c['sval'])) return String((c['sval'] as Node)['sval'] ?? '');
      if (isNode(c['ival'])) return String((c['ival'] as Node)['ival'] ?? 0);
      if (isNode(c['fval'])) return String((c['fval'] as Node)['fval'] ?? '0');
      if (isNode(c['boolval'])) return (c['boolval'] as Node)['boolval'] === true ? 'true' : 'false';
      return null;
    } else return null;
  }
  return null;
}

export function nameList(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => (isNode(item) && isNode(item['String']) ? String((item['String'] as Node)['sval'] ?? '') : ''));
}

function recordFunction(call: Node, f: WalkFindings): void {
  const parts = nameList(call['funcname']);
  const last = (parts[parts.length - 1] ?? '').toLowerCase();
  f.functions.push(parts.join('.').toLowerCase());
  const opaque = OPAQUE_FUNCTIONS.get(last);
  if (opaque) f.reasons.push(`${last}() ${opaque}`);
  if (last === 'set_config') {
    const args = Array.isArray(call['args']) ? call['args'] : [];
    f.setConfigs.push({ name: constString(args[0]), value: constString(args[1]) });
  }
}

/**
 * Walks `root`. `executing` says whether the subtree really runs: false below a plain EXPLAIN, where
 * only tables and functions are collected (the planner may still evaluate immutable functions).
 */
export function walk(root: unknown, executing: boolean, f: WalkFindings): void {
  const stack: { node: unknown; executing: boolean }[] = [{ node: root, executing }];
  while (stack.length > 0) {
    const { node, executing: exec } = stack.pop()!;
    if (Array.isArray(node)) {
      for (const item of node) if (isNode(item)) stack.push({ node: item, executing: exec });
      continue;
    }
    if (!isNode(node)) continue;
    if (typeof node['relname'] === 'string') {
      const schema = typeof node['schemaname'] === 'string' ? node['schemaname'] : null;
      f.tables.push({ schema, name: node['relname'] });
    }
    if (Array.isArray(node['funcname']) && typeof node['funcformat'] === 'string') recordFunction(node, f);
    if (exec && typeof node['commandType'] === 'string' && 'matchKind' in node) {
      const k = MERGE_COMMANDS[node['commandType']];
      if (k) f.effects.add(k);
    }
    if (exec && isNode(node['onConflictClause']) && node['onConflictClause']['action'] === 'ONCONFLICT_UPDATE') {
      f.effects.add('update');
    }
    for (const [key, value] of Object.entries(node)) {
      if (!isNode(value)) continue;
      const dml = DML[key];
      if (dml && exec) f.effects.add(dml);
      if (key === 'ExecuteStmt' && exec) f.executes.push(String((value as Node)['name'] ?? ''));
      stack.push({ node: value, executing: exec });
    }
  }
}

export function emptyFindings(): WalkFindings {
  return { tables: [], functions: [], effects: new Set(), executes: [], reasons: [], setConfigs: [] };
}
