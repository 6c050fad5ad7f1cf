import type { Command } from 'commander';
import { ApiClient, type Agent, type CreatedAgent } from '../lib/api.js';
import {
  addJsonOption,
  emit,
  humanAge,
  humanTimestamp,
  NONE,
  printLine,
  renderTable,
  yesNo,
  type JsonOption,
} from '../lib/output.js';

export function registerAgents(program: Command): void {
  const agents = program
    .command('agents')
    .description('data agents: the processes inside your network that reach the targets');

  addJsonOption(
    agents.command('create').argument('<name>', 'agent name').description('register an agent and print its one-time join token'),
  ).action(async (name: string, options: JsonOption) => {
    const created = await ApiClient.forCurrentProfile().createAgent(name);
    emit(options, created, renderCreatedAgent);
  });

  addJsonOption(agents.command('list').description('list agents and whether they are connected')).action(
    async (options: JsonOption) => {
      const list = await ApiClient.forCurrentProfile().listAgents();
      emit(options, list, renderAgents);
    },
  );

  addJsonOption(
    agents
      .command('revoke')
      .argument('<name>', 'agent name')
      .description("revoke an agent: its live sessions and control stream close within a second, and it can never connect again"),
  ).action(async (name: string, options: JsonOption) => {
    const revoked = await ApiClient.forCurrentProfile().revokeAgent(name);
    emit(options, revoked, (a) => `Revoked agent ${a.name}: its streams are closed and it is refused from now on`);
  });

  agents
    .command('delete')
    .argument('<name>', 'agent name')
    .description('delete an agent; it can no longer connect')
    .action(async (name: string) => {
      await ApiClient.forCurrentProfile().deleteAgent(name);
      printLine(`Deleted agent ${name}`);
    });
}

function renderCreatedAgent(created: CreatedAgent): string {
  return [
    `Created agent ${created.agent.name} (${created.agent.id}).`,
    '',
    `Join token (shown only once, expires ${humanTimestamp(created.joinTokenExpiresAt)}):`,
    `  ${created.joinToken}`,
    '',
    'Start the agent on a host that can reach your targets:',
    `  ${created.command}`,
  ].join('\n');
}

function renderAgents(agents: Agent[]): string {
  if (agents.length === 0) return 'No agents yet. Create one with: airlock agents create NAME';
  return renderTable(agents, [
    { header: 'NAME', value: (a) => a.name },
    { header: 'CONNECTED', value: (a) => (a.revoked ? 'revoked' : yesNo(a.connected)) },
    { header: 'ENROLLED', value: (a) => yesNo(a.enrolled) },
    { header: 'HOSTNAME', value: (a) => a.hostname || NONE },
    { header: 'LAST SEEN', value: (a) => (a.lastSeenAt ? humanAge(a.lastSeenAt) : 'never') },
  ]);
}
