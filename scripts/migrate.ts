import { loadEnv, requireSetting } from '../config/env.js';
import { migrate } from '../db/migrate.js';

const env = loadEnv();
await migrate(requireSetting(env, 'DATABASE_URL'), (m) => console.log(m));
