// The shape notation of the README's documented answers, e.g. `{ success: true, data: { items: [{ id, score }] } }`:
//   { a, b: <shape> }   an object that has `a` and `b` (not undefined); b matches <shape>; other keys are allowed
//   [<shape>]           a non-empty array whose every element matches <shape>;  [] any array
//   true, 42, "text", null   exactly that value
export type Shape =
  | { kind: 'object'; entries: { key: string; shape: Shape | undefined }[] }
  | { kind: 'array'; element: Shape | undefined }
  | { kind: 'literal'; value: unknown };

export function parseShape(text: string): Shape {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`shape "${text}": ${what} at column ${i + 1}`);
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) fail(`expected "${c}"`);
    i++;
  };
  const string = (): string => {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
    if (!m) return fail('bad string');
    i += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const shape = (): Shape => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: { key: string; shape: Shape | undefined }[] = [];
      for (;;) {
        ws();
        if (text[i] === '}') break;
        if (text.startsWith('...', i)) {
          i += 3;
        } else {
          let key: string;
          if (text[i] === '"') key = string();
          else {
            const m = /^[A-Za-z_$][\w$-]*/.exec(text.slice(i));
            if (!m) return fail('expected a key');
            key = m[0];
            i += key.length;
          }
          ws();
          let value: Shape | undefined;
          if (text[i] === ':') {
            i++;
            value = shape();
          }
          entries.push({ key, shape: value });
        }
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail('expected "," or "}"');
      }
      i++;
      return { kind: 'object', entries };
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return { kind: 'array', element: undefined };
      }
      const element = shape();
      expect(']');
      return { kind: 'array', element };
    }
    if (c === '"') return { kind: 'literal', value: string() };
    const m = /^(true|false|null|-?\d+(?:\.\d+)?)/.exec(text.slice(i));
    if (!m) return fail('expected {, [, a string, a number, true, false or null');
    i += m[0].length;
    return { kind: 'literal', value: JSON.parse(m[0]) };
  };
  const result = shape();
  ws();
  if (i < text.length) fail('unexpected text');
  return result;
}

/** Every way `value` differs from `shape`, as `path: problem` lines (empty when it matches). */
export function shapeMismatches(value: unknown, shape: Shape, path = '$'): string[] {
  switch (shape.kind) {
    case 'literal':
      return Object.is(value, shape.value)
        ? []
        : [`${path}: expected ${JSON.stringify(shape.value)}, got ${JSON.stringify(value)}`];
    case 'array': {
      if (!Array.isArray(value)) return [`${path}: expected an array, got ${JSON.stringify(value)?.slice(0, 80)}`];
      if (!shape.element) return [];
      if (value.length === 0) return [`${path}: expected a non-empty array`];
      return value.flatMap((v, n) => shapeMismatches(v, shape.element!, `${path}[${n}]`));
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [`${path}: expected an object, got ${JSON.stringify(value)?.slice(0, 80)}`];
      const record = value as Record<string, unknown>;
      return shape.entries.flatMap(({ key, shape: inner }) => {
        if (record[key] === undefined) return [`${path}.${key}: missing`];
        return inner ? shapeMismatches(record[key], inner, `${path}.${key}`) : [];
      });
    }
  }
}
