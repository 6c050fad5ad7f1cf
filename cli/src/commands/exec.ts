import type { Command } from 'commander';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ClientServicePaths, ExecRequestSchema, ExecResponseSchema, frameMessage, GrpcCallError, GrpcStatus } from '@airlock/proto';
import type { ExecResponse, ExecResultSet, GrpcChannel } from '@airlock/proto';
import { StatusLine } from '../lib/status-line.js';
import { parsePositiveInteger } from '../lib/arguments.js';
import { CliError, ExitCode } from '../lib/errors.js';
import { loadProfile } from '../lib/profile.js';
import { LoginSession } from '../lib/login-session.js';
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
      await LoginSession.of(profile)?.fresh(); // gRPC sends the token as it is: refresh it first
      const channel = channelFor(profile);
      let response: ExecResponse;
      try {
        const request = create(ExecRequestSchema, { connection, sql: options.command, maxRows: options.maxRows });
        response = await runExec(channel, toBinary(ExecRequestSchema, request), new StatusLine(process.stderr));
      } catch (error) {
        throw error instanceof CliError ? error : cliErrorFromGrpc(error, profile.grpcUrl ?? profile.url);
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

/**
 * Streams the Exec call: progress lines (a held statement) go to the status line, the last message
 * is the result. Ctrl-C cancels the call, which withdraws the held statement and cancels its review.
 */
async function runExec(channel: GrpcChannel, request: Uint8Array, status: StatusLine): Promise<ExecResponse> {
  const call = channel.open(ClientServicePaths.exec);
  call.stream.end(frameMessage(request));
  let cancelled = false;
  const cancel = () => {
    cancelled = true;
    call.cancel();
  };
  process.once('SIGINT', cancel);
  try {
    for await (const payload of call.reader.messages()) {
      const message = fromBinary(ExecResponseSchema, payload);
      if (message.progress) status.show(message.progress);
      if (message.outcome) return message;
    }
  } catch {
    // the status below explains it
  } finally {
    process.off('SIGINT', cancel);
    status.done();
  }
  if (cancelled) throw new CliError('cancelled: the statement was withdrawn and its review cancelled', ExitCode.General);
  const final = await call.status;
  throw new GrpcCallError(final.code === GrpcStatus.OK ? GrpcStatus.UNAVAILABLE : final.code, final.message || 'the control plane sent no result');
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
