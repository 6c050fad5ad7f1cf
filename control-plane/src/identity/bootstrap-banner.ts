/**
 * The one time a generated admin token is ever shown: a box that stands out from the log lines,
 * with the exact command to run.
 */
export function bootstrapBanner(token: string, publicUrl: string): string {
  const lines = [
    'airlock: an admin token was generated for this control plane.',
    'It is shown only this once and stored only as a hash. Log in with:',
    '',
    `  airlock login --url ${publicUrl} --token ${token}`,
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const rule = `+${'-'.repeat(width + 2)}+`;
  const body = lines.map((l) => `| ${l.padEnd(width)} |`);
  return ['', rule, ...body, rule, ''].join('\n');
}
