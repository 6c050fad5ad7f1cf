import type { Command } from 'commander';
import { ApiClient, type PolicyDetail, type PolicySummary, type PolicyVersions } from '../lib/api.js';
import { addJsonOption, emit, humanAge, humanTimestamp, printLine, renderDetails, renderTable, type JsonOption } from '../lib/output.js';

interface ShowOptions extends JsonOption {
  versions?: boolean;
}

export function registerPolicies(program: Command): void {
  const policies = program
    .command('policies')
    .description('policies: who may use which connections, and which statements need review (change them with airlock apply -f)');

  addJsonOption(policies.command('list').description('list policies')).action(async (options: JsonOption) => {
    emit(options, await ApiClient.forCurrentProfile().listPolicies(), renderPolicies);
  });

  addJsonOption(
    policies
      .command('show')
      .argument('<name>', 'policy name')
      .description('show a policy and the document it was applied from')
      .option('--versions', 'list every version applied, newest first'),
  ).action(async (name: string, options: ShowOptions) => {
    const api = ApiClient.forCurrentProfile();
    if (options.versions) emit(options, await api.policyVersions(name), renderVersions);
    else emit(options, await api.getPolicy(name), renderPolicy);
  });

  policies
    .command('delete')
    .argument('<name>', 'policy name')
    .description('delete a policy; it stops applying at once and its versions are kept')
    .action(async (name: string) => {
      await ApiClient.forCurrentProfile().deletePolicy(name);
      printLine(`policy/${name} deleted`);
    });
}

function renderPolicies(policies: PolicySummary[]): string {
  if (policies.length === 0) {
    return 'No policies yet: connections are usable by admins only. Apply one with: airlock apply -f policy.yaml';
  }
  return renderTable(policies, [
    { header: 'NAME', value: (p) => p.name },
    { header: 'VERSION', value: (p) => String(p.version) },
    { header: 'SUBJECTS', value: (p) => p.subjects.join(', ') },
    { header: 'CONNECTIONS', value: (p) => p.connections.join(', ') },
    { header: 'ACCESS', value: (p) => p.access },
    { header: 'DEFAULT', value: (p) => p.default },
    { header: 'UPDATED', value: (p) => `${humanAge(p.updatedAt)} by ${p.updatedBy}` },
  ]);
}

function renderPolicy(p: PolicyDetail): string {
  const header = renderDetails([
    ['Policy', p.name],
    ['Version', String(p.version)],
    ['Subjects', p.subjects.join(', ')],
    ['Connections', p.connections.join(', ')],
    ['Access', p.access],
    ['Rules', String(p.rules)],
    ['Default', p.default],
    ['Review mode', p.reviewMode],
    ['Created', `${humanTimestamp(p.createdAt)} by ${p.createdBy}`],
    ['Updated', `${humanTimestamp(p.updatedAt)} by ${p.updatedBy}`],
  ]);
  return `${header}\n\n${p.document.replace(/^\n+/, '')}`;
}

function renderVersions(history: PolicyVersions): string {
  const table = renderTable(history.versions, [
    { header: 'VERSION', value: (v) => String(v.version) },
    { header: 'APPLIED', value: (v) => humanTimestamp(v.appliedAt) },
    { header: 'BY', value: (v) => v.appliedBy },
  ]);
  return history.deletedAt ? `${table}\npolicy/${history.name} was deleted ${humanTimestamp(history.deletedAt)}` : table;
}
