import 'vitest';

/** What the global setup hands to every test file (vitest's provide/inject). */
declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    imap: { host: string; port: number; users: { user: string; password: string }[] };
  }
}
