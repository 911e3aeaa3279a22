// The README's curl lines as requests: code blocks are read from the Markdown, each `curl` line is split like a
// shell would split it, and its options become a request. The documented answer follows the command as a comment:
//   curl -s http://127.0.0.1:3000/api/workflows   # → 200 { success: true, data: [{ id, name }] }
// (status, then optionally the shape of the JSON body, see shape.ts). Anything the parser does not understand is an
// error naming the README line, never a silently skipped request.
import { readFileSync } from 'node:fs';

export interface CurlLine {
  /** README path as given, and the 1-based line number of the curl command. */
  file: string;
  line: number;
  /** The command as written (continuations joined). */
  source: string;
  /** The comment after the command ('' when none). */
  comment: string;
}

export interface CurlRequest {
  method: string;
  /** Path and query, e.g. `/api/history?limit=5` (the host and port are the README's, replaced by the test's). */
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** `-b file`: send the cookies stored in this jar. */
  readJar: string | undefined;
  /** `-b 'a=b'`: a literal Cookie header. */
  cookie: string | undefined;
  /** `-c file`: store the response's cookies in this jar. */
  writeJar: string | undefined;
}

export interface Documented {
  status: number;
  /** The shape notation after the status ('' when none). */
  shape: string;
}

/** Every `curl` command inside the fenced shell code blocks of `file`, in the order written. */
export function curlLines(file: string): CurlLine[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found: CurlLine[] = [];
  let fence: string | undefined;
  let shell = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const open = /^\s*(`{3,}|~{3,})\s*([\w+-]*)/.exec(raw);
    if (open && fence === undefined) {
      fence = open[1]!;
      shell = ['sh', 'bash', 'shell', 'console', 'zsh', ''].includes(open[2]!.toLowerCase());
      continue;
    }
    if (fence !== undefined && raw.trim().startsWith(fence)) {
      fence = undefined;
      continue;
    }
    if (fence === undefined || !shell) continue;
    const start = i;
    let text = raw.replace(/^\s*\$\s+/, '');
    while (/\\\s*$/.test(text) && i + 1 < lines.length) text = text.replace(/\\\s*$/, ' ') + lines[++i]!.trim();
    if (!/^\s*curl\s/.test(text)) continue;
    const { command, comment } = splitComment(text.trim());
    found.push({ file, line: start + 1, source: command, comment });
  }
  return found;
}

/** Splits off a trailing shell comment (an unquoted `#` at the start of a word). */
function splitComment(text: string): { command: string; comment: string } {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '\\') i++;
    else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!)))
      return { command: text.slice(0, i).trim(), comment: text.slice(i + 1).trim() };
  }
  return { command: text, comment: '' };
}

/** Shell word splitting for one command: quotes, backslashes; `$` expansions and pipes are refused. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  const push = (s: string) => (word = (word ?? '') + s);
  while (i < command.length) {
    const c = command[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new Error('unterminated single quote');
      push(command.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      let s = '';
      i++;
      while (i < command.length && command[i] !== '"') {
        if (command[i] === '\\' && i + 1 < command.length && '"\\$`'.includes(command[i + 1]!)) {
          s += command[i + 1];
          i += 2;
        } else if (command[i] === '$' || command[i] === '`') {
          throw new Error('shell expansions ($ or `) are not supported in README curl lines');
        } else s += command[i++];
      }
      if (i >= command.length) throw new Error('unterminated double quote');
      push(s);
      i++;
    } else if (c === '\\') {
      push(command[i + 1] ?? '');
      i += 2;
    } else if (c === '$' || c === '`') {
      throw new Error('shell expansions ($ or `) are not supported in README curl lines');
    } else if ('|;&<>'.includes(c)) {
      throw new Error(`shell operator "${c}" is not supported in README curl lines: one curl command per line`);
    } else {
      push(c);
      i++;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

const FLAGS_WITHOUT_VALUE = new Set([
  '-s',
  '--silent',
  '-S',
  '--show-error',
  '-i',
  '--include',
  '-f',
  '--fail',
  '--compressed',
  '-v',
  '--verbose',
  '-N',
  '--no-buffer',
]);
const SHORT_BOOLEAN = new Set(['s', 'S', 'i', 'f', 'v', 'N']);

/** The request a curl command makes. `base` replaces the README's `http://127.0.0.1:3000` or `http://localhost:3000`. */
export function curlRequest(command: string): CurlRequest {
  const words = shellWords(command);
  if (words.shift() !== 'curl') throw new Error('not a curl command');
  const request: CurlRequest = {
    method: '',
    path: '',
    headers: {},
    body: undefined,
    readJar: undefined,
    cookie: undefined,
    writeJar: undefined,
  };
  let url: string | undefined;
  let json = false;
  while (words.length > 0) {
    let word = words.shift()!;
    // -sS, -si: bundled boolean short flags.
    if (/^-[a-zA-Z]{2,}$/.test(word) && [...word.slice(1)].every((c) => SHORT_BOOLEAN.has(c))) continue;
    // --opt=value
    let inline: string | undefined;
    if (word.startsWith('--') && word.includes('=')) {
      inline = word.slice(word.indexOf('=') + 1);
      word = word.slice(0, word.indexOf('='));
    }
    const value = () => {
      const v = inline ?? words.shift();
      if (v === undefined) throw new Error(`curl option ${word} needs a value`);
      return v;
    };
    if (FLAGS_WITHOUT_VALUE.has(word)) continue;
    switch (word) {
      case '-X':
      case '--request':
        request.method = value().toUpperCase();
        break;
      case '-H':
      case '--header': {
        const h = value();
        const colon = h.indexOf(':');
        if (colon <= 0) throw new Error(`curl header "${h}" has no name`);
        request.headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
        break;
      }
      case '-d':
      case '--data':
      case '--data-raw':
      case '--data-binary': {
        const d = value();
        if (d.startsWith('@') && word !== '--data-raw')
          throw new Error('curl -d @file is not supported in README curl lines');
        request.body = request.body === undefined ? d : `${request.body}&${d}`;
        break;
      }
      case '--json':
        request.body = value();
        json = true;
        break;
      case '-b':
      case '--cookie': {
        const b = value();
        if (b.includes('=')) request.cookie = b;
        else request.readJar = b;
        break;
      }
      case '-c':
      case '--cookie-jar':
        request.writeJar = value();
        break;
      case '-o':
      case '--output':
        value();
        break;
      case '-A':
      case '--user-agent':
        request.headers['user-agent'] = value();
        break;
      case '--url':
        url = value();
        break;
      default:
        if (word.startsWith('-')) throw new Error(`curl option ${word} is not supported by the README runner`);
        if (url !== undefined) throw new Error('more than one URL in one curl line');
        url = word;
    }
  }
  if (url === undefined) throw new Error('curl line without a URL');
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(parsed.hostname)) {
    throw new Error(`README curl lines talk to the local server (http://127.0.0.1:<port>), not ${parsed.origin}`);
  }
  request.path = `${parsed.pathname}${parsed.search}`;
  if (json) {
    request.headers['content-type'] ??= 'application/json';
    request.headers.accept ??= 'application/json';
  } else if (request.body !== undefined) {
    request.headers['content-type'] ??= 'application/x-www-form-urlencoded';
  }
  request.method ||= request.body !== undefined ? 'POST' : 'GET';
  return request;
}

/** `→ 200 { ... }` (the arrow is optional): the documented status and shape. */
export function documented(comment: string): Documented | undefined {
  const m = /^(?:→|->)?\s*([1-5]\d\d)\b\s*(.*)$/.exec(comment.trim());
  return m ? { status: Number(m[1]), shape: m[2]!.trim() } : undefined;
}

/** curl's cookie jars, by file name, for one run through a README. */
export class CookieJars {
  private readonly jars = new Map<string, Map<string, string>>();

  cookieHeader(jar: string): string | undefined {
    const cookies = this.jars.get(jar);
    return cookies && cookies.size > 0 ? [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  store(jar: string, setCookie: readonly string[] | undefined): void {
    const cookies = this.jars.get(jar) ?? new Map<string, string>();
    for (const line of setCookie ?? []) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq <= 0) continue;
      const name = pair!.slice(0, eq).trim();
      const expired = attributes.some(
        (a) =>
          /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a) ||
          (/^\s*expires\s*=/i.test(a) && Date.parse(a.split('=').slice(1).join('=')) < Date.now()),
      );
      if (expired) cookies.delete(name);
      else cookies.set(name, pair!.slice(eq + 1).trim());
    }
    this.jars.set(jar, cookies);
  }
}
