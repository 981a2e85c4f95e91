/**
 * Which proxy a request to the API server goes through, chosen as kubectl chooses it.
 *
 * - A kubeconfig cluster's `proxy-url` wins and applies to every request, NO_PROXY included: client-go
 *   tools/clientcmd/client_config.go (`clientConfig.Proxy = http.ProxyURL(u)` after parseProxyURL, which
 *   accepts http, https, socks5).
 * - Otherwise the environment, as Go's net/http ProxyFromEnvironment reads it (golang.org/x/net
 *   http/httpproxy/proxy.go, FromEnvironment, ProxyForURL, useProxy, config.init): HTTPS_PROXY for https
 *   servers, HTTP_PROXY for http ones, upper case before lower case; a value without a scheme means
 *   http://; `localhost` and loopback addresses are never proxied; NO_PROXY is a comma list where `*`
 *   matches all, `a.b/n` is a CIDR, an IP matches that IP, `foo.com` matches foo.com and its subdomains,
 *   `.foo.com` and `*.foo.com` only subdomains, and any entry may end in `:port` to match that port only.
 *   Domain entries never match IP hosts (domainMatch.match).
 */
import * as net from 'node:net';
import { UserError } from '../errors';

/** The proxy variables, read as Go (and so kubectl) reads them: upper case first. A cluster's proxy-url wins. */
export const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'] as const;

/** The proxy settings of the environment (the CLI reads them; lib/ never does). */
export type ProxyEnvironment = { readonly [K in (typeof PROXY_VARIABLES)[number]]?: string };

/** The proxy variables of an environment, and nothing else. */
export function proxyEnvironmentOf(env: ProxyEnvironment): ProxyEnvironment {
  const out: { [K in (typeof PROXY_VARIABLES)[number]]?: string } = {};
  for (const k of PROXY_VARIABLES) if (env[k] !== undefined) out[k] = env[k];
  return out;
}

type Matcher = (host: string, port: string, ip: boolean) => boolean;

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** Go's getEnvAny: the first variable that is set and non-empty. */
function envAny(env: ProxyEnvironment, ...names: (keyof ProxyEnvironment)[]): string {
  for (const n of names) {
    const v = env[n];
    if (v) return v;
  }
  return '';
}

/** Go's parseProxy: a value that does not parse with a scheme and host is tried again with http://. */
export function parseProxyUrl(value: string, source: string): URL {
  let u: URL | undefined;
  try {
    u = new URL(value);
  } catch {
    u = undefined;
  }
  if (u && u.protocol && u.host) return checkScheme(u, source);
  try {
    u = new URL(`http://${value}`);
  } catch {
    throw new UserError(`${source}: invalid proxy address ${JSON.stringify(value)}`);
  }
  return checkScheme(u, source);
}

function checkScheme(u: URL, source: string): URL {
  if (u.protocol === 'http:' || u.protocol === 'https:') return u;
  if (u.protocol === 'socks5:' || u.protocol === 'socks5h:') {
    throw new UserError(
      `${source}: ${u.protocol}// proxies are not supported by sleap-roots (kubectl supports them)`,
      'use an http:// or https:// proxy (CONNECT), or run the command where the API server is reachable directly',
    );
  }
  throw new UserError(`${source}: unsupported proxy scheme ${u.protocol.replace(/:$/, '')} in ${u.href}`, 'expected http://, https:// (or socks5:// for kubectl)');
}

/** Parses NO_PROXY into matchers (httpproxy config.init). */
function noProxyMatchers(noProxy: string): Matcher[] {
  const out: Matcher[] = [];
  for (let p of noProxy.split(',')) {
    p = p.trim().toLowerCase();
    if (!p) continue;
    if (p === '*') return [() => true];
    const cidr = parseCidr(p);
    if (cidr) {
      out.push((host, _port, ip) => ip && cidr(host));
      continue;
    }
    let phost = p;
    let pport = '';
    const hp = /^(.*):(\d+)$/.exec(p);
    if (hp && (!hp[1].includes(':') || (hp[1].startsWith('[') && hp[1].endsWith(']')))) {
      phost = hp[1].replace(/^\[(.*)\]$/, '$1');
      pport = hp[2];
      if (!phost) continue;
    }
    const family = net.isIP(phost);
    if (family) {
      const one = new net.BlockList();
      one.addAddress(phost, family === 4 ? 'ipv4' : 'ipv6');
      out.push((host, port, ip) => ip && one.check(host, net.isIP(host) === 4 ? 'ipv4' : 'ipv6') && (pport === '' || pport === port));
      continue;
    }
    if (phost.startsWith('*.')) phost = phost.slice(1);
    const matchHost = !phost.startsWith('.');
    if (matchHost) phost = `.${phost}`;
    out.push((host, port, ip) => !ip && (host.endsWith(phost) || (matchHost && host === phost.slice(1))) && (pport === '' || pport === port));
  }
  return out;
}

function parseCidr(p: string): ((ip: string) => boolean) | undefined {
  const m = /^(.+)\/(\d{1,3})$/.exec(p);
  if (!m) return undefined;
  const family = net.isIP(m[1]);
  const bits = Number(m[2]);
  if (!family || bits > (family === 4 ? 32 : 128)) return undefined;
  const list = new net.BlockList();
  list.addSubnet(m[1], bits, family === 4 ? 'ipv4' : 'ipv6');
  return (ip) => {
    const f = net.isIP(ip);
    return f !== 0 && list.check(ip, f === 4 ? 'ipv4' : 'ipv6');
  };
}

/** True when a request to `target` should use the environment's proxy (httpproxy useProxy). */
export function useProxy(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = target.port || DEFAULT_PORTS[target.protocol] || '';
  if (host === 'localhost') return false;
  const ip = net.isIP(host) !== 0;
  if (ip && isLoopback(host)) return false;
  return !noProxyMatchers(noProxy).some((m) => m(host, port, ip));
}

function isLoopback(ip: string): boolean {
  if (net.isIP(ip) === 4) return ip.startsWith('127.');
  return ip === '::1' || /^::ffff:127\./i.test(ip) || /^(0+:){7}0*1$/.test(ip);
}

/**
 * The proxy for requests to `server`, or undefined for a direct connection.
 * @param proxyUrl the kubeconfig cluster's `proxy-url`, which wins over the environment
 * @throws UserError for a proxy scheme that is not supported (socks5) or an unparsable value
 */
export function proxyFor(server: URL, proxyUrl: string | undefined, env: ProxyEnvironment): URL | undefined {
  if (proxyUrl) return parseProxyUrl(proxyUrl, 'the kubeconfig cluster\'s proxy-url');
  const https = server.protocol === 'https:';
  const value = https ? envAny(env, 'HTTPS_PROXY', 'https_proxy') : envAny(env, 'HTTP_PROXY', 'http_proxy');
  if (!value) return undefined;
  if (!useProxy(server, envAny(env, 'NO_PROXY', 'no_proxy'))) return undefined;
  return parseProxyUrl(value, https ? 'HTTPS_PROXY' : 'HTTP_PROXY');
}
