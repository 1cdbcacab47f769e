import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../../config/env.js';

describe('configuration', () => {
  it('has defaults for everything', () => {
    const env = loadEnv({});
    expect(env.API_PORT).toBe(3000);
    expect(env.TEMPORAL_UI_PORT).toBe(8233);
    expect(env.DEMO).toBe(true);
    expect(Object.isFrozen(env)).toBe(true);
  });

  it('names the variable and the value that is wrong', () => {
    expect(() => loadEnv({ API_PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadEnv({ API_PORT: '70000' })).toThrow('API_PORT="70000": must be a TCP port number, 1 to 65535');
    expect(() => loadEnv({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL="mysql:\/\/x": must be a postgres:\/\/ URL/);
    expect(() => loadEnv({ DEMO: 'maybe' })).toThrow(/DEMO/);
  });

  it('treats empty variables as unset', () => {
    expect(loadEnv({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });
});
