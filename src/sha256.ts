// The content hash that traces record: of a scenario's source and of a variant module.

import { createHash } from 'node:crypto';

/** The sha256 of a text's UTF-8 bytes, in hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
