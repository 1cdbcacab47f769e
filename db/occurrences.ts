import type { Occurrence, OccurrenceCreate, OccurrenceListQuery, OccurrenceUpdate } from '../schemas/occurrences.js';
import { tableStore } from './crud.js';

export const occurrences = tableStore<Occurrence, OccurrenceCreate, OccurrenceUpdate, OccurrenceListQuery>('occurrence', { search: ['name'] });
