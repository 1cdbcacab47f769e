import type { OccurrenceType, OccurrenceTypeCreate, OccurrenceTypeListQuery, OccurrenceTypeUpdate } from '../schemas/occurrence-types.js';
import { tableStore } from './crud.js';

export const occurrenceTypes = tableStore<OccurrenceType, OccurrenceTypeCreate, OccurrenceTypeUpdate, OccurrenceTypeListQuery>('occurrence_type', { search: ['name'] });
