/**
 * What a COPY statement copies, read from its parse tree: the table (or a query), the column list,
 * where the data goes, and the options as written. Masking COPY ... TO STDOUT by column needs exactly
 * this; interpreting the options is left to the reader (protocols/postgres/copy-format.ts). Pure.
 */
import type { CopyStatementText } from '../../protocols/engine.js';
import type { Node } from './kinds.js';
import { constString, nameList } from './walk.js';

export function copyStatementOf(body: Node): CopyStatementText {
  const relation = body['relation'] as Node | undefined;
  const options = Array.isArray(body['options']) ? (body['options'] as Node[]) : [];
  return {
    direction: body['is_from'] === true ? 'from' : 'to',
    endpoint: body['is_program'] === true ? 'program' : typeof body['filename'] === 'string' ? 'file' : 'client',
    relation: relation && typeof relation['relname'] === 'string'
      ? { schema: typeof relation['schemaname'] === 'string' ? relation['schemaname'] : null, name: relation['relname'] }
      : null,
    columns: Array.isArray(body['attlist']) ? nameList(body['attlist']) : null,
    options: options.map((o) => {
      const d = (o['DefElem'] ?? {}) as Node;
      const arg = d['arg'] as Node | undefined;
      const name = String(d['defname'] ?? '').toLowerCase();
      if (arg && typeof arg['List'] === 'object') return { name, value: null, items: nameList((arg['List'] as Node)['items']) };
      if (arg && typeof arg['A_Star'] === 'object') return { name, value: '*' };
      return { name, value: arg === undefined ? null : constString(arg) };
    }),
  };
}
