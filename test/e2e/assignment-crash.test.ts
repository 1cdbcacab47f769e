import { describe, expect, it } from 'vitest';
import { requestAssignment } from '../../clients/assigner.js';
import type { AssignAnswer } from '../../contracts/assignment.js';
import { expectBalancedAndRecorded } from '../harness/assignments.js';
import { useE2E } from '../harness/e2e.js';
import { eventually, uniqueSuffix } from '../harness/fixtures.js';
import { useWorkerProcesses } from '../harness/spawn-worker.js';

const e2e = useE2E('assign-crash');
const workerProcess = useWorkerProcesses();

/**
 * Asks as the e-mail path's activity does: an update the server aborted (its worker died
 * mid-task) is asked again, with the same update id, until answered.
 */
async function askRetrying(opts: Parameters<typeof requestAssignment>[0]): Promise<AssignAnswer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await requestAssignment(opts);
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

describe('the assignment workflow across a worker killed mid-burst', () => {
  it('300 requests, the worker SIGKILLed after about a third and another started: balanced, each assigned once, the database agreeing', { timeout: 180_000 }, async () => {
    const taskQueue = `assign-kill${uniqueSuffix()}`;
    const sfx = uniqueSuffix();
    const post = async (url: string, payload: object) => (await e2e.api.as('admin', { method: 'POST', url, payload })).json().id as number;
    const ids = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => post('/users', { login: `kill${n}${sfx}`, name: `Kill ${n}`, role: 'agent' })));
    const group = await post('/solution-groups', { name: `Kill pool${sfx}`, memberIds: ids });
    const customerId = await post('/customers', { name: `Kill customer${sfx}`, regionId: await post('/regions', { name: `Kill region${sfx}` }) });
    const tickets = await e2e.sql<{ id: number; protocol: string }[]>`
      INSERT INTO ticket (protocol, subject, description, customer_id, channel)
      SELECT '1998' || lpad(nextval('protocol_sequence')::text, 8, '0'), 'Crash test', '-', ${customerId}, 'api' FROM generate_series(1, 300)
      RETURNING id, protocol`;

    const first = await workerProcess(taskQueue);
    let answered = 0;
    const answers = Promise.all(
      tickets.map((t) =>
        askRetrying({ client: e2e.client, taskQueue, pool: { kind: 'group', id: group }, request: { ticketId: t.id, protocol: t.protocol } }).then((a) => {
          answered++;
          return a;
        }),
      ),
    );
    await eventually(async () => (answered >= 100 ? true : undefined), 60_000, 'a third of the answers');
    first.kill('SIGKILL');
    // The kill lands mid-burst: some answers are still to come.
    const atKill = answered;
    expect(atKill).toBeLessThan(300);
    await workerProcess(taskQueue);
    const all: AssignAnswer[] = await answers;

    await expectBalancedAndRecorded(e2e.sql, ids, all, 60_000);
  });
});
