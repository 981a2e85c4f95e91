/**
 * API `Warning` response headers (deprecations, admission warnings, fieldValidation=Warn), parsed and
 * deduplicated the way kubectl shows them.
 *
 * - Parsing follows apimachinery pkg/util/net/http.go, ParseWarningHeaders / ParseWarningHeader /
 *   parseQuotedString: `code agent "text" ["date"]`, several per header separated by commas, the text
 *   quoted with backslash escapes; a malformed warning ends the parse of that header value.
 * - Only code 299 with a non-empty text is shown, and each distinct text once: client-go rest/warnings.go,
 *   warningWriter.HandleWarningHeader with `Deduplicate: true`, which kubectl installs for every request
 *   (kubectl pkg/cmd/cmd.go, `rest.NewWarningWriter(o.IOStreams.ErrOut, rest.WarningWriterOptions{Deduplicate: true, ...})`).
 *   The line is `Warning: <text>`.
 */

/** One parsed warning. */
export interface ApiWarning {
  readonly code: number;
  readonly agent: string;
  readonly text: string;
}

/** Reads the quoted string at the start of `s`: its text and what follows (trimmed), or undefined. */
function parseQuoted(s: string): { text: string; rest: string } | undefined {
  if (!s.startsWith('"')) return undefined;
  let text = '';
  let escaping = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (c === '"' && !escaping) return { text, rest: s.slice(i + 1).trim() };
    if (c === '\\' && !escaping) {
      escaping = true;
      continue;
    }
    text += c;
    escaping = false;
  }
  return undefined;
}

/** Parses the values of every `Warning` header of a response. Malformed entries are skipped. */
export function parseWarningHeaders(values: string | readonly string[] | undefined): ApiWarning[] {
  const out: ApiWarning[] = [];
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  for (let header of list) {
    header = header.trim();
    while (header.length > 0) {
      const m = /^(\d{3}) (\S+) ([\s\S]*)$/.exec(header);
      if (!m) break;
      const quoted = parseQuoted(m[3]);
      // eslint-disable-next-line no-control-regex
      if (!quoted || /[\u0000-\u001f\u007f]/.test(quoted.text)) break;
      out.push({ code: Number(m[1]), agent: m[2], text: quoted.text });
      let rest = quoted.rest;
      if (rest.startsWith('"')) {
        const end = rest.indexOf('"', 1);
        if (end < 0) break;
        rest = rest.slice(end + 1).trim();
      }
      if (rest.length > 0 && !rest.startsWith(',')) break;
      header = rest.replace(/^,/, '').trim();
    }
  }
  return out;
}

/** Prints each distinct 299 warning once, as `Warning: text`. */
export class WarningPrinter {
  private readonly seen = new Set<string>();

  public constructor(private readonly write: (line: string) => void) {}

  /** Handles one warning; returns true when it was printed. */
  public handle(w: ApiWarning): boolean {
    if (w.code !== 299 || w.text.length === 0 || this.seen.has(w.text)) return false;
    this.seen.add(w.text);
    this.write(`Warning: ${w.text}\n`);
    return true;
  }
}
