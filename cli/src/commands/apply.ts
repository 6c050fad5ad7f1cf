import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ApiClient, type AppliedPolicy, UsageError } from '../lib/api.js';
import { addJsonOption, emit, type JsonOption } from '../lib/output.js';

interface ApplyOptions extends JsonOption {
  file: string;
}

export function registerApply(program: Command): void {
  addJsonOption(
    program
      .command('apply')
      .description('create or update the policy a YAML (or JSON) document describes')
      .requiredOption('-f, --file <path>', 'the policy document; - reads standard input'),
  ).action(async (options: ApplyOptions) => {
    const document = readDocument(options.file);
    const applied = await ApiClient.forCurrentProfile().applyPolicy(document);
    emit(options, applied, renderApplied);
  });
}

/** `policy/prod-postgres configured (version 3)`, in the manner of kubectl apply. */
export function renderApplied(applied: AppliedPolicy): string {
  return `policy/${applied.name} ${applied.outcome} (version ${applied.version})`;
}

function readDocument(file: string): string {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new UsageError(`cannot read ${file === '-' ? 'standard input' : file}: ${reason}`);
  }
  if (text.trim() === '') throw new UsageError(`${file === '-' ? 'standard input' : file} is empty: expected a policy document`);
  return text;
}
