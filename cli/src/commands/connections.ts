import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  ApiClient,
  CONNECTION_TYPES,
  type Connection,
  type ConnectionType,
  type CreateConnectionInput,
} from '../lib/api.js';
import { parsePort, parseSecretRef } from '../lib/arguments.js';
import {
  addJsonOption,
  emit,
  humanTimestamp,
  NONE,
  printLine,
  renderDetails,
  renderTable,
  yesNo,
  type JsonOption,
} from '../lib/output.js';

interface CreateOptions extends JsonOption {
  type: ConnectionType;
  agent: string;
  host: string;
  port: number;
  database?: string;
  user?: string;
  secret?: string;
  tlsMode?: string;
  tag: Record<string, string>;
  option: Record<string, string>;
}

export function registerConnections(program: Command): void {
  const connections = program
    .command('connections')
    .description('connections: named targets (a database, SSH host, HTTP service, Kubernetes API or TCP service) and the agent that reaches them');

  addJsonOption(
    connections
      .command('create')
      .argument('<name>', 'connection name, used by airlock connect NAME')
      .description('define a target reachable through an agent')
      .addOption(new Option('--type <type>', 'protocol').choices(CONNECTION_TYPES).makeOptionMandatory())
      .requiredOption('--agent <name>', 'agent that reaches the target')
      .requiredOption('--host <host>', 'target host, as the agent resolves it')
      .requiredOption('--port <port>', 'target port (1-65535)', parsePort)
      .option('--database <name>', 'database name (postgres)')
      .option('--user <user>', 'user the agent logs in as')
      .option('--secret <ref>', 'where the agent reads the password: env:VAR or file:/path', parseSecretRef)
      .option('--tls-mode <mode>', 'TLS to the target (e.g. disable, require, verify-full)')
      .option('--tag <key=value>', 'a label policies can select with tag:KEY=VALUE (repeatable)', collectTag, {})
      .option('--option <key=value>', 'a type-specific setting, e.g. credential=bearer, header=X-Api-Key, scheme=https (repeatable)', collectTag, {}),
  ).action(async (name: string, options: CreateOptions) => {
    const input: CreateConnectionInput = {
      name,
      type: options.type,
      agent: options.agent,
      host: options.host,
      port: options.port,
      ...(options.database !== undefined ? { database: options.database } : {}),
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(options.secret !== undefined ? { secret: options.secret } : {}),
      ...(options.tlsMode !== undefined ? { tlsMode: options.tlsMode } : {}),
      ...(Object.keys(options.tag).length > 0 ? { tags: options.tag } : {}),
      ...(Object.keys(options.option).length > 0 ? { options: options.option } : {}),
    };
    const created = await ApiClient.forCurrentProfile().createConnection(input);
    emit(options, created, renderCreated);
  });

  addJsonOption(connections.command('list').description('list connections')).action(
    async (options: JsonOption) => {
      const list = await ApiClient.forCurrentProfile().listConnections();
      emit(options, list, renderConnections);
    },
  );

  addJsonOption(
    connections.command('show').argument('<name>', 'connection name').description('show one connection'),
  ).action(async (name: string, options: JsonOption) => {
    const connection = await ApiClient.forCurrentProfile().getConnection(name);
    emit(options, connection, renderConnection);
  });

  connections
    .command('delete')
    .argument('<name>', 'connection name')
    .description('delete a connection')
    .action(async (name: string) => {
      await ApiClient.forCurrentProfile().deleteConnection(name);
      printLine(`Deleted connection ${name}`);
    });
}

function target(c: Connection): string {
  return `${c.host}:${c.port}${c.database ? `/${c.database}` : ''}`;
}

/** The policies covering a connection; with none, only admins may use it (unrestricted). */
function policyNames(c: Connection): string {
  if (c.policies === undefined) return NONE;
  return c.policies.length > 0 ? c.policies.join(', ') : 'none (admins only)';
}

function renderCreated(c: Connection): string {
  const lines = [`Created connection ${c.name}: ${c.type} ${target(c)} via agent ${c.agent}`];
  if (c.agentConnected === false) {
    lines.push(`Agent ${c.agent} is not connected yet; sessions will fail until it is.`);
  }
  return lines.join('\n');
}

function renderConnections(connections: Connection[]): string {
  if (connections.length === 0) {
    return 'No connections yet. Create one with: airlock connections create NAME --type postgres --agent AGENT --host HOST --port PORT';
  }
  return renderTable(connections, [
    { header: 'NAME', value: (c) => c.name },
    { header: 'TYPE', value: (c) => c.type },
    { header: 'TARGET', value: target },
    { header: 'USER', value: (c) => c.user || NONE },
    { header: 'AGENT', value: (c) => c.agent },
    { header: 'AGENT CONNECTED', value: (c) => yesNo(c.agentConnected) },
    { header: 'POLICY', value: policyNames },
  ]);
}

function renderConnection(c: Connection): string {
  return renderDetails([
    ['Name', c.name],
    ['ID', c.id],
    ['Type', c.type],
    ['Agent', `${c.agent} (${c.agentConnected ? 'connected' : 'not connected'})`],
    ['Host', c.host],
    ['Port', String(c.port)],
    ['Database', c.database || NONE],
    ['User', c.user || NONE],
    ['Secret', c.secret || NONE],
    ['TLS mode', c.tlsMode || NONE],
    ['Tags', Object.entries(c.tags ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || NONE],
    ['Options', Object.entries(c.options ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || NONE],
    ['Policies', policyNames(c)],
    ['Created', humanTimestamp(c.createdAt)],
  ]);
}

function collectTag(value: string, tags: Record<string, string>): Record<string, string> {
  const match = /^([^=]+)=(.*)$/.exec(value);
  if (!match) throw new InvalidArgumentError('Expected key=value, e.g. env=prod.');
  return { ...tags, [match[1]!]: match[2]! };
}
