/** Usage errors of the program itself: an unknown command is exit 2, with or without --help. */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cli } from './support/harness';

const COMMANDS = ['deploy', 'diff', 'submit', 'watch', 'logs', 'status|get', 'list|ls', 'resubmit', 'retry', 'report', 'doctor', 'import'];

/** The command names the help lists, in order. */
function listed(help: string): string[] {
  const section = help.slice(help.indexOf('Commands:'));
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]).filter((n) => n !== 'help');
}

describe('an unknown command', () => {
  it.each([
    [['frobnicate', '--help']],
    [['frobnicate', '-h']],
    [['--help', 'frobnicate']],
    [['help', 'frobnicate']],
    [['frobnicate']],
    [['frobnicate', '--env', 'runai']],
  ])('%j exits 2 naming it, with the list of commands on stderr', async (argv) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: unknown command 'frobnicate'\n\nUsage: sleap-roots /);
    expect(listed(r.stderr)).toEqual(COMMANDS);
  });

  it('suggests a near miss, --help or not', async () => {
    for (const argv of [['deplyo'], ['deplyo', '--help'], ['dif', '--help']]) {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error: unknown command '${argv[0]}'\\n\\(Did you mean (deploy|diff)\\?\\)\\n`));
    }
  });

  it('leaves known commands, aliases and help alone', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['deploy', '--help'], ['diff', '--help'], ['help', 'diff'], ['get', '--help'], ['ls', '-h']]) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^Usage: sleap-roots /);
    }
    expect(listed((await cli(['--help'])).stdout)).toEqual(COMMANDS);
  });

  it('is exit 2 from the real bin too', async () => {
    const bin = path.join(__dirname, '../../bin/sleap-roots.cjs');
    const r = await promisify(execFile)(process.execPath, [bin, 'frobnicate', '--help'], { timeout: 60_000 }).then(
      (x) => ({ code: 0, ...x }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: unknown command 'frobnicate'\n/);
    expect(r.stderr).toMatch(/^ {2}diff \[options\]/m);
  });
});
