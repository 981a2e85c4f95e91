/**
 * Headless Chromium (Debian's `chromium`, found on PATH; .ci/run installs it when missing) for
 * tests that assert what a page shows. Missing Chromium fails the test: it never skips.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The chromium binary on PATH. @throws when there is none */
export function chromiumPath(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const f = path.join(dir, name);
      if (fs.existsSync(f)) return f;
    }
  }
  throw new Error('chromium is not on PATH: install Debian\'s chromium package (apt-get install --no-install-recommends chromium); .ci/run does');
}

/** The DOM of a local HTML file after Chromium parsed and laid it out (`--dump-dom`), with networking off. */
export function dumpDom(file: string): string {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
  try {
    const r = spawnSync(
      chromiumPath(),
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', `--user-data-dir=${profile}`, '--proxy-server=127.0.0.1:9', '--dump-dom', pathToFileURL(file).href],
      { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
    );
    if (r.status !== 0 || !r.stdout.includes('</html>')) throw new Error(`chromium --dump-dom failed (status ${r.status}, ${r.error?.message ?? ''}): ${r.stderr.slice(-2000)}`);
    return r.stdout;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** The visible text of each `<tr>` of a dumped DOM whose opening tag matches `rowTag`, tags removed and entities decoded. */
export function rowTexts(dom: string, rowTag: RegExp = /<tr\b[^>]*>/): string[] {
  const rows: string[] = [];
  const re = new RegExp(`${rowTag.source}([\\s\\S]*?)</tr>`, 'g');
  for (const m of dom.matchAll(re)) rows.push(textOf(m[1]));
  return rows;
}

/** Text of an HTML fragment: tags become spaces, entities decoded, blanks collapsed. */
export function textOf(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
