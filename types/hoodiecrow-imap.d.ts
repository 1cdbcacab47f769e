declare module 'hoodiecrow-imap' {
  import type { Server } from 'node:net';

  interface HoodiecrowMessage {
    raw: string;
    flags?: string[];
    internaldate?: string;
  }
  interface HoodiecrowOptions {
    plugins?: string[];
    users?: Record<string, { password: string }>;
    storage?: Record<string, { uidvalidity?: number; messages?: HoodiecrowMessage[] }>;
    debug?: boolean;
  }
  interface HoodiecrowServer {
    server: Server;
    listen(port: number, host: string, callback?: () => void): void;
    close(callback?: () => void): void;
  }
  export default function hoodiecrow(options?: HoodiecrowOptions): HoodiecrowServer;
}
