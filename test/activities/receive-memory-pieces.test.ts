import { createHash } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAndStore, STREAM_ABOVE_BYTES } from '../../activities/fetch-mail.js';
import { withImap } from '../../activities/imap.js';
import type { Sql } from '../../db/client.js';
import { findReceived } from '../../db/inbound-emails.js';
import { oversizedReason } from '../../domain/mailbox-settings.js';
import { appendMail, rawMail, seedConfig, testSql } from '../harness/fixtures.js';
import { bigMail } from './big-mail.js';

/**
 * A message above STREAM_ABOVE_BYTES is downloaded and stored in pieces (issue 8): what the
 * watcher guarantees for every message still holds for it, on real Dovecot and PostgreSQL. It is
 * stored in UID order among the small ones, its Message-ID dedupe works, the size limit
 * quarantines it with its bytes, a UID gone from the server is recorded as such, and it is
 * never seen half-stored: a download cut between pieces leaves nothing, and the next try
 * stores it whole.
 */
let sql: Sql;

beforeAll(() => {
  sql = testSql();
});
afterAll(() => sql.end());

const MiB = 1024 * 1024;
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const large = () => bigMail(5, 1).raw;

type Cfg = Awaited<ReturnType<typeof seedConfig>>;

/** fetchAndStore over a connection of the mailbox's folder, with `wrap` standing in for parts of the client. */
async function fetchStore(cfg: Cfg, uidValidity: number, uids: number[], opts: { limit?: number; wrap?: (c: ImapFlow) => Partial<ImapFlow> } = {}) {
  const told: number[] = [];
  const stored = await withImap(cfg.imap, async (client) => {
    const lock = await client.getMailboxLock(cfg.imap.folder);
    try {
      const stand = opts.wrap?.(client) ?? {};
      const used = new Proxy(client, {
        get: (target, key) => {
          const value = key in stand ? stand[key as keyof ImapFlow] : Reflect.get(target, key, target);
          return typeof value === 'function' && !(key in stand) ? value.bind(target) : value;
        },
      });
      return await fetchAndStore(sql, used, { mailboxId: cfg.mailboxId, uidValidity }, uids, (uid) => told.push(uid), opts.limit ?? 64 * MiB);
    } finally {
      lock.release();
    }
  });
  return { stored, told };
}

const rows = (mailboxId: number) =>
  sql<{ uid: number; size: number; md5: string; messageId: string | null; outcome: string | null; outcomeReason: string | null }[]>`
    SELECT uid, size, md5(raw) AS md5, message_id, outcome, outcome_reason FROM inbound_email WHERE mailbox_id = ${mailboxId} ORDER BY uid`;

describe('a large message stored in pieces', () => {
  it('is stored whole, in UID order among small ones, each told as soon as it is stored; a second copy is found a duplicate by its Message-ID', async () => {
    const cfg = await seedConfig(sql);
    const big = large();
    expect(big.length).toBeGreaterThan(STREAM_ABOVE_BYTES);
    const small = [rawMail({ subject: 'small 1' }), rawMail({ subject: 'small 2' })];
    const refs = [await appendMail(cfg.imap, small[0]!), await appendMail(cfg.imap, big), await appendMail(cfg.imap, small[1]!), await appendMail(cfg.imap, big)];
    const uids = refs.map((r) => r.uid);

    const { stored, told } = await fetchStore(cfg, refs[0]!.uidValidity, uids);
    expect(stored).toEqual(uids);
    expect(told).toEqual(uids);
    const messageId = /^Message-ID: (.*)$/m.exec(big.subarray(0, 4096).toString())![1]!.trim();
    expect(await rows(cfg.mailboxId)).toEqual([
      expect.objectContaining({ uid: uids[0], md5: md5(small[0]!), outcome: null }),
      { uid: uids[1], size: big.length, md5: md5(big), messageId, outcome: null, outcomeReason: null },
      expect.objectContaining({ uid: uids[2], md5: md5(small[1]!), outcome: null }),
      { uid: uids[3], size: big.length, md5: md5(big), messageId, outcome: null, outcomeReason: null },
    ]);
    const first = await findReceived(sql, { mailboxId: cfg.mailboxId, uidValidity: refs[0]!.uidValidity, uid: uids[1]! });
    const second = await findReceived(sql, { mailboxId: cfg.mailboxId, uidValidity: refs[0]!.uidValidity, uid: uids[3]! });
    expect(first?.duplicateOf).toBeNull();
    expect(second?.duplicateOf).toBe(first?.emailId);

    // Fetched again (a retried round): nothing changes.
    expect((await fetchStore(cfg, refs[0]!.uidValidity, uids)).stored).toEqual(uids);
    expect(await rows(cfg.mailboxId)).toHaveLength(4);
  });

  it('above the mailbox limit: quarantined with the reason, its bytes kept', async () => {
    const cfg = await seedConfig(sql);
    const big = large();
    const ref = await appendMail(cfg.imap, big);
    const limit = STREAM_ABOVE_BYTES + 1024;
    expect((await fetchStore(cfg, ref.uidValidity, [ref.uid], { limit })).stored).toEqual([ref.uid]);
    expect(await rows(cfg.mailboxId)).toEqual([
      expect.objectContaining({ uid: ref.uid, size: big.length, md5: md5(big), outcome: 'quarantined', outcomeReason: oversizedReason(big.length, limit) }),
    ]);
  });

  it('gone from the server between its size and its download: stored empty and quarantined as vanished', async () => {
    const cfg = await seedConfig(sql);
    const ref = await appendMail(cfg.imap, large());
    const { stored, told } = await fetchStore(cfg, ref.uidValidity, [ref.uid], {
      wrap: (client) => ({
        download: async (...args: Parameters<ImapFlow['download']>) => {
          await withImap(cfg.imap, async (other) => {
            const lock = await other.getMailboxLock(cfg.imap.folder);
            try {
              await other.messageDelete(String(ref.uid), { uid: true });
            } finally {
              lock.release();
            }
          });
          await client.noop();
          return client.download(...args);
        },
      }),
    });
    expect(stored).toEqual([]);
    expect(told).toEqual([]);
    expect(await rows(cfg.mailboxId)).toEqual([expect.objectContaining({ uid: ref.uid, size: 0, outcome: 'quarantined', outcomeReason: expect.stringContaining('no longer in the mailbox') })]);
  });

  it('is never seen half-stored: a download cut between pieces stores nothing, and the next try stores it whole', async () => {
    const cfg = await seedConfig(sql);
    const big = large();
    const ref = await appendMail(cfg.imap, big);
    let seenMidway: unknown[] | undefined;
    const cut = fetchStore(cfg, ref.uidValidity, [ref.uid], {
      wrap: (client) => ({
        download: async (...args: Parameters<ImapFlow['download']>) => {
          const d = await client.download(...args);
          if (!d.content) return d;
          let passed = 0;
          const cutter = new Transform({
            transform(chunk: Buffer, _enc, done) {
              passed += chunk.length;
              if (passed < 3 * MiB) return done(null, chunk);
              // Half of it staged by now: nobody else sees the e-mail, or any part of it.
              void sql`SELECT uid FROM inbound_email WHERE mailbox_id = ${cfg.mailboxId}`.then(
                (r) => ((seenMidway = [...r]), done(new Error('connection lost'))),
                done,
              );
            },
          });
          return { ...d, content: pipeline(d.content, cutter, () => {}) };
        },
      }),
    });
    await expect(cut).rejects.toThrow('connection lost');
    expect(seenMidway).toEqual([]);
    expect(await rows(cfg.mailboxId)).toEqual([]);

    expect((await fetchStore(cfg, ref.uidValidity, [ref.uid])).stored).toEqual([ref.uid]);
    expect(await rows(cfg.mailboxId)).toEqual([expect.objectContaining({ uid: ref.uid, size: big.length, md5: md5(big), outcome: null })]);
  });
});
