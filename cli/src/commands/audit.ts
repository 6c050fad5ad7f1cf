import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient, CliError, type AuditEvent, type AuditFilter, type AuditPage } from '../lib/api.js';
import { parsePositiveInteger } from '../lib/arguments.js';
import { addJsonOption, emit, printJson, printLine, renderTable, type JsonOption } from '../lib/output.js';

interface FilterOptions {
  actor?: string;
  kind?: string;
  target?: string;
  connection?: string;
  since?: string;
  until?: string;
}

interface ListOptions extends FilterOptions, JsonOption {
  limit?: number;
}

interface ExportOptions extends FilterOptions {
  format: string;
  output?: string;
}

/** How many hex digits of a hash people see. */
const HASH_SHOWN = 16;

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log (admins)');

  addJsonOption(
    withFilters(audit.command('list').description('list audit events, newest first')).option(
      '--limit <n>',
      'at most this many events (default 100)',
      parsePositiveInteger,
    ),
  ).action(async (options: ListOptions) => {
    const page = await ApiClient.forCurrentProfile().listAudit({ ...filterOf(options), limit: options.limit });
    emit(options, page.events, renderEvents);
    if (!options.json && page.nextCursor !== null) {
      process.stderr.write(`More events match: raise --limit or narrow the filters.\n`);
    }
  });

  addJsonOption(
    audit.command('verify').description('re-compute the whole hash chain and report the first event altered, removed or reordered'),
  ).action(async (options: JsonOption) => {
    const report = await ApiClient.forCurrentProfile().verifyAudit();
    if (options.json) printJson(report);
    if (!report.ok) {
      if (options.json) process.exitCode = 1;
      else throw new CliError(`audit chain broken at event ${report.firstBadEventId} (${report.problem}): ${report.message}`);
      return;
    }
    if (!options.json) printLine(`audit chain intact: ${report.events} events, head ${report.head.slice(0, HASH_SHOWN)}`);
  });

  withFilters(audit.command('export').description('stream audit events, oldest first, as JSON lines (for a SIEM)'), { sinceRequired: true })
    .option('--format <format>', 'jsonl: one event per line, with hash and prevHash', parseFormat, 'jsonl')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (options: ExportOptions) => {
      const body = await ApiClient.forCurrentProfile().exportAudit({ ...filterOf(options), format: 'jsonl' });
      await exportTo(Readable.fromWeb(body as WebReadableStream<Uint8Array>), options.output);
    });
}

function withFilters(command: Command, { sinceRequired = false } = {}): Command {
  const since = 'events at or after: a duration ago (90s, 15m, 1h, 2d) or an ISO-8601 time';
  if (sinceRequired) command.requiredOption('--since <when>', since, parseWhen);
  else command.option('--since <when>', since, parseWhen);
  return command
    .option('--until <when>', 'events before: a duration ago or an ISO-8601 time', parseWhen)
    .option('--actor <subject>', 'only events by this actor, e.g. user:alice')
    .option('--kind <kind>', 'only this kind (policy.applied) or domain of kinds (review.)')
    .option('--target <target>', 'only events about this target, e.g. policy/prod-postgres')
    .option('--connection <name>', 'only events about this connection and its sessions');
}

function filterOf(options: FilterOptions): AuditFilter {
  const { actor, kind, target, connection, since, until } = options;
  return { actor, kind, target, connection, since, until };
}

/** A file is written whole or not at all: a failed export leaves no truncated file behind. */
async function exportTo(lines: Readable, file: string | undefined): Promise<void> {
  if (file === undefined) return pipeline(lines, process.stdout as Writable);
  const partial = `${file}.partial`;
  try {
    await pipeline(lines, createWriteStream(partial));
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw new CliError(`the export to ${file} did not complete: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const UNIT_MS = [86_400_000, 3_600_000, 60_000, 1000];

/** `1h` → an hour ago; an ISO-8601 time as it is; both become an ISO-8601 UTC time. */
export function parseWhen(value: string): string {
  return timeOf(value, Date.now());
}

export function timeOf(value: string, now: number): string {
  const duration = DURATION.exec(value);
  if (duration && value !== '') {
    const ms = duration.slice(1).reduce((sum, part, i) => sum + (part ? Number(part) * UNIT_MS[i] : 0), 0);
    return new Date(now - ms).toISOString();
  }
  const at = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) throw new InvalidArgumentError('Expected a duration ago (90s, 15m, 1h, 2d) or an ISO-8601 time such as 2026-11-25T10:00:00Z.');
  return new Date(at).toISOString();
}

function parseFormat(value: string): string {
  if (value !== 'jsonl') throw new InvalidArgumentError('The only format is jsonl.');
  return value;
}

function renderEvents(events: AuditPage['events']): string {
  if (events.length === 0) return 'No audit events match.';
  return renderTable(events, [
    { header: 'ID', value: (e) => String(e.id) },
    { header: 'AT', value: (e) => e.at },
    { header: 'ACTOR', value: (e) => e.actor },
    { header: 'KIND', value: (e) => e.kind },
    { header: 'TARGET', value: (e) => e.target },
    { header: 'DETAILS', value: describeDetails, flex: true },
  ]);
}

/** `key=value` pairs, nested values as compact JSON. */
function describeDetails(event: AuditEvent): string {
  return Object.entries(event.details)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}
