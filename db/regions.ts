import type { Region, RegionCreate, RegionListQuery, RegionUpdate } from '../schemas/regions.js';
import { tableStore } from './crud.js';

export const regions = tableStore<Region, RegionCreate, RegionUpdate, RegionListQuery>('region', { search: ['name'] });
