import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ExecOutcomeSchema } from '@airlock/proto';
import type { ExecOutcome } from '../protocols/engine.js';

/** The engine's plain exec result in its wire shape (NULL is distinct from the empty string). */
export function toWireOutcome(outcome: ExecOutcome): MessageInitShape<typeof ExecOutcomeSchema> {
  return {
    results: outcome.results.map((set) => ({
      columns: set.columns.map((c) => ({ name: c.name, typeOid: c.typeOid })),
      rows: set.rows.map((row) => ({
        values: row.map((value) =>
          value === null ? { value: { case: 'isNull' as const, value: true } } : { value: { case: 'text' as const, value } },
        ),
      })),
      commandTag: set.commandTag,
      rowsAffected: set.rowsAffected === undefined ? undefined : BigInt(set.rowsAffected),
      truncated: set.truncated,
    })),
    databaseError: outcome.databaseError,
  };
}
