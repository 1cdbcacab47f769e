import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApi, type TestApi } from '../harness/api.js';

/** What reaches the API before any route runs, sent as raw bytes over a real socket. */
let api: TestApi;
useTestApi((_sql, a) => (api = a));
let port: number;

function send(request: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('close', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), type: /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '', body });
    });
    socket.on('error', reject);
  });
}

beforeAll(async () => {
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  port = (api.app.server.address() as net.AddressInfo).port;
});

const get = (path: string, headers = '') => `GET ${path} HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${api.keys.admin}\r\n${headers}Connection: close\r\n\r\n`;

describe('problems raised before a route runs are problem+json too', () => {
  it('an over-long path parameter: 400 naming it, without echoing it', async () => {
    const res = await send(get(`/tickets/${'7'.repeat(4000)}`));
    expect(res.status).toBe(400);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.body).not.toContain('7777777777');
    expect(JSON.parse(res.body).errors[0].field).toBe('params.protocol');
  });

  it('broken percent-encoding: 400', async () => {
    const res = await send(get('/sectors/%E0%A4%A'));
    expect(res.status).toBe(400);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.body).detail).toMatch(/percent-encoded/);
  });

  it('an unknown method: 400 saying which methods the API answers', async () => {
    const res = await send('BREW /sectors HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n');
    expect([res.status, res.type]).toEqual([400, 'application/problem+json']);
    expect(JSON.parse(res.body).detail).toMatch(/Unknown HTTP method/);
  });

  it('oversized headers: 431', async () => {
    const res = await send(get('/sectors', `X-Padding: ${'a'.repeat(20_000)}\r\n`));
    expect([res.status, res.type]).toEqual([431, 'application/problem+json']);
  });

  it('a repeated query parameter and a hexadecimal number: 400 naming the parameter', async () => {
    for (const query of ['limit=1&limit=2', 'limit=0x10', 'limit=1e1', 'after=-1']) {
      const res = await api.as('admin', `/sectors?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().errors[0].field, query).toMatch(/^querystring\.(limit|after)$/);
    }
  });
});
