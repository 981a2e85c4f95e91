/**
 * Connections through an http(s) proxy. client-node has a proxy agent only for a kubeconfig's `proxy-url`
 * and builds it once, with the credentials of that moment; we need one that also serves HTTPS_PROXY and is
 * rebuilt when an exec plugin rotates the client certificate, so this file opens the tunnel itself.
 *
 * As Go's net/http Transport does (transport.go, dialConn): an https server is reached through a
 * `CONNECT host:port` tunnel, with TLS to the server inside it; an http server gets ordinary requests in
 * absolute form sent to the proxy (that part is in http.ts). An https:// proxy is itself spoken to over
 * TLS. User and password in the proxy URL become `Proxy-Authorization: Basic`.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';

/** The `Proxy-Authorization` value for a proxy URL with credentials, if it has any. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const pair = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

/** Opens a socket to the proxy itself (TLS for an https:// proxy). */
function connectToProxy(proxy: URL): net.Socket {
  const port = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));
  const host = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
  return proxy.protocol === 'https:' ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
}

/** Sends CONNECT and resolves with the socket once the proxy answers 2xx. */
export function openTunnel(proxy: URL, host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectToProxy(proxy);
    const authority = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
    const auth = proxyAuthorization(proxy);
    let buffered = Buffer.alloc(0);
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > 16_384) fail(new Error(`the proxy ${proxy.host} sent an over-long answer to CONNECT`));
        return;
      }
      socket.off('data', onData);
      socket.off('error', fail);
      const statusLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      if (!m || !m[1].startsWith('2')) {
        const e = new Error(`the proxy ${proxy.host} refused CONNECT ${authority}: ${statusLine || 'no status line'}`) as NodeJS.ErrnoException;
        e.code = 'EPROXY';
        fail(e);
        return;
      }
      const rest = buffered.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
    socket.once('error', fail);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`);
  });
}

/** Node calls it with the error alone when connecting fails. */
type CreateCallback = (err: Error | null, stream?: Duplex) => void;

/** An https.Agent (keep-alive pool, TLS options) whose sockets run through a CONNECT tunnel. */
export class TunnelingAgent extends https.Agent {
  public constructor(
    private readonly proxy: URL,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  // Node's Agent accepts an asynchronous createConnection: it waits for the callback when nothing is returned
  // (lib/_http_agent.js, createSocket: `const newSocket = this.createConnection(options, oncreate)`).
  public override createConnection(options: http.ClientRequestArgs, cb?: (err: Error | null, stream: Duplex) => void): Duplex | undefined {
    const callback = cb as CreateCallback | undefined;
    const tlsOptions = options as tls.ConnectionOptions & http.ClientRequestArgs;
    const host = String(tlsOptions.host ?? 'localhost');
    const port = Number(tlsOptions.port ?? 443);
    openTunnel(this.proxy, host, port).then(
      (socket) => {
        const secure = tls.connect({ ...tlsOptions, socket, servername: tlsOptions.servername ?? (net.isIP(host) ? undefined : host) });
        callback?.(null, secure);
      },
      (e: Error) => callback?.(e),
    );
    return undefined;
  }
}

/** Where an http request to `url` is sent when it goes through a proxy in absolute form. */
export function absoluteFormTarget(url: URL, proxy: URL): http.RequestOptions {
  const auth = proxyAuthorization(proxy);
  return {
    host: proxy.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80)),
    path: url.href,
    headers: { Host: url.host, ...(auth ? { 'Proxy-Authorization': auth } : {}) },
  };
}
