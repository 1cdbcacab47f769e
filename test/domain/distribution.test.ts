import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignInTurn,
  isOpenStatus,
  parsePoolKey,
  pickAssignee,
  poolFor,
  poolKey,
  withOneMoreTicket,
  type PoolMember,
  type PoolRef,
} from '../../domain/distribution.js';
import { TICKET_STATUSES } from '../../domain/ticket-status.js';

const member = (userId: number, name: string, registrationOrder: number, openTickets: number, more: Partial<PoolMember> = {}): PoolMember => ({
  userId,
  name,
  registrationOrder,
  active: true,
  available: true,
  openTickets,
  ...more,
});

// The seeds' example (SPEC §5): Ana 5 open (registered 2nd), João 3 (1st), Luis 2 (3rd).
const ana = member(1, 'Ana', 2, 5);
const joao = member(2, 'João', 1, 3);
const luis = member(3, 'Luis', 3, 2);
const loads = (ms: PoolMember[]) => Object.fromEntries(ms.map((m) => [m.name, m.openTickets]));
const names = (ms: PoolMember[], ids: (number | null)[]) => ids.map((id) => ms.find((m) => m.userId === id)?.name ?? null);

describe("the seeds' example (SPEC §5), exactly", () => {
  it('four tickets go to Luis, João, Luis, João; then Luis 4, João 5, Ana 5; the fifth goes to Luis', () => {
    const pool = [ana, joao, luis];
    const four = assignInTurn(pool, 4);
    expect(names(pool, four.picks.map((p) => p.userId))).toEqual(['Luis', 'João', 'Luis', 'João']);
    expect(loads(four.members)).toEqual({ Luis: 4, João: 5, Ana: 5 });
    const fifth = pickAssignee(four.members);
    expect(fifth.userId).toBe(luis.userId);
    // The same run in one go, and the input is left untouched.
    expect(assignInTurn(pool, 5).picks.map((p) => p.userId)).toEqual([3, 2, 3, 2, 3]);
    expect(loads(pool)).toEqual({ Ana: 5, João: 3, Luis: 2 });
  });

  it('explains each pick: the candidates, their counts and registration orders, and the reason', () => {
    const [first, second] = assignInTurn([ana, joao, luis], 2).picks;
    expect(first).toEqual({
      userId: 3,
      reason: 'Luis has the fewest open tickets (2)',
      candidates: [
        { userId: 3, openTickets: 2, registrationOrder: 3 },
        { userId: 2, openTickets: 3, registrationOrder: 1 },
        { userId: 1, openTickets: 5, registrationOrder: 2 },
      ],
      skipped: [],
      pauseIgnored: false,
    });
    expect(second).toMatchObject({ userId: 2, reason: 'João and Luis both have 3 open tickets; João registered first' });
  });
});

describe('pickAssignee', () => {
  it('ties go to the earliest registered, whatever the order of the pool', () => {
    const a = member(10, 'A', 7, 4);
    const b = member(11, 'B', 3, 4);
    const c = member(12, 'C', 5, 4);
    for (const pool of [[a, b, c], [c, b, a], [b, a, c]]) {
      expect(pickAssignee(pool)).toMatchObject({ userId: 11, reason: 'B, C and A all have 4 open tickets; B registered first' });
    }
  });

  it('skips paused members while someone is available, even one with more tickets', () => {
    const d = pickAssignee([ana, { ...joao, available: false }, { ...luis, available: false }]);
    expect(d).toEqual({
      userId: 1,
      reason: 'Ana is the only available member (5 open tickets)',
      candidates: [{ userId: 1, openTickets: 5, registrationOrder: 2 }],
      skipped: [
        { userId: 2, why: 'paused' },
        { userId: 3, why: 'paused' },
      ],
      pauseIgnored: false,
    });
  });

  it('ignores the pause when every active member is paused, rather than leaving the ticket waiting', () => {
    const d = pickAssignee([{ ...ana, available: false }, { ...joao, available: false }, { ...luis, active: false }]);
    expect(d).toMatchObject({
      userId: 2,
      reason: 'João has the fewest open tickets (3); every active member is paused, so the pause was ignored',
      skipped: [{ userId: 3, why: 'inactive' }],
      pauseIgnored: true,
    });
    if (d.userId === null) throw new Error('unreachable');
    expect(d.candidates.map((c) => c.userId)).toEqual([2, 1]);
  });

  it('never picks an inactive member, even the least loaded, nor one who is inactive and available', () => {
    const d = pickAssignee([ana, joao, { ...luis, active: false, openTickets: 0 }]);
    expect(d).toMatchObject({ userId: 2, skipped: [{ userId: 3, why: 'inactive' }], pauseIgnored: false });
  });

  it('an empty pool, or one with no active member, picks nobody and says why', () => {
    expect(pickAssignee([])).toEqual({ userId: null, reason: 'the pool has no members', skipped: [] });
    expect(pickAssignee([{ ...ana, active: false }, { ...joao, active: false, available: false }])).toEqual({
      userId: null,
      reason: 'no active member in the pool',
      skipped: [
        { userId: 1, why: 'inactive' },
        { userId: 2, why: 'inactive' },
      ],
    });
    const none = assignInTurn([{ ...luis, active: false }], 3);
    expect(none.picks.map((p) => p.userId)).toEqual([null, null, null]);
    expect(none.members[0]!.openTickets).toBe(2);
  });

  it('names a member without a name by id, and says "1 open ticket"', () => {
    expect(pickAssignee([{ userId: 9, registrationOrder: 1, active: true, available: true, openTickets: 1 }]).reason).toBe('user 9 is the only available member (1 open ticket)');
  });

  it('withOneMoreTicket adds one to that member only, leaving the input untouched', () => {
    const pool = [ana, luis];
    expect(loads(withOneMoreTicket(pool, 3))).toEqual({ Ana: 5, Luis: 3 });
    expect(loads(pool)).toEqual({ Ana: 5, Luis: 2 });
  });

  it('decisions are plain JSON', () => {
    const { picks, members } = assignInTurn([ana, { ...joao, available: false }, { ...luis, active: false }], 3);
    expect(JSON.parse(JSON.stringify({ picks, members }))).toEqual({ picks, members });
  });
});

describe('open tickets', () => {
  it('are those not resolved, closed or cancelled', () => {
    expect(TICKET_STATUSES.filter(isOpenStatus)).toEqual(['open', 'waiting_customer']);
  });
});

describe('the pool of a distribution target (SPEC §3 rule 4, §5)', () => {
  const both = { solutionGroupId: 30, sectorId: 1 };
  const groupOnly = { solutionGroupId: 30, sectorId: null };
  const sectorOnly = { solutionGroupId: null, sectorId: 1 };
  const neither = { solutionGroupId: null, sectorId: null };
  it.each([
    ['solution_group', both, { kind: 'group', id: 30 }],
    ['solution_group', groupOnly, { kind: 'group', id: 30 }],
    ['solution_group', sectorOnly, { kind: 'sector', id: 1 }],
    ['solution_group', neither, null],
    ['sector', both, { kind: 'sector', id: 1 }],
    ['sector', sectorOnly, { kind: 'sector', id: 1 }],
    ['sector', groupOnly, { kind: 'group', id: 30 }],
    ['sector', neither, null],
    [null, both, { kind: 'group', id: 30 }],
    [null, groupOnly, { kind: 'group', id: 30 }],
    [null, sectorOnly, { kind: 'sector', id: 1 }],
    [null, neither, null],
  ] as const)('%s with %j → %j', (target, occurrence, pool) => {
    expect(poolFor(target, occurrence)).toEqual(pool);
  });

  it('keys a pool as group-<id> / sector-<id>, and reads the key back', () => {
    expect(poolKey({ kind: 'group', id: 30 })).toBe('group-30');
    expect(poolKey({ kind: 'sector', id: 1 })).toBe('sector-1');
    fc.assert(
      fc.property(fc.constantFrom('group' as const, 'sector' as const), fc.nat({ max: Number.MAX_SAFE_INTEGER }), (kind, id) => {
        const ref: PoolRef = { kind, id };
        expect(parsePoolKey(poolKey(ref))).toEqual(ref);
      }),
    );
  });

  it.each(['', 'group', 'group-', 'group-01', 'group--1', 'group-1.5', 'Group-1', 'team-1', ' sector-1', 'sector-1 ', 'sector-99999999999999999999', 'assigner:group-1'])(
    'parsePoolKey(%j) is null',
    (key) => {
      expect(parsePoolKey(key)).toBeNull();
    },
  );
});

// Members with distinct ids and registration orders, arbitrary loads and flags, in any order.
const arbMembers = fc
  .uniqueArray(fc.integer({ min: 1, max: 1000 }), { maxLength: 8 })
  .chain((ids) =>
    fc.tuple(
      fc.shuffledSubarray(
        Array.from({ length: 20 }, (_, i) => i + 1),
        { minLength: ids.length, maxLength: ids.length },
      ),
      fc.array(fc.record({ openTickets: fc.integer({ min: 0, max: 50 }), active: fc.boolean(), available: fc.boolean() }), { minLength: ids.length, maxLength: ids.length }),
    ).map(([orders, rest]) => ids.map((userId, i): PoolMember => ({ userId, registrationOrder: orders[i]!, ...rest[i]! }))),
  );

describe('properties of the rule', () => {
  it('every pick is an active member, available unless none is, with the fewest open tickets and then the earliest registration', () => {
    fc.assert(
      fc.property(arbMembers, fc.integer({ min: 0, max: 60 }), (members, n) => {
        const { picks, members: after } = assignInTurn(members, n);
        expect(picks).toHaveLength(n);
        let state = members.map((m) => ({ ...m }));
        let total = state.reduce((s, m) => s + m.openTickets, 0);
        for (const pick of picks) {
          const active = state.filter((m) => m.active);
          const eligible = active.some((m) => m.available) ? active.filter((m) => m.available) : active;
          if (eligible.length === 0) {
            expect(pick.userId).toBeNull();
            continue;
          }
          const chosen = state.find((m) => m.userId === pick.userId);
          expect(chosen).toBeDefined();
          expect(eligible).toContain(chosen);
          const fewest = Math.min(...eligible.map((m) => m.openTickets));
          expect(chosen!.openTickets).toBe(fewest);
          const earliest = Math.min(...eligible.filter((m) => m.openTickets === fewest).map((m) => m.registrationOrder));
          expect(chosen!.registrationOrder).toBe(earliest);
          expect(pick.userId !== null && pick.pauseIgnored).toBe(!active.some((m) => m.available));
          state = state.map((m) => (m.userId === pick.userId ? { ...m, openTickets: m.openTickets + 1 } : m));
          const newTotal = state.reduce((s, m) => s + m.openTickets, 0);
          expect(newTotal).toBe(total + 1);
          total = newTotal;
        }
        expect(after).toEqual(state);
        // Each pick adds exactly one ticket overall.
        const assigned = picks.filter((p) => p.userId !== null).length;
        expect(after.reduce((s, m) => s + m.openTickets, 0)).toBe(members.reduce((s, m) => s + m.openTickets, 0) + assigned);
      }),
    );
  });

  it('from equal loads, any number of picks leaves the eligible members within one ticket of each other', () => {
    fc.assert(
      fc.property(arbMembers, fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 60 }), (members, load, n) => {
        const equal = members.map((m) => ({ ...m, openTickets: load }));
        const { members: after } = assignInTurn(equal, n);
        const active = after.filter((m) => m.active);
        const eligible = active.some((m) => m.available) ? active.filter((m) => m.available) : active;
        if (eligible.length === 0) return;
        const counts = eligible.map((m) => m.openTickets);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        expect(counts.reduce((s, c) => s + c, 0)).toBe(load * eligible.length + n);
      }),
    );
  });
});
