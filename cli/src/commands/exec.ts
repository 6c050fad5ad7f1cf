import type { Command } from 'commander';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ClientServicePaths, ExecRequestSchema, ExecResponseSchema } from '@airlock/proto';
import type { ExecResponse, ExecResultSet } from '@airlock/proto';
import { parsePositiveInteger } from '../lib/arguments.js';
import { CliError } from '../lib/errors.js';
import { loadProfile } from '../lib/profile.js';
import { printJson, printLine, renderTable } from '../lib/output.js';
import { channelFor, cliErrorFromGrpc } from '../tunnel/channel.js';

interface ExecOptions {
  command: string;
  json?: boolean;
  maxRows: number;
}

/** The stable JSON shape of `airlock exec --json`. */
export interface ExecJson {
  sessionId: string;
  results: {
    columns: { name: string; typeOid: number }[];
    rows: (string | null)[][];
    commandTag: string;
    rowsAffected: number | null;
    truncated: boolean;
  }[];
  error: { sqlstate: string; message: string; detail: string; hint: string } | null;
}

export function registerExec(program: Command): void {
  program
    .command('exec')
    .argument('<connection>', 'connection name (airlock connections list)')
    .description('run SQL through airlock and print the result (for scripts and automation)')
    .requiredOption('-c, --command <sql>', 'the SQL to run')
    .option('--max-rows <n>', 'rows to return per result set; more are counted as truncated', parsePositiveInteger, 10_000)
    .option('--json', 'print JSON (stable camelCase fields) instead of tables')
    .action(async (connection: string, options: ExecOptions) => {
      const profile = loadProfile();
      const channel = channelFor(profile);
      let response: ExecResponse;
      try {
        const request = create(ExecRequestSchema, { connection, sql: options.command, maxRows: options.maxRows });
        const reply = await channel.unary(ClientServicePaths.exec, toBinary(ExecRequestSchema, request), 10 * 60_000);
        response = fromBinary(ExecResponseSchema, reply);
      } catch (error) {
        throw cliErrorFromGrpc(error, profile.grpcUrl ?? profile.url);
      } finally {
        channel.close();
      }
      const result = toExecJson(response);
      if (options.json) printJson(result);
      else printLine(result.results.map(renderResultSet).join('\n\n'));
      if (result.error) {
        const e = result.error;
        if (!options.json) throw new CliError(`ERROR: ${e.message} (SQLSTATE ${e.sqlstate})${e.detail ? `\nDETAIL: ${e.detail}` : ''}${e.hint ? `\nHINT: ${e.hint}` : ''}`);
        process.exitCode = 1;
      }
    });
}

export function toExecJson(response: ExecResponse): ExecJson {
  const outcome = response.outcome;
  const error = outcome?.databaseError;
  return {
    sessionId: response.sessionId,
    results: (outcome?.results ?? []).map((set: ExecResultSet) => ({
      columns: set.columns.map((c) => ({ name: c.name, typeOid: c.typeOid })),
      rows: set.rows.map((row) => row.values.map((v) => (v.value.case === 'text' ? v.value.value : null))),
      commandTag: set.commandTag,
      rowsAffected: set.rowsAffected === undefined ? null : Number(set.rowsAffected),
      truncated: set.truncated,
    })),
    error: error ? { sqlstate: error.sqlstate, message: error.message, detail: error.detail, hint: error.hint } : null,
  };
}

function renderResultSet(set: ExecJson['results'][number]): string {
  const footer = set.columns.length > 0 ? `(${set.rows.length} row${set.rows.length === 1 ? '' : 's'}${set.truncated ? ', truncated: use --max-rows' : ''})` : set.commandTag;
  if (set.columns.length === 0) return footer;
  const columns = set.columns.map((column, index) => ({
    header: column.name,
    value: (row: (string | null)[]) => row[index] ?? 'NULL',
  }));
  return `${renderTable(set.rows, columns)}\n${footer}`;
}
