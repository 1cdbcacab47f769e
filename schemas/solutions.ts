import { z } from 'zod';
import { enumParam, id, idParam, pageQuery, searchParam, slaUnit, text, timestamp } from './common.js';
import { SLA_MAX_DAYS, slaTooLong, slaValue } from './occurrences.js';

export const FLOWS = ['main', 'alternative'] as const;
export const MAX_STEPS = 50;

/** One step of a solution, as entities show it: `position` is its place in the flow, from 1. */
export const solutionStep = z
  .object({
    position: z.number(),
    name: z.string(),
    sectorId: z.number().describe('the sector whose BackOffice staff complete the step'),
    slaValue: z.number().nullable(),
    slaUnit: slaUnit.nullable(),
  })
  .meta({ id: 'SolutionStep' });

/** A step as a create or change sends it: its place in the list is its place in the flow. */
export const solutionStepInput = z
  .strictObject({
    name: text(200),
    sectorId: id,
    slaValue: slaValue.nullable().optional().describe(`the step's own SLA (with slaUnit, or neither), at most ${SLA_MAX_DAYS} days`),
    slaUnit: slaUnit.nullable().optional(),
  })
  .superRefine((s, ctx) => {
    const hasValue = s.slaValue !== undefined && s.slaValue !== null;
    const hasUnit = s.slaUnit !== undefined && s.slaUnit !== null;
    if (hasValue && !hasUnit) ctx.addIssue({ code: 'custom', path: ['slaUnit'], message: 'is required with slaValue (give both or neither)' });
    if (hasUnit && !hasValue) ctx.addIssue({ code: 'custom', path: ['slaValue'], message: 'is required with slaUnit (give both or neither)' });
    const tooLong = hasValue && hasUnit && slaTooLong(s.slaValue!, s.slaUnit!);
    if (tooLong) ctx.addIssue({ code: 'custom', path: ['slaValue'], message: tooLong });
  });

const steps = z
  .array(solutionStepInput)
  .min(1, 'a solution has at least one step')
  .max(MAX_STEPS, `a solution has at most ${MAX_STEPS} steps`)
  .describe('in flow order: the first step starts first');

/** A solution: an ordered flow of steps that resolves a ticket of its occurrence. */
export const solution = z
  .object({
    id: z.number(),
    occurrenceId: z.number(),
    name: z.string(),
    flow: z.enum(FLOWS).describe('main, or the alternative a ticket can switch to (at most one per occurrence)'),
    steps: z.array(solutionStep),
    createdAt: timestamp,
  })
  .meta({ id: 'Solution' });

export const solutionCreate = z.strictObject({
  occurrenceId: id.describe('its occurrence; fixed at creation'),
  name: text(200).describe('unique within its occurrence'),
  flow: z.enum(FLOWS).describe('`main` (any number per occurrence) or `alternative` (at most one per occurrence)'),
  steps,
});

/** The occurrence of a solution is fixed: mailboxes name the occurrence and the solution together (SPEC §3 rule 3). */
export const solutionUpdate = z.strictObject({
  ...solutionCreate.omit({ occurrenceId: true }).partial().shape,
  steps: steps.optional().describe('replaces the whole list of steps, in flow order'),
  occurrenceId: z
    .never({ error: 'cannot be changed: a solution stays with its occurrence; create a solution for the other occurrence instead' })
    .optional()
    .describe('fixed at creation: refused here'),
});

export const solutionListQuery = pageQuery.extend({
  occurrenceId: idParam.optional(),
  flow: enumParam(FLOWS).optional(),
  name: searchParam.optional().describe('part of the name, any case'),
});

export type Solution = z.infer<typeof solution>;
export type SolutionStepInput = z.infer<typeof solutionStepInput>;
export type SolutionCreate = z.infer<typeof solutionCreate>;
export type SolutionUpdate = z.infer<typeof solutionUpdate>;
export type SolutionListQuery = z.infer<typeof solutionListQuery>;
