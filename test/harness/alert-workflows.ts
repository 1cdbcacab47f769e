// A workflow bundle entry with only the alert delivery, for tests that run it before
// workflows/index.ts exports it.
export { deliverAlert } from '../../workflows/alert-delivery.js';
