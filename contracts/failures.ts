/**
 * The ApplicationFailure type of an error that retrying cannot fix (a malformed message, a
 * constraint the data violates). Workflows record such an e-mail as `quarantined`.
 */
export const UNPROCESSABLE = 'Unprocessable';
