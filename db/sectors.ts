import type { Sector, SectorCreate, SectorListQuery, SectorUpdate } from '../schemas/sectors.js';
import { tableStore } from './crud.js';

export const sectors = tableStore<Sector, SectorCreate, SectorUpdate, SectorListQuery>('sector', { search: ['name'] });
