import { z } from 'zod';
import { id, idParam, pageQuery, searchParam, text, timestamp } from './common.js';

/** A solution group: a named set of users who handle an occurrence (SPEC §3). */
export const solutionGroup = z
  .object({
    id: z.number(),
    name: z.string(),
    memberIds: z.array(z.number()).describe('the member users, in id order'),
    createdAt: timestamp,
  })
  .meta({ id: 'SolutionGroup' });

export const solutionGroupCreate = z.strictObject({
  name: text(200).describe('unique'),
  memberIds: z.array(id).max(1000, 'must list at most 1000 users').optional().describe('users (any role, active or not); default none; a user listed twice counts once'),
});
export const solutionGroupUpdate = solutionGroupCreate.partial();
export const solutionGroupListQuery = pageQuery.extend({
  name: searchParam.optional().describe('part of the name, any case'),
  memberId: idParam.optional().describe('groups this user is a member of'),
});

export type SolutionGroup = z.infer<typeof solutionGroup>;
export type SolutionGroupCreate = z.infer<typeof solutionGroupCreate>;
export type SolutionGroupUpdate = z.infer<typeof solutionGroupUpdate>;
export type SolutionGroupListQuery = z.infer<typeof solutionGroupListQuery>;
