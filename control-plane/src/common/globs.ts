/**
 * Globs as policies use them: `*` stands for any run of characters except `separator` (when one is
 * given), everything else is literal. `prod-*` matches prod-eu; `public.*` matches public.users.
 */
export function globToRegExp(glob: string, separator?: string): RegExp {
  const any = separator ? `[^${escapeRegExp(separator)}]*` : '.*';
  return new RegExp(`^${glob.split('*').map(escapeRegExp).join(any)}$`);
}

export function matchesGlob(glob: string, value: string, separator?: string): boolean {
  return globToRegExp(glob, separator).test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
