/**
 * The rules auth/ copies from Go and client-go, case by case: NO_PROXY matching (golang.org/x/net
 * http/httpproxy useProxy and config.init), Warning header parsing (apimachinery ParseWarningHeaders) and
 * the exec plugin's answer checks and interactive modes (client-go exec.go).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecCredentialPlugin } from '../../lib/cluster/auth/exec-credential';
import { proxyFor, useProxy } from '../../lib/cluster/auth/proxy';
import { parseWarningHeaders, WarningPrinter } from '../../lib/cluster/auth/warnings';

describe('NO_PROXY, as Go reads it', () => {
  const cases: [string, string, boolean][] = [
    // [target, NO_PROXY, uses the proxy]
    ['https://localhost:6443', '', false],
    ['https://127.0.0.5:6443', '', false],
    ['https://[::1]:6443', '', false],
    ['https://10.0.0.1:6443', '', true],
    ['https://10.0.0.1:6443', '*', false],
    ['https://10.0.0.1:6443', '10.0.0.0/8', false],
    ['https://11.0.0.1:6443', '10.0.0.0/8', true],
    ['https://10.0.0.1:6443', '10.0.0.1', false],
    ['https://10.0.0.1:6443', '10.0.0.1:6443', false],
    ['https://10.0.0.1:6443', '10.0.0.1:443', true],
    ['https://[fd00::2]:6443', 'fd00::/8', false],
    ['https://[fd00::2]:6443', '[fd00::2]:6443', false],
    ['https://api.example.com:6443', 'example.com', false],
    ['https://example.com:6443', 'example.com', false],
    ['https://example.com:6443', '.example.com', true],
    ['https://api.example.com:6443', '.example.com', false],
    ['https://api.example.com:6443', '*.example.com', false],
    ['https://notexample.com:6443', 'example.com', true],
    ['https://api.example.com', 'example.com:443', false],
    ['https://api.example.com:6443', 'example.com:443', true],
    ['https://API.Example.COM:6443', ' other.org , EXAMPLE.com ', false],
    ['https://10.0.0.1:6443', 'example.com', true],
  ];
  it.each(cases)('%s with NO_PROXY=%j: proxied %s', (target, noProxy, proxied) => {
    expect(useProxy(new URL(target), noProxy)).toBe(proxied);
  });

  it('takes HTTPS_PROXY for https and HTTP_PROXY for http, upper case first, http:// when no scheme', () => {
    const env = { HTTPS_PROXY: 'proxy.corp:3128', https_proxy: 'http://lower:1', HTTP_PROXY: 'http://plain:8080' };
    expect(proxyFor(new URL('https://10.0.0.1:6443'), undefined, env)?.href).toBe('http://proxy.corp:3128/');
    expect(proxyFor(new URL('http://10.0.0.1:8001'), undefined, env)?.href).toBe('http://plain:8080/');
    expect(proxyFor(new URL('https://10.0.0.1:6443'), undefined, { HTTP_PROXY: 'http://plain:8080' })).toBeUndefined();
    expect(proxyFor(new URL('https://127.0.0.1:6443'), 'http://kc:1', { NO_PROXY: '*' })?.href).toBe('http://kc:1/');
  });
});

describe('Warning headers', () => {
  it('parses several per header, escapes, dates, and skips what apimachinery rejects', () => {
    expect(parseWarningHeaders(['299 - "a \\"quoted\\" word", 299 - "second" "Wed, 21 Oct 2015 07:28:00 GMT"', '199 agent "misc"', 'garbage', '299 - "unterminated'])).toEqual([
      { code: 299, agent: '-', text: 'a "quoted" word' },
      { code: 299, agent: '-', text: 'second' },
      { code: 199, agent: 'agent', text: 'misc' },
    ]);
  });
  it('prints 299 warnings once each, as `Warning: text`', () => {
    const out: string[] = [];
    const p = new WarningPrinter((l) => out.push(l));
    for (const w of parseWarningHeaders(['299 - "x"', '299 - "x"', '199 - "not shown"', '299 - ""', '299 - "y"'])) p.handle(w);
    expect(out).toEqual(['Warning: x\n', 'Warning: y\n']);
  });
});

describe('exec plugin answers and interactive modes', () => {
  const script = (body: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-rules-'));
    const f = path.join(dir, 'p.sh');
    fs.writeFileSync(f, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return f;
  };
  const plugin = (command: string, extra: { interactiveMode?: string; stdinIsTTY?: boolean } = {}) =>
    new ExecCredentialPlugin({
      config: { apiVersion: 'client.authentication.k8s.io/v1', command, interactiveMode: extra.interactiveMode },
      userName: 'u',
      cluster: { server: 'https://x', config: null },
      environment: { PATH: process.env.PATH },
      terminal: { stdin: 'inherit', stdinIsTTY: extra.stdinIsTTY ?? false, stderr: () => undefined },
    });
  const answer = (status: object, apiVersion = 'client.authentication.k8s.io/v1') => script(`echo '${JSON.stringify({ apiVersion, kind: 'ExecCredential', status })}'`);

  it('fails, naming the problem, for answers client-go refuses', async () => {
    await expect(plugin(answer({ token: 't' }, 'client.authentication.k8s.io/v1beta1')).get()).rejects.toThrow(
      'the plugin is configured to use API version client.authentication.k8s.io/v1, plugin returned version client.authentication.k8s.io/v1beta1',
    );
    await expect(plugin(answer({})).get()).rejects.toThrow("the plugin didn't return a token or cert/key pair");
    await expect(plugin(answer({ clientCertificateData: 'x' })).get()).rejects.toThrow('the plugin returned only certificate or key, not both');
    await expect(plugin(script('exit 3')).get()).rejects.toThrow('failed with exit code 3');
    await expect(plugin('/nonexistent/plugin').get()).rejects.toThrow('exec plugin: executable /nonexistent/plugin not found');
  });

  it('fails for interactiveMode Always without a terminal, and re-runs a credential without expiry only after a 401', async () => {
    await expect(plugin(answer({ token: 't' }), { interactiveMode: 'Always' }).get()).rejects.toThrow('cannot support interactive mode: standard input is not a terminal');
    const p = plugin(answer({ token: 'tok-123456' }));
    const first = await p.get();
    await p.get();
    expect(p.runs).toBe(1);
    await p.unauthorized(first);
    await p.unauthorized(first);
    expect(p.runs).toBe(2);
  });
});
