import { createServer } from 'node:net';

function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * Fails before anything starts when a port the stack needs is taken (say, by another
 * Temporal dev server, whose frontend would otherwise answer in place of ours), naming the
 * variable that moves it.
 */
export async function assertPortsFree(wanted: Record<string, number>, host = '127.0.0.1'): Promise<void> {
  const taken: string[] = [];
  for (const [variable, port] of Object.entries(wanted)) {
    if (!(await isFree(port, host))) taken.push(`port ${port} is in use: stop what listens there or set ${variable}`);
  }
  if (taken.length > 0) throw new Error(taken.join('; '));
}
