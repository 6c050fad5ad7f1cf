import type { Command } from 'commander';
import { ApiClient, type Session, type SessionDetail } from '../lib/api.js';
import { parsePositiveInteger } from '../lib/arguments.js';
import {
  addJsonOption,
  emit,
  humanAge,
  humanBytes,
  humanDuration,
  humanTimestamp,
  NONE,
  renderDetails,
  renderTable,
  truncate,
  type JsonOption,
} from '../lib/output.js';
import { describeStatementError, normalizeStatement, type StatementView } from '../lib/statements.js';
import { registerSessionPlayback } from './session-playback.js';

interface ListOptions extends JsonOption {
  connection?: string;
  limit?: number;
}

type SessionWithStatements = Omit<SessionDetail, 'statements'> & { statements: StatementView[] };

const ERROR_COLUMN_WIDTH = 40;

export function registerSessions(program: Command): void {
  const sessions = program.command('sessions').description('recorded sessions and their statements');

  addJsonOption(
    sessions
      .command('list')
      .description('list recent sessions, newest first')
      .option('--connection <name>', 'only sessions of this connection')
      .option('--limit <n>', 'at most this many sessions', parsePositiveInteger),
  ).action(async (options: ListOptions) => {
    const list = await ApiClient.forCurrentProfile().listSessions({
      limit: options.limit,
      connection: options.connection,
    });
    emit(options, list, renderSessions);
  });

  addJsonOption(
    sessions.command('show').argument('<id>', 'session id').description('show a session and its statements'),
  ).action(async (id: string, options: JsonOption) => {
    const api = ApiClient.forCurrentProfile();
    const detail = await api.getSession(id);
    const statements = (Array.isArray(detail.statements) ? detail.statements : []).map(normalizeStatement);
    // Sessions reference their agent by id; people know agents by name.
    const agent = options.json ? undefined : (await api.listAgents()).find((a) => a.id === detail.agentId)?.name;
    emit(options, { ...detail, statements }, (s) => renderSession(s, agent ?? detail.agentId));
  });

  registerSessionPlayback(sessions);
}

function sessionDuration(s: Session): string {
  if (!s.endedAt) return NONE;
  return humanDuration(Date.parse(s.endedAt) - Date.parse(s.startedAt));
}

function renderSessions(sessions: Session[]): string {
  if (sessions.length === 0) return 'No sessions recorded.';
  return renderTable(sessions, [
    { header: 'ID', value: (s) => s.id },
    { header: 'CONNECTION', value: (s) => s.connection },
    { header: 'SUBJECT', value: (s) => s.subject },
    { header: 'MODE', value: (s) => s.mode },
    { header: 'STATUS', value: (s) => s.status },
    { header: 'STARTED', value: (s) => humanAge(s.startedAt) },
    { header: 'DURATION', value: sessionDuration },
    { header: 'FROM CLIENT', value: (s) => humanBytes(s.bytesFromClient) },
    { header: 'TO CLIENT', value: (s) => humanBytes(s.bytesToClient) },
  ]);
}

function renderSession(s: SessionWithStatements, agentName: string): string {
  const error = s.error ? [s.error.code, s.error.message].filter(Boolean).join(': ') : undefined;
  const header = renderDetails([
    ['Session', s.id],
    ['Connection', `${s.connection} (agent ${agentName})`],
    ['Subject', s.subject],
    ['Mode', s.mode],
    ['Client', s.clientAddress || NONE],
    ['Status', s.status],
    ['Started', humanTimestamp(s.startedAt)],
    ['Ended', s.endedAt ? humanTimestamp(s.endedAt) : NONE],
    ['Duration', sessionDuration(s)],
    ['Traffic', `${humanBytes(s.bytesFromClient)} from client, ${humanBytes(s.bytesToClient)} to client`],
    ['Error', error],
  ]);
  return `${header}\n\n${renderStatements(s.statements)}`;
}

function renderStatements(statements: StatementView[]): string {
  if (statements.length === 0) return 'No statements recorded.';
  return renderTable(statements, [
    { header: '#', value: (st) => String(st.sequence) },
    { header: 'STATEMENT', value: (st) => st.text, flex: true },
    { header: 'DURATION', value: (st) => humanDuration(st.durationMs) },
    { header: 'ROWS', value: (st) => (st.rows === null ? NONE : String(st.rows)) },
    { header: 'ERROR', value: (st) => truncate(describeStatementError(st.error), ERROR_COLUMN_WIDTH) },
  ]);
}
