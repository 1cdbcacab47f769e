import { describe, expect, it } from 'vitest';
import { mailboxRuleViolations, type MailboxRuleFacts, type MailboxRuleSettings } from '../../domain/mailbox-rules.js';

// Sector 1 is the mailbox's; type 10 and occurrence 20 (group 30) belong to it; solution 40 to occurrence 20.
const settings: MailboxRuleSettings = {
  sectorId: 1,
  autoConvert: true,
  creatorUserId: 5,
  occurrenceTypeId: 10,
  occurrenceId: 20,
  solutionId: 40,
  autoDistribute: true,
  distributionTarget: 'solution_group',
};
const facts: MailboxRuleFacts = {
  sectorFound: true,
  occurrenceType: { name: 'Question', sectorId: 1 },
  occurrence: { name: 'General question', occurrenceTypeId: 10, sectorId: 1, solutionGroupId: 30 },
  solution: { name: 'Answer', occurrenceId: 20 },
};
const fields = (s: Partial<MailboxRuleSettings>, f: Partial<MailboxRuleFacts> = {}) => mailboxRuleViolations({ ...settings, ...s }, { ...facts, ...f }).map((v) => v.field);

describe('mailbox rules (SPEC §3)', () => {
  it('accept a consistent configuration, and a plain mailbox with nothing set', () => {
    expect(mailboxRuleViolations(settings, facts)).toEqual([]);
    const plain = { sectorId: null, autoConvert: false, creatorUserId: null, occurrenceTypeId: null, occurrenceId: null, solutionId: null, autoDistribute: false, distributionTarget: null };
    expect(mailboxRuleViolations(plain, { sectorFound: false })).toEqual([]);
  });

  it('1. autoConvert needs the creator, the occurrence type and the occurrence, each named', () => {
    expect(fields({ creatorUserId: null, occurrenceTypeId: null, occurrenceId: null, solutionId: null })).toEqual(['creatorUserId', 'occurrenceTypeId', 'occurrenceId']);
    expect(fields({ autoConvert: false, creatorUserId: null, solutionId: null, autoDistribute: false, occurrenceTypeId: null, occurrenceId: null })).toEqual([]);
  });

  it('2. the occurrence belongs to the type', () => {
    const v = mailboxRuleViolations(settings, { ...facts, occurrence: { ...facts.occurrence!, occurrenceTypeId: 11 } });
    expect(v).toEqual([{ field: 'occurrenceId', message: expect.stringMatching(/«General question» belongs to another occurrence type \(id 11\), not to «Question» \(id 10\)/) }]);
    expect(fields({ autoConvert: false, occurrenceTypeId: null })).toEqual(['occurrenceTypeId']);
  });

  it("2. the type and the occurrence are linked to the mailbox's sector, or to none", () => {
    expect(fields({}, { occurrenceType: { name: 'Question', sectorId: 2 } })).toEqual(['occurrenceTypeId']);
    expect(fields({}, { occurrence: { ...facts.occurrence!, sectorId: 2 } })).toEqual(['occurrenceId']);
    expect(fields({}, { occurrenceType: { name: 'Question', sectorId: null }, occurrence: { ...facts.occurrence!, sectorId: null } })).toEqual([]);
    // A mailbox without a sector accepts any.
    expect(fields({ sectorId: null }, { occurrenceType: { name: 'Question', sectorId: 2 }, occurrence: { ...facts.occurrence!, sectorId: 3 } })).toEqual([]);
  });

  it('3. the solution belongs to the occurrence', () => {
    expect(fields({}, { solution: { name: 'Answer', occurrenceId: 21 } })).toEqual(['solutionId']);
    expect(fields({ autoConvert: false, autoDistribute: false, occurrenceTypeId: null, occurrenceId: null })).toEqual(['solutionId']);
  });

  it('4. autoDistribute needs the occurrence to have a solution group or a sector, in the seeds\' words', () => {
    const v = mailboxRuleViolations(settings, { ...facts, occurrence: { ...facts.occurrence!, solutionGroupId: null, sectorId: null } });
    expect(v).toEqual([{ field: 'autoDistribute', message: 'Associate a solution group or a sector with occurrence «General question» before enabling automatic distribution.' }]);
    expect(fields({ autoDistribute: false }, { occurrence: { ...facts.occurrence!, solutionGroupId: null, sectorId: null } })).toEqual([]);
  });

  it('4. solution_group falls back to the sector (seeds); sector needs one', () => {
    const groupOnly = { occurrence: { ...facts.occurrence!, sectorId: null } };
    const sectorOnly = { occurrence: { ...facts.occurrence!, solutionGroupId: null } };
    expect(fields({ distributionTarget: 'solution_group' }, sectorOnly)).toEqual([]);
    expect(fields({ distributionTarget: null }, sectorOnly)).toEqual([]);
    expect(fields({ distributionTarget: 'sector' }, sectorOnly)).toEqual([]);
    expect(fields({ distributionTarget: 'sector' }, groupOnly)).toEqual(['distributionTarget']);
    expect(fields({ distributionTarget: 'solution_group' }, groupOnly)).toEqual([]);
  });

  it('4. with no occurrence set (triage), distribution is left to the conversion', () => {
    expect(fields({ autoConvert: false, occurrenceTypeId: null, occurrenceId: null, solutionId: null }, { occurrence: undefined })).toEqual([]);
  });

  it('leave a reference to nothing to the database, which names the field', () => {
    expect(fields({ sectorId: 999 }, { sectorFound: false, occurrenceType: { name: 'Question', sectorId: 2 } })).toEqual([]);
    expect(fields({ occurrenceTypeId: 999 }, { occurrenceType: undefined })).toEqual([]);
    expect(fields({ occurrenceId: 999 }, { occurrence: undefined })).toEqual([]);
    expect(fields({ solutionId: 999 }, { solution: undefined })).toEqual([]);
  });

  it('report every rule broken at once', () => {
    expect(fields({ creatorUserId: null }, { occurrence: { name: 'X', occurrenceTypeId: 11, sectorId: null, solutionGroupId: null }, solution: { name: 'S', occurrenceId: 21 } })).toEqual([
      'creatorUserId',
      'occurrenceId',
      'solutionId',
      'autoDistribute',
    ]);
  });
});
