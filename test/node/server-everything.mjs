// server-everything.mjs: runs the reference MCP server
// @modelcontextprotocol/server-everything (a real upstream for the gateway's
// tests) bound to loopback only.
//
// Usage:
//   PORT=0 node server-everything.mjs streamableHttp   # POST|GET|DELETE /mcp (Streamable HTTP)
//   PORT=0 node server-everything.mjs sse              # GET /sse + POST /message (2024-11-05 HTTP+SSE)
//   node server-everything.mjs stdio                   # newline-delimited JSON-RPC on stdin/stdout
//
// The package itself calls app.listen(PORT) with no host, which binds every
// interface. This wrapper makes every listen() in the process bind 127.0.0.1
// instead, then imports the package's own launcher unchanged (same argv), so
// what runs is the published server. For the HTTP transports it prints
// "READY http://127.0.0.1:<port>" on stderr once listening (stdout is left to
// the server: in stdio mode it is the protocol channel). PORT=0 picks a free
// port. SIGTERM ends the process (the package handles only SIGINT).
import net from 'node:net';

const LOOPBACK = '127.0.0.1';
const origListen = net.Server.prototype.listen;

net.Server.prototype.listen = function listenLoopback(...args) {
  // listen(port[, host][, backlog][, cb]) or listen(options[, cb]).
  if (args.length > 0 && typeof args[0] === 'object' && args[0] !== null && !('fd' in args[0]) && !('path' in args[0])) {
    args[0] = { ...args[0], host: LOOPBACK };
  } else if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    const port = Number(args[0]);
    const rest = args.slice(1);
    if (typeof rest[0] === 'string') rest.shift(); // drop any host: loopback only
    args = [port, LOOPBACK, ...rest];
  }
  this.once('listening', () => {
    const addr = this.address();
    if (addr && typeof addr === 'object') {
      process.stderr.write(`READY http://${LOOPBACK}:${addr.port}\n`);
    }
  });
  return origListen.apply(this, args);
};

process.on('SIGTERM', () => process.exit(0));

await import('@modelcontextprotocol/server-everything/dist/index.js');
