import type { Command } from 'commander';
import { ApiClient, type CreatedUser, ROLES, type Role, type User, UsageError } from '../lib/api.js';
import { addJsonOption, emit, humanAge, NONE, printLine, renderTable, type JsonOption } from '../lib/output.js';

interface CreateOptions extends JsonOption {
  group: string[];
  admin?: boolean;
  role?: string;
}

export function registerUsers(program: Command): void {
  const users = program.command('users').description('local users (until single sign-on): people who log in with a token');

  addJsonOption(
    users
      .command('create')
      .argument('<name>', 'user name, e.g. alice@example.com; policies name them user:NAME')
      .description('create a user and print the token they log in with (shown only once)')
      .option('--group <group>', 'a group the user belongs to (repeat for several); policies name it group:NAME', collect, [])
      .option('--admin', 'let the user manage agents, connections, users and policies (same as --role admin)')
      .option('--role <role>', `${ROLES.join(', ')}: reviewers decide reviews addressed to their groups, auditors read sessions, reviews and the audit log`),
  ).action(async (name: string, options: CreateOptions) => {
    if (options.role !== undefined && !(ROLES as readonly string[]).includes(options.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${options.role}"`);
    if (options.admin && options.role !== undefined && options.role !== 'admin') throw new UsageError('--admin and --role disagree: pass one of them');
    const role = options.admin ? 'admin' : (options.role as Role | undefined);
    const created = await ApiClient.forCurrentProfile().createUser({
      name,
      ...(options.group.length > 0 ? { groups: options.group } : {}),
      ...(role ? { role } : {}),
    });
    emit(options, created, renderCreated);
  });

  addJsonOption(users.command('list').description('list users')).action(async (options: JsonOption) => {
    emit(options, await ApiClient.forCurrentProfile().listUsers(), renderUsers);
  });

  users
    .command('delete')
    .argument('<name>', 'user name')
    .description('delete a user; their tokens stop working at once')
    .action(async (name: string) => {
      await ApiClient.forCurrentProfile().deleteUser(name);
      printLine(`Deleted user ${name}; their tokens no longer work`);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function renderCreated(created: CreatedUser): string {
  const { user } = created;
  const groups = user.groups.length > 0 ? ` in ${user.groups.map((g) => `group:${g}`).join(', ')}` : '';
  return [
    `Created ${user.role === 'user' ? 'user' : user.role} ${user.subject}${groups}.`,
    '',
    'Token (shown only once):',
    `  ${created.token}`,
    '',
    'They log in with:',
    `  ${created.login}`,
  ].join('\n');
}

function renderUsers(users: User[]): string {
  if (users.length === 0) return 'No users yet. Create one with: airlock users create NAME --group GROUP';
  return renderTable(users, [
    { header: 'NAME', value: (u) => u.name },
    { header: 'ROLE', value: (u) => u.role },
    { header: 'GROUPS', value: (u) => (u.groups.length > 0 ? u.groups.join(', ') : NONE) },
    { header: 'CREATED', value: (u) => `${humanAge(u.createdAt)} by ${u.createdBy}` },
  ]);
}
