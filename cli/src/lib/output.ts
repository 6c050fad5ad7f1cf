/**
 * How commands print: aligned tables and detail blocks for people, `--json` for scripts.
 * Durations, sizes and ages are humanized in tables only; JSON carries the raw values.
 */
import Table from 'cli-table3';
import type { Command } from 'commander';

export interface JsonOption {
  json?: boolean;
}

/** Adds the `--json` flag every data-printing command shares. */
export function addJsonOption(command: Command): Command {
  return command.option('--json', 'print JSON (stable camelCase fields) instead of text');
}

/** Prints `value` as pretty JSON when `--json` was given, otherwise the text `render` returns. */
export function emit<T>(options: JsonOption, value: T, render: (value: T) => string): void {
  if (options.json) printJson(value);
  else printLine(render(value));
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printLine(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** The one column that is shortened so the table fits `maxWidth` (e.g. a SQL statement). */
  flex?: boolean;
}

export interface TableOptions {
  /** Total width the table may take; defaults to the terminal's. */
  maxWidth?: number;
}

const COLUMN_GAP = '  ';
const MIN_FLEX_WIDTH = 20;
const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '',
  middle: COLUMN_GAP,
};

/** A borderless, aligned table with UPPERCASE headers, in the style of `kubectl get`. */
export function renderTable<T>(
  rows: readonly T[],
  columns: readonly Column<T>[],
  options: TableOptions = {},
): string {
  const cells = rows.map((row) => columns.map((column) => oneLine(column.value(row))));
  const flexIndex = columns.findIndex((column) => column.flex);
  if (flexIndex >= 0) {
    const fixedWidth = columns.reduce(
      (sum, column, i) =>
        i === flexIndex ? sum : sum + Math.max(column.header.length, ...cells.map((r) => r[i].length)),
      COLUMN_GAP.length * (columns.length - 1),
    );
    const flexWidth = Math.max(MIN_FLEX_WIDTH, (options.maxWidth ?? terminalWidth()) - fixedWidth);
    for (const row of cells) row[flexIndex] = truncate(row[flexIndex], flexWidth);
  }
  const table = new Table({
    head: columns.map((column) => column.header),
    chars: NO_BORDER,
    style: { head: useColor() ? ['bold'] : [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  table.push(...cells);
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** `Label:  value` lines with the values aligned; rows whose value is undefined are left out. */
export function renderDetails(rows: ReadonlyArray<readonly [string, string | undefined]>): string {
  const present = rows.filter((row): row is readonly [string, string] => row[1] !== undefined);
  const width = Math.max(...present.map(([label]) => label.length)) + 1;
  return present.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`).join('\n');
}

export function terminalWidth(): number {
  return process.stdout.columns || Number(process.env.COLUMNS) || 120;
}

function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}

/** Collapses newlines and runs of whitespace so a cell stays on one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function truncate(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? '…'.slice(0, width) : text.slice(0, width - 1) + '…';
}

export const NONE = '-';

export function yesNo(value: boolean | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  return value ? 'yes' : 'no';
}

/** 0.4ms, 12ms, 1.5s, 3m 12s, 2h 5m. */
export function humanDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return NONE;
  if (ms < 10) return `${Number(ms.toFixed(1))}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${Number(seconds.toFixed(1))}s`;
  const totalSeconds = Math.round(seconds);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes}m ${totalSeconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** 512 B, 1.5 KiB, 20 MiB. */
export function humanBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return NONE;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || value >= 100 ? Math.round(value) : Number(value.toFixed(1));
  return `${shown} ${units[unit]}`;
}

/** How far an ISO timestamp is from now: `just now`, `42s ago`, `5m ago`, `3h ago`, `2d ago`, `in 59m`. */
export function humanAge(iso: string | null | undefined, now: number = Date.now()): string {
  const time = parseTime(iso);
  if (time === undefined) return NONE;
  const seconds = Math.round((now - time) / 1000);
  if (Math.abs(seconds) < 5) return 'just now';
  const span = roughSpan(Math.abs(seconds));
  return seconds > 0 ? `${span} ago` : `in ${span}`;
}

function roughSpan(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** `2025-11-25 06:56:01 UTC (5m ago)` for detail views. */
export function humanTimestamp(iso: string | null | undefined, now: number = Date.now()): string {
  const time = parseTime(iso);
  if (time === undefined) return NONE;
  const utc = new Date(time).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `${utc} (${humanAge(iso, now)})`;
}

function parseTime(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const time = Date.parse(iso);
  return Number.isNaN(time) ? undefined : time;
}
