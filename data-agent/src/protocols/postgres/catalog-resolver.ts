/**
 * Finds the table columns a result reads, for column masking rules: RowDescription gives each column's
 * table OID and attribute number, and the catalog names them; for COPY TO STDOUT, the catalog finds the
 * table the statement names and the columns COPY writes. Sessions look them up on a separate
 * connection (the session's own may be mid-transaction or mid-result), logged in with the same code
 * and credential; exec uses its own connection once the statement is done.
 */
import { endedMessage, type SessionContext } from '../engine.js';
import { runQuery } from './exec.js';
import type { CopyRelation, CopyTable, CopyTableResolver } from './copy-out-plan.js';
import type { ColumnResolver, TableColumns } from './result-rewriter.js';
import * as ser from './serializer.js';
import { loginUpstream, type UpstreamConnection } from './upstream-auth.js';

const QUERY_TIMEOUT_MS = 10_000;

/**
 * Every identifier and operator is qualified with pg_catalog, so objects the session user creates
 * (a public.pg_class, an operator in a schema earlier in search_path) cannot change the answer.
 */
function catalogQuery(oids: number[]): string {
  const list = oids.map((o) => String(Math.trunc(o) >>> 0)).join(',');
  return `SELECT c.oid::pg_catalog.int8, n.nspname, c.relname, a.attnum, a.attname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0
WHERE c.oid OPERATOR(pg_catalog.=) ANY ('{${list}}'::pg_catalog.oid[])`;
}

/** Looks the tables up on `conn`; throws when the catalog cannot be read. */
export async function lookUpTables(conn: UpstreamConnection, oids: number[], signal: AbortSignal): Promise<Map<number, TableColumns>> {
  const outcome = await runQuery(conn, catalogQuery(oids), Number.MAX_SAFE_INTEGER, AbortSignal.any([signal, AbortSignal.timeout(QUERY_TIMEOUT_MS)]), {});
  if (outcome.databaseError) throw new Error(`the catalog lookup failed: ${outcome.databaseError.message}`);
  const tables = new Map<number, TableColumns>();
  for (const [oid, schema, table, attnum, column] of outcome.results[0]?.rows ?? []) {
    const key = Number(oid);
    let entry = tables.get(key);
    if (!entry) tables.set(key, (entry = { schema: schema ?? '', table: table ?? '', columns: new Map() }));
    entry.columns.set(Number(attnum), column ?? '');
  }
  return tables;
}

/** A text value for the catalog query that no setting (standard_conforming_strings...) can read otherwise. */
function textLiteral(value: string): string {
  return `pg_catalog.convert_from(pg_catalog.decode('${Buffer.from(value, 'utf8').toString('hex')}', 'hex'), 'UTF8')`;
}

/**
 * The table a COPY names, found the way the server finds it (to_regclass: search_path for an
 * unqualified name, pg_catalog first), with the columns COPY writes when it is given no column list:
 * every column not dropped and not generated, in order. Whether a temporary table of that name exists
 * in any session comes back too: it would be found first by the session that created it.
 */
function copyTableQuery(relation: CopyRelation): string {
  const name = textLiteral(relation.name);
  const qualified = relation.schema === null
    ? `pg_catalog.format('%I', ${name})`
    : `pg_catalog.format('%I.%I', ${textLiteral(relation.schema)}, ${name})`;
  return `SELECT n.nspname, c.relname, a.attname,
  EXISTS (SELECT FROM pg_catalog.pg_class t WHERE t.relname OPERATOR(pg_catalog.=) ${name} AND t.relpersistence OPERATOR(pg_catalog.=) 't') AS temp_exists
FROM (VALUES (1)) AS one (x)
LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(${qualified})
LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0
  AND NOT a.attisdropped AND a.attgenerated OPERATOR(pg_catalog.=) ''
ORDER BY a.attnum`;
}

/** Looks the table of a COPY up on `conn`; throws when the catalog cannot be read. */
export async function lookUpCopyTable(conn: UpstreamConnection, relation: CopyRelation, signal: AbortSignal): Promise<CopyTable> {
  const outcome = await runQuery(conn, copyTableQuery(relation), Number.MAX_SAFE_INTEGER, AbortSignal.any([signal, AbortSignal.timeout(QUERY_TIMEOUT_MS)]), {});
  if (outcome.databaseError) throw new Error(`the catalog lookup failed: ${outcome.databaseError.message}`);
  const rows = outcome.results[0]?.rows ?? [];
  const first = rows[0];
  if (!first) throw new Error('the catalog lookup returned no row');
  const temporaryExists = first[3] === 't';
  if (first[0] === null || first[1] === null) return { found: false, temporaryExists };
  const columns = rows.map((r) => r[2]).filter((c): c is string => c !== null && c !== undefined);
  return { found: true, schema: first[0]!, table: first[1]!, columns, temporaryExists };
}

/** A session's resolver: one side connection, opened at the first lookup and closed with the session. */
export class SessionCatalogResolver implements ColumnResolver, CopyTableResolver {
  private conn?: Promise<UpstreamConnection>;

  constructor(
    private readonly ctx: SessionContext,
    private readonly loginTimeoutMs?: number,
  ) {}

  async resolve(oids: number[]): Promise<Map<number, TableColumns>> {
    return lookUpTables(await this.connection(), oids, this.ctx.signal);
  }

  async copyTable(relation: CopyRelation): Promise<CopyTable> {
    return lookUpCopyTable(await this.connection(), relation, this.ctx.signal);
  }

  private connection(): Promise<UpstreamConnection> {
    if (this.ctx.signal.aborted) return Promise.reject(new Error(endedMessage(this.ctx.signal)));
    this.conn ??= loginUpstream({
      target: this.ctx.target,
      resolveSecret: (ref) => this.ctx.resolveSecret(ref),
      startupParams: { application_name: 'airlock masking' },
      signal: this.ctx.signal,
      timeoutMs: this.loginTimeoutMs,
    });
    return this.conn;
  }

  close(): void {
    void this.conn?.then((c) => {
      if (!c.socket.destroyed) c.socket.end(ser.terminate());
      setTimeout(() => c.socket.destroy(), 1_000).unref();
    }, () => undefined);
  }
}
