/** Durations as people write them in policies and on the command line: 90s, 15m, 1h, 1h30m, 2d. */
const DURATION_PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const UNIT_SECONDS = [86_400, 3_600, 60, 1];

/** Whole seconds, or undefined when `text` is not a duration (or is zero). */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (!match || text === '') return undefined;
  const seconds = match.slice(1).reduce((sum, part, i) => sum + (part ? Number(part) * UNIT_SECONDS[i] : 0), 0);
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}

/** The shortest form parseDuration reads back: 5400 → 1h30m. */
export function formatDuration(seconds: number): string {
  let rest = seconds;
  let out = '';
  for (const [i, unit] of ['d', 'h', 'm', 's'].entries()) {
    const amount = Math.floor(rest / UNIT_SECONDS[i]);
    rest -= amount * UNIT_SECONDS[i];
    if (amount > 0) out += `${amount}${unit}`;
  }
  return out || '0s';
}
