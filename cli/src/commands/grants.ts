import type { Command } from 'commander';
import { ApiClient, type Grant } from '../lib/api.js';
import { addJsonOption, emit, humanAge, NONE, renderTable, type JsonOption } from '../lib/output.js';
import { grantLength } from './request.js';

export function registerGrants(program: Command): void {
  const grants = program.command('grants').description('just-in-time grants: approved access to a connection, until it expires or is revoked');

  addJsonOption(
    grants
      .command('list')
      .description('list grants in force, newest first (yours, or everyone\'s for an admin)')
      .option('--all', 'also those that expired or were revoked'),
  ).action(async (options: JsonOption & { all?: boolean }) => {
    const list = await ApiClient.forCurrentProfile().listGrants(!options.all);
    emit(options, list, (rows) => renderGrants(rows, options.all === true));
  });

  addJsonOption(
    grants
      .command('revoke')
      .argument('<id>', 'grant id')
      .description('end a grant now (admins and the policy\'s reviewers); the holder\'s sessions under it are killed'),
  ).action(async (id: string, options: JsonOption) => {
    const grant = await ApiClient.forCurrentProfile().revokeGrant(id);
    emit(options, grant, (g) => `revoked grant ${g.id}: ${g.subject} on ${g.connection}; their sessions under it are being ended`);
  });
}

function renderGrants(list: Grant[], all: boolean): string {
  if (list.length === 0) return all ? 'No grants.' : 'No grants in force.';
  return renderTable(list, [
    { header: 'ID', value: (g) => String(g.id) },
    { header: 'SUBJECT', value: (g) => g.subject },
    { header: 'CONNECTION', value: (g) => g.connection },
    { header: 'STATE', value: (g) => (g.state === 'revoked' && g.revokedBy ? `revoked by ${g.revokedBy}` : g.state) },
    { header: 'FOR', value: grantLength },
    { header: 'EXPIRES', value: (g) => (g.state === 'active' ? humanAge(g.expiresAt) : NONE) },
    { header: 'REVIEW', value: (g) => String(g.reviewId) },
  ]);
}
