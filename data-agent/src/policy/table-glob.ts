/**
 * Table globs: "schema.table" with '*' matching any run of characters inside one segment.
 * How a glob meets a table reference depends on the rule's action, because an unknown must never
 * make a rule more permissive (see matchesForAllow).
 */
import type { EvaluationContext, TableRef } from './types.js';

export interface TableGlob {
  schema: string;
  name: string;
  /** Case-insensitive: used by review/deny rules, which may match more than asked, never less. */
  loose: { schema: RegExp; name: RegExp };
  /** Exact as Postgres resolves names ("Users" ≠ users): used by allow rules. */
  exact: { schema: RegExp; name: RegExp };
}

function segment(glob: string, flags: string): RegExp {
  const body = glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`, flags);
}

/** A glob without a dot names a table in any schema ("users" = "*.users"). */
export function compileTableGlob(glob: string): TableGlob {
  const dot = glob.indexOf('.');
  const schema = dot < 0 ? '*' : glob.slice(0, dot);
  const name = dot < 0 ? glob : glob.slice(dot + 1);
  return {
    schema,
    name,
    loose: { schema: segment(schema, 'i'), name: segment(name, 'i') },
    exact: { schema: segment(schema, ''), name: segment(name, '') },
  };
}

/** Review/deny: could this reference be a table the glob names? If it could, it matches. */
export function matchesForRestrict(g: TableGlob, t: TableRef): boolean {
  if (t.wholeSchema) return g.loose.schema.test(t.schema ?? '');
  // Unqualified: search_path decides the schema, so any schema could be the glob's.
  if (t.schema === null) return g.loose.name.test(t.name);
  return g.loose.schema.test(t.schema) && g.loose.name.test(t.name);
}

/**
 * Allow: is this reference certainly a table the glob names? An unqualified name is taken to be in
 * public only while search_path is the default and the name is not a system catalog's (pg_catalog is
 * searched before public, so an unqualified pg_authid is pg_catalog.pg_authid); otherwise only a
 * glob whose schema part is '*' covers it. A whole-schema reference needs a glob of the whole schema.
 */
export function matchesForAllow(g: TableGlob, t: TableRef, ctx: EvaluationContext): boolean {
  if (t.wholeSchema) return g.name === '*' && g.exact.schema.test(t.schema ?? '');
  if (t.schema === null) {
    const schemaOk = g.schema === '*' || (g.schema === 'public' && ctx.searchPathIsDefault && !t.name.startsWith('pg_'));
    return schemaOk && g.exact.name.test(t.name);
  }
  return g.exact.schema.test(t.schema) && g.exact.name.test(t.name);
}
