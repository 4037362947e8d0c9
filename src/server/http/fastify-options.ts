// Fastify server options that make errors raised before routing (bad URL, oversize headers) answer `{ code }` too.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyServerOptions } from 'fastify';

type FrameworkErrors = NonNullable<FastifyServerOptions['frameworkErrors']>;

/**
 * Errors Fastify raises before a route runs (a malformed percent-encoding, a path parameter over
 * `maxParamLength`) skip the error handler a plugin can set; so do Node's HTTP parser errors (headers
 * over 16 KiB). These options, server-level in Fastify, answer them with netloom's `{ code, message }`
 * body (`request_invalid`). `createServer` uses them; pass them to `Fastify(...)` yourself when you
 * register the `netloom` plugin on your own app.
 */
export function netloomFastifyOptions(): Pick<
  FastifyServerOptions,
  'frameworkErrors' | 'clientErrorHandler'
> {
  const frameworkErrors: FrameworkErrors = (error, _request, reply) => {
    const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
    void (reply as FastifyReply).code(status).send({ code: 'request_invalid', message: error.message });
  };
  return { frameworkErrors, clientErrorHandler };
}

/** Answers an HTTP parser error (oversize headers, garbage) with a JSON `{ code }` body, then closes. */
function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({
    code: 'request_invalid',
    message:
      status === 431 ? 'request headers too large' : status === 408 ? 'request timeout' : 'bad request',
  });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
