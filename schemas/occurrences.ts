import { z } from 'zod';
import { slaDurationMs, type SlaUnit } from '../domain/sla.js';
import { id, idParam, longText, pageQuery, searchParam, slaUnit, text, timestamp } from './common.js';

/** The longest SLA the API accepts (of an occurrence or a step): 365 days, in any unit. */
export const SLA_MAX_DAYS = 365;
const SLA_MAX_MINUTES = SLA_MAX_DAYS * 24 * 60;

/** An SLA value: a positive whole number; with its unit at most 365 days (checked where both are known). */
export const slaValue = z.number().int('must be a whole number').min(1, 'must be at least 1').max(SLA_MAX_MINUTES, `must be at most ${SLA_MAX_MINUTES}`);

/** Why an SLA is refused, or undefined when it is fine. */
export function slaTooLong(value: number, unit: SlaUnit): string | false {
  return slaDurationMs(value, unit) > slaDurationMs(SLA_MAX_DAYS, 'days') && `${value} ${unit} is longer than the longest SLA, ${SLA_MAX_DAYS} days`;
}

/** An occurrence (sub-category of its type): owns the SLA, and may name a sector, a solution group and an alert. */
export const occurrence = z
  .object({
    id: z.number(),
    occurrenceTypeId: z.number(),
    name: z.string(),
    slaValue: z.number(),
    slaUnit,
    sectorId: z.number().nullable(),
    solutionGroupId: z.number().nullable().describe('who handles its tickets (balanced distribution); null = the users of its sector'),
    alertId: z.number().nullable().describe('the alert whose thresholds its tickets fire'),
    observation: z.string().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Occurrence' });

const fields = {
  occurrenceTypeId: id.describe('its occurrence type; fixed at creation'),
  name: text(200).describe('unique within its occurrence type'),
  slaValue: slaValue.describe(`with slaUnit, at most ${SLA_MAX_DAYS} days`),
  slaUnit,
  sectorId: id.nullable().optional(),
  solutionGroupId: id.nullable().optional(),
  alertId: id.nullable().optional(),
  observation: longText().nullable().optional(),
};

export const occurrenceCreate = z.strictObject(fields).superRefine((o, ctx) => {
  // Runs even when a field failed: then its own message is enough.
  const tooLong = o.slaValue <= SLA_MAX_MINUTES && slaTooLong(o.slaValue, o.slaUnit);
  if (tooLong) ctx.addIssue({ code: 'custom', path: ['slaValue'], message: tooLong });
});

/** The type of an occurrence is fixed: tickets and mailboxes name the type and the occurrence together (SPEC §3 rule 2). */
export const occurrenceUpdate = z.strictObject({
  ...z.object(fields).omit({ occurrenceTypeId: true }).partial().shape,
  occurrenceTypeId: z
    .never({ error: 'cannot be changed: an occurrence stays in its type; create an occurrence in the other type instead' })
    .optional()
    .describe('fixed at creation: refused here'),
});

export const occurrenceListQuery = pageQuery.extend({
  name: searchParam.optional().describe('part of the name, any case'),
  occurrenceTypeId: idParam.optional(),
  sectorId: idParam.optional(),
  solutionGroupId: idParam.optional(),
  alertId: idParam.optional(),
});

export type Occurrence = z.infer<typeof occurrence>;
export type OccurrenceCreate = z.infer<typeof occurrenceCreate>;
export type OccurrenceUpdate = z.infer<typeof occurrenceUpdate>;
export type OccurrenceListQuery = z.infer<typeof occurrenceListQuery>;
