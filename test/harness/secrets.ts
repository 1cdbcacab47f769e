import { createHash } from 'node:crypto';
import { secretBox, type SecretBox } from '../../config/secret-box.js';

/** The one secrets key of the test run: the API seals IMAP secrets with it, test workers open them with it. */
export const testSecrets: SecretBox = secretBox(createHash('sha256').update('mailtrack test secrets key').digest());
