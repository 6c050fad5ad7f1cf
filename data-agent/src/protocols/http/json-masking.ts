/**
 * Masking of JSON response bodies with the session's masking rules. Column rules read as field
 * paths: `parent.field`, where `parent` is the nearest enclosing named field (array levels skipped),
 * so `*.email` masks every `email` field and `customers.ssn` the `ssn` of each object under
 * `customers`; content detectors run over every string value. The body is rewritten token by token:
 * everything but the masked values stays byte for byte (numbers keep their precision). Pure.
 */
import type { ResultColumnMask, ResultMasking } from '../engine.js';

interface Frame {
  kind: 'object' | 'array';
  /** The field this container is the value of (arrays inherit their parent's). */
  name: string;
  parentName: string;
  /** Object: the key whose value comes next; undefined while a key is expected. */
  key: string | undefined;
}

/** Returns the masked text, or undefined when `text` is not JSON. */
export function maskJson(text: string, masking: ResultMasking): string | undefined {
  if (!isJson(text)) return undefined;
  const cache = new Map<string, ResultColumnMask | undefined>();
  const maskFor = (table: string, column: string) => {
    const id = `${table}\u0000${column}`;
    if (!cache.has(id)) cache.set(id, masking.forColumn({ schema: '', table, column }));
    return cache.get(id);
  };
  const stack: Frame[] = [];
  let out = '';
  let copied = 0;
  const replace = (start: number, end: number, value: string) => {
    out += text.slice(copied, start) + value;
    copied = end;
  };
  const valueContext = (): [table: string, column: string] => {
    const top = stack[stack.length - 1];
    if (!top) return ['', ''];
    return top.kind === 'object' ? [top.name, top.key ?? ''] : [top.parentName, top.name];
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '{' || c === '[') {
      const [parentName, name] = valueContext();
      stack.push({ kind: c === '{' ? 'object' : 'array', name, parentName, key: undefined });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      afterValue(stack);
      i++;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top?.kind === 'object' && top.key === undefined) {
        top.key = JSON.parse(text.slice(i, end)) as string;
      } else {
        const mask = maskFor(...valueContext());
        if (mask) {
          const value = JSON.parse(text.slice(i, end)) as string;
          const masked = mask.mask(value);
          if (masked !== value) replace(i, end, JSON.stringify(masked));
        }
        afterValue(stack);
      }
      i = end;
    } else if (c === ',' || c === ':' || c === ' ' || c === '\n' || c === '\r' || c === '\t') {
      i++;
    } else {
      // number, true, false, null
      let end = i;
      while (end < text.length && !',]} \n\r\t'.includes(text[end]!)) end++;
      const mask = maskFor(...valueContext());
      // A field a rule selects is masked whatever it holds: its number becomes the masked string.
      if (mask?.byRule && text.slice(i, end) !== 'null') replace(i, end, JSON.stringify(mask.mask(text.slice(i, end))));
      afterValue(stack);
      i = end;
    }
  }
  return out + text.slice(copied);
}

/** After an object's value, the next string is a key again. */
function afterValue(stack: Frame[]): void {
  const top = stack[stack.length - 1];
  if (top?.kind === 'object') top.key = undefined;
}

function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else i++;
  }
  return text.length;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
