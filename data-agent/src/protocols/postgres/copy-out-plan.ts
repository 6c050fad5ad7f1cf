/**
 * How to mask one COPY ... TO STDOUT, decided when its CopyOutResponse arrives: the statement that
 * produced it (its text, read with the session's parser) gives the format and the table; the catalog
 * names the columns COPY writes; each column gets the mask a SELECT of it would get. Where the columns
 * cannot be named for certain — COPY (query), an unqualified table after search_path changed, a table
 * the catalog connection cannot see or that a temporary table may hide, a count that does not match —
 * column rules refuse the COPY. With content rules only, no names are needed: every field gets them.
 */
import type { CopyStatementText, ResultColumnMask, ResultMasking } from '../engine.js';
import { copyOutFormat } from './copy-format.js';
import type { CopyTextFormat } from './copy-text.js';

export interface CopyRelation {
  schema: string | null;
  name: string;
}

export type CopyTable =
  | { found: true; schema: string; table: string; columns: string[]; temporaryExists: boolean }
  /** The catalog connection does not see it: a temporary table, or one not committed yet. */
  | { found: false; temporaryExists: boolean };

/** Finds the table of a COPY in the catalog; throws when the catalog cannot be read. */
export interface CopyTableResolver {
  copyTable(relation: CopyRelation): Promise<CopyTable>;
}

/** What the session knows about the SQL it sent (the statement gate, see StatementGate). */
export interface CopyStatementReader {
  readCopyStatements?(sql: string): Promise<(CopyStatementText | null)[] | undefined>;
  searchPathIsDefault?(): boolean;
}

export interface CopyOutContext {
  /** The statement being answered, as the tracker pairs it; undefined when none is. */
  statement: { text: string; command: number } | undefined;
  columnCount: number;
}

export type CopyPlan =
  /** forceQuote per column: CSV quotes its values whatever they are (FORCE_QUOTE); undefined when not known. */
  | { kind: 'fields'; format: CopyTextFormat; masks: (ResultColumnMask | undefined)[]; forceQuote: (boolean | undefined)[] }
  /** Nothing to mask: the data passes as it is. */
  | { kind: 'pass' }
  /** Content rules over each line as a whole: the statement could not be read, and no column rule needs it. */
  | { kind: 'lines' }
  | { kind: 'refuse'; message: string };

const USE_SELECT = 'use SELECT to read masked tables';

export interface CopyPlanDeps {
  masking: ResultMasking;
  reader?: CopyStatementReader;
  tables?: CopyTableResolver;
  /** The catalog could not be read (the client is told only that). */
  onLookupError?: (error: Error) => void;
}

export async function planCopyOut(copy: CopyOutContext, deps: CopyPlanDeps): Promise<CopyPlan> {
  const { masking, reader } = deps;
  const read = await readStatement(copy, reader);
  if (typeof read === 'string') {
    return masking.hasColumnRules ? refuse(`COPY TO STDOUT cannot be masked by column: ${read}; ${USE_SELECT}`) : { kind: 'lines' };
  }
  const format = copyOutFormat(read);
  if (!format.ok || format.format === 'binary') {
    const why = format.ok ? 'its statement asks for binary format but the server sends text' : format.reason;
    return masking.hasColumnRules ? refuse(`COPY TO STDOUT cannot be masked by column: ${why}; ${USE_SELECT}`) : { kind: 'lines' };
  }
  const { forceQuote } = format;
  if (!masking.hasColumnRules) {
    const masks = Array.from({ length: copy.columnCount }, () => masking.forColumn('expression'));
    return fields(format.format, masks, forcedQuoting(forceQuote, copy.columnCount, read.columns));
  }
  if (read.relation === null) {
    return refuse('COPY (query) TO STDOUT cannot be masked by column, as its columns cannot be named from the statement; run the query as a SELECT instead');
  }
  const named = await nameColumns(read.relation, read.columns, deps);
  if ('refusal' in named) return refuse(`COPY TO STDOUT of "${displayName(read.relation)}" cannot be masked by column: ${named.refusal}; ${USE_SELECT}`);
  if (named.columns.length !== copy.columnCount) {
    return refuse(`COPY TO STDOUT of "${displayName(read.relation)}" cannot be masked by column: airlock names ${named.columns.length} columns but the server sends ${copy.columnCount}; ${USE_SELECT}`);
  }
  const masks = named.columns.map((column) => masking.forColumn({ schema: named.schema, table: named.table, column }));
  return fields(format.format, masks, forcedQuoting(forceQuote, copy.columnCount, named.columns));
}

/** Per column, whether CSV's FORCE_QUOTE quotes it; undefined where a list names columns whose names are not known. */
function forcedQuoting(forceQuote: '*' | string[], columnCount: number, names: string[] | null): (boolean | undefined)[] {
  return Array.from({ length: columnCount }, (_, i) => {
    if (forceQuote === '*') return true;
    if (forceQuote.length === 0) return false;
    return names ? forceQuote.includes(names[i] ?? '') : undefined;
  });
}

/** The COPY statement being answered, or why it cannot be read. */
async function readStatement(copy: CopyOutContext, reader: CopyStatementReader | undefined): Promise<CopyStatementText | string> {
  if (!copy.statement) return 'airlock cannot tell which statement it answers';
  if (!reader?.readCopyStatements) return 'this session cannot read its statements';
  const statements = await reader.readCopyStatements(copy.statement.text);
  if (!statements) return 'its statement cannot be read reliably';
  const statement = statements[copy.statement.command];
  if (!statement || statement.direction !== 'to' || statement.endpoint !== 'client') return 'airlock cannot tell which statement it answers';
  return statement;
}

async function nameColumns(
  relation: CopyRelation,
  listed: string[] | null,
  { reader, tables, onLookupError }: CopyPlanDeps,
): Promise<{ schema: string; table: string; columns: string[] } | { refusal: string }> {
  const unqualified = relation.schema === null;
  if (unqualified && reader?.searchPathIsDefault?.() !== true) {
    return { refusal: 'the session changed search_path, so which table the unqualified name means is not known; name it as schema.table' };
  }
  if (!tables) return { refusal: 'the catalog cannot be read' };
  let found: CopyTable;
  try {
    found = await tables.copyTable(relation);
  } catch (err) {
    onLookupError?.(err as Error);
    return { refusal: 'the catalog could not be read' };
  }
  if (unqualified && found.temporaryExists) {
    return { refusal: 'a temporary table of that name exists and may hide it; name it as schema.table' };
  }
  if (!found.found) return { refusal: 'airlock\'s catalog connection does not see that table (temporary, or not committed yet)' };
  return { schema: found.schema, table: found.table, columns: listed ?? found.columns };
}

function fields(format: CopyTextFormat, masks: (ResultColumnMask | undefined)[], forceQuote: (boolean | undefined)[]): CopyPlan {
  return masks.some((m) => m !== undefined) ? { kind: 'fields', format, masks, forceQuote } : { kind: 'pass' };
}

function refuse(message: string): CopyPlan {
  return { kind: 'refuse', message: `airlock: ${message}` };
}

function displayName(relation: CopyRelation): string {
  return relation.schema === null ? relation.name : `${relation.schema}.${relation.name}`;
}
