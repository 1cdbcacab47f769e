import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyServerOptions } from 'fastify';

/**
 * Problems raised before any route runs, in the API's one error format and without echoing
 * what the client sent (a 4 KB URL does not come back in the body).
 */

const CLIENT_ERRORS: Record<string, [number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request took too long to arrive; send it again.'],
  HPE_HEADER_OVERFLOW: [431, 'The request headers are too large (16 KB at most); send fewer or shorter headers.'],
  HPE_INVALID_METHOD: [400, 'Unknown HTTP method; the API answers GET, POST, PATCH and DELETE (see /docs).'],
  HPE_INVALID_URL: [400, 'The request URL cannot be read.'],
};

/** Errors Node's HTTP parser raises (unknown method, oversized headers): written to the socket as a problem. */
function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'The request cannot be read as HTTP/1.1.'];
  const body = JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status], status, detail });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Errors of the router (bad percent-encoding, an over-long path parameter). */
const frameworkErrors: FastifyServerOptions['frameworkErrors'] = (error, _req, reply) => {
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const detail = tooLong
    ? 'A path parameter is too long; ids and protocols are much shorter.'
    : 'The URL is not valid: a percent-encoded character (%XX) is broken.';
  const status = tooLong ? 414 : 400;
  void (reply as FastifyReply).code(status).type('application/problem+json').send({ type: 'about:blank', title: STATUS_CODES[status], status, detail });
};

/**
 * Path parameters as long as a request line can be (Node reads 16 KB of headers at most), so
 * the route's schema judges them and names the field (`params.id`); the router's 414 stays as
 * the last resort.
 */
export const serverErrorOptions: Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors' | 'routerOptions'> = {
  clientErrorHandler,
  frameworkErrors,
  routerOptions: { maxParamLength: 16_384 },
};
