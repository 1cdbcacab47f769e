import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertPortsFree } from '../../stack/ports.js';
import { freePort } from '../../stack/free-port.js';

describe('the launcher port check', () => {
  it('passes when the ports are free', async () => {
    await expect(assertPortsFree({ API_PORT: await freePort() })).resolves.toBeUndefined();
  });

  it('names the port that is taken and the variable that moves it', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const { port } = busy.address() as { port: number };
    try {
      await expect(assertPortsFree({ API_PORT: await freePort(), TEMPORAL_PORT: port })).rejects.toThrow(
        `port ${port} is in use: stop what listens there or set TEMPORAL_PORT`,
      );
    } finally {
      busy.close();
    }
  });
});
