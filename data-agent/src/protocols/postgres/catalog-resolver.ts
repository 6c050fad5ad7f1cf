/**
 * Finds the table columns a result reads, for column masking rules: RowDescription gives each column's
 * table OID and attribute number, and the catalog names them. Sessions look them up on a separate
 * connection (the session's own may be mid-transaction or mid-result), logged in with the same code
 * and credential; exec uses its own connection once the statement is done.
 */
import { endedMessage, type SessionContext } from '../engine.js';
import { runQuery } from './exec.js';
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

/** A session's resolver: one side connection, opened at the first lookup and closed with the session. */
export class SessionCatalogResolver implements ColumnResolver {
  private conn?: Promise<UpstreamConnection>;

  constructor(
    private readonly ctx: SessionContext,
    private readonly loginTimeoutMs?: number,
  ) {}

  async resolve(oids: number[]): Promise<Map<number, TableColumns>> {
    if (this.ctx.signal.aborted) throw new Error(endedMessage(this.ctx.signal));
    this.conn ??= loginUpstream({
      target: this.ctx.target,
      resolveSecret: (ref) => this.ctx.resolveSecret(ref),
      startupParams: { application_name: 'airlock masking' },
      signal: this.ctx.signal,
      timeoutMs: this.loginTimeoutMs,
    });
    return lookUpTables(await this.conn, oids, this.ctx.signal);
  }

  close(): void {
    void this.conn?.then((c) => {
      if (!c.socket.destroyed) c.socket.end(ser.terminate());
      setTimeout(() => c.socket.destroy(), 1_000).unref();
    }, () => undefined);
  }
}
