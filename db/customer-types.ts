import type { CustomerType, CustomerTypeCreate, CustomerTypeListQuery, CustomerTypeUpdate } from '../schemas/customer-types.js';
import { tableStore } from './crud.js';

export const customerTypes = tableStore<CustomerType, CustomerTypeCreate, CustomerTypeUpdate, CustomerTypeListQuery>('customer_type', { search: ['name'] });
