/**
 * The `airlock` command: a thin table of commands and the one place errors become an exit code and
 * one readable line on stderr (`airlock: <message>`). Set AIRLOCK_DEBUG=1 for stack traces.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { registerAgents } from './commands/agents.js';
import { registerApply } from './commands/apply.js';
import { registerAudit } from './commands/audit.js';
import { registerConnect } from './commands/connect.js';
import { registerConnections } from './commands/connections.js';
import { registerDev } from './commands/dev.js';
import { registerExec } from './commands/exec.js';
import { registerGrants } from './commands/grants.js';
import { registerLogin, registerLogout, registerWhoami } from './commands/login.js';
import { registerPolicies } from './commands/policies.js';
import { registerRequest } from './commands/request.js';
import { registerReviews } from './commands/reviews.js';
import { registerSessions } from './commands/sessions.js';
import { registerSsh } from './commands/ssh.js';
import { registerUsers } from './commands/users.js';
import { registerServiceAccounts } from './commands/service-accounts.js';
import { CliError, ExitCode } from './lib/errors.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

function buildProgram(): Command {
  const program = new Command('airlock')
    .description('reach databases and services through the airlock gateway')
    .version(version, '-v, --version');
  registerLogin(program);
  registerLogout(program);
  registerWhoami(program);
  registerAgents(program);
  registerConnections(program);
  registerUsers(program);
  registerServiceAccounts(program);
  registerApply(program);
  registerPolicies(program);
  registerReviews(program);
  registerRequest(program);
  registerGrants(program);
  registerSessions(program);
  registerAudit(program);
  registerConnect(program);
  registerSsh(program);
  registerExec(program);
  registerDev(program);
  // Applied to the whole tree after registration, so commands built with `new Command()` get it too.
  forEachCommand(program, (command) =>
    command.exitOverride().configureOutput({ outputError: () => {} }),
  );
  return program;
}

function forEachCommand(command: Command, visit: (command: Command) => void): void {
  visit(command);
  for (const sub of command.commands) forEachCommand(sub, visit);
}

/** Prints what went wrong (if anything needs saying) and returns the exit code. */
function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0; // --help, --version
    // `commander.help` means usage help was already printed to stderr (e.g. `airlock agents`).
    if (err.code !== 'commander.help') printError(err.message.replace(/^error: /, ''));
    return ExitCode.Usage;
  }
  if (err instanceof CliError) {
    printError(err.message);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  printError(`unexpected error: ${message}`);
  if (process.env.AIRLOCK_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return ExitCode.General;
}

function printError(message: string): void {
  process.stderr.write(`airlock: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  process.exitCode = report(err);
}
