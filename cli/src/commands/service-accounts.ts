import type { Command } from 'commander';
import { ApiClient, type CreatedServiceAccount, ROLES, type Role, type ServiceAccount, UsageError } from '../lib/api.js';
import { addJsonOption, emit, humanAge, NONE, printLine, renderTable, type JsonOption } from '../lib/output.js';
import { loadProfile } from '../lib/profile.js';

interface CreateOptions extends JsonOption {
  role?: string;
  group: string[];
  description?: string;
  expires?: string;
}

interface ListOptions extends JsonOption {
  all?: boolean;
}

export function registerServiceAccounts(program: Command): void {
  const accounts = program.command('service-accounts').description('machine identities for CI jobs and AI agents, with API keys');

  addJsonOption(
    accounts
      .command('create')
      .argument('<name>', 'account name, e.g. nightly-ci; policies name it serviceaccount:NAME')
      .description('create a service account and print its API key (shown only once)')
      .option('--role <role>', `what it may do: ${ROLES.join(', ')}`, 'user')
      .option('--group <group>', 'a group it belongs to (repeat for several); policies name it group:NAME', collect, [])
      .option('--description <text>', 'what it is for')
      .option('--expires <duration>', 'how long the key works, e.g. 90d or 12h (default: until revoked)'),
  ).action(async (name: string, options: CreateOptions) => {
    if (options.role !== undefined && !(ROLES as readonly string[]).includes(options.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${options.role}"`);
    if (options.expires !== undefined && !/^(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?$/.test(options.expires)) {
      throw new UsageError(`--expires must be a duration such as 90d, 12h or 30m, got "${options.expires}"`);
    }
    const created = await ApiClient.forCurrentProfile().createServiceAccount({
      name,
      role: options.role as Role,
      ...(options.group.length > 0 ? { groups: options.group } : {}),
      ...(options.description ? { description: options.description } : {}),
      ...(options.expires ? { expiresIn: options.expires } : {}),
    });
    emit(options, created, (value) => renderCreated(value, loadProfile().url));
  });

  addJsonOption(
    accounts.command('list').description('list service accounts: never their keys, only the visible prefix').option('--all', 'include revoked accounts'),
  ).action(async (options: ListOptions) => {
    emit(options, await ApiClient.forCurrentProfile().listServiceAccounts(Boolean(options.all)), renderAccounts);
  });

  addJsonOption(
    accounts.command('revoke').argument('<name>', 'account name').description('revoke a service account: its key stops working at once'),
  ).action(async (name: string, options: JsonOption) => {
    const revoked = await ApiClient.forCurrentProfile().revokeServiceAccount(name);
    emit(options, revoked, (a) => `Revoked service account ${a.name}; its key ${a.keyPrefix}… no longer works`);
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function renderCreated(created: CreatedServiceAccount, url: string): string {
  const { serviceAccount: account } = created;
  const groups = account.groups.length > 0 ? ` in ${account.groups.map((g) => `group:${g}`).join(', ')}` : '';
  return [
    `Created ${account.subject} (${account.role})${groups}${account.expiresAt ? `, key valid until ${account.expiresAt}` : ''}.`,
    '',
    'API key (shown only once; the control plane keeps only its hash):',
    `  ${created.key}`,
    '',
    'Use it from a job or an agent with:',
    `  AIRLOCK_URL=${url} AIRLOCK_TOKEN=<key> airlock exec CONNECTION -c "select 1"`,
  ].join('\n');
}

function renderAccounts(accounts: ServiceAccount[]): string {
  if (accounts.length === 0) return 'No service accounts. Create one with: airlock service-accounts create NAME --group GROUP';
  return renderTable(accounts, [
    { header: 'NAME', value: (a) => a.name },
    { header: 'ROLE', value: (a) => a.role },
    { header: 'GROUPS', value: (a) => (a.groups.length > 0 ? a.groups.join(', ') : NONE) },
    { header: 'KEY', value: (a) => `${a.keyPrefix}…` },
    { header: 'STATE', value: (a) => a.state },
    { header: 'EXPIRES', value: (a) => a.expiresAt ?? 'never' },
    { header: 'LAST USED', value: (a) => (a.lastUsedAt ? humanAge(a.lastUsedAt) : 'never') },
    { header: 'CREATED', value: (a) => `${humanAge(a.createdAt)} by ${a.createdBy}` },
  ]);
}
