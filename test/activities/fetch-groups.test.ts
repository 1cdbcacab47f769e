import { describe, expect, it } from 'vitest';
import { fetchGroups, STREAM_ABOVE_BYTES } from '../../activities/fetch-mail.js';

const MB = 1024 * 1024;
const sizes = (entries: [number, number][]) => new Map(entries);

describe('fetchGroups: FETCH commands of bounded bytes', () => {
  it('keeps small messages together, in order, up to the group size', () => {
    const s = sizes([[1, 3 * MB], [2, 3 * MB], [3, 3 * MB], [4, 1 * MB]]);
    expect(fetchGroups([1, 2, 3, 4], s, 25 * MB, 8 * MB)).toEqual([[1, 2], [3, 4]]);
    expect(fetchGroups([1, 2, 3, 4], sizes([[1, 6 * MB], [2, 6 * MB], [3, 6 * MB], [4, 1 * MB]]), 25 * MB, 16 * MB, 32 * MB)).toEqual([[1, 2], [3, 4]]);
  });

  it('fetches a message above STREAM_ABOVE_BYTES alone (it is downloaded and stored in pieces)', () => {
    const s = sizes([[1, 1000], [2, STREAM_ABOVE_BYTES + 1], [3, 1000], [4, STREAM_ABOVE_BYTES], [5, 1000]]);
    expect(fetchGroups([1, 2, 3, 4, 5], s, 25 * MB)).toEqual([[1], [2], [3, 4, 5]]);
  });

  it('fetches a message above the group size or above the limit alone', () => {
    const s = sizes([[1, 1000], [2, 20 * MB], [3, 1000], [4, 30 * MB], [5, 1000]]);
    expect(fetchGroups([1, 2, 3, 4, 5], s, 25 * MB, 16 * MB)).toEqual([[1], [2], [3], [4], [5]]);
    // Above a small limit, though below the group size: alone too.
    expect(fetchGroups([1, 3, 5], sizes([[1, 10], [3, 200_000], [5, 10]]), 100_000, 16 * MB)).toEqual([[1], [3], [5]]);
  });

  it('gives every UID exactly once, a burst of small ones in one command', () => {
    const uids = Array.from({ length: 100 }, (_, i) => i + 1);
    const s = new Map(uids.map((u) => [u, 4000]));
    expect(fetchGroups(uids, s, 25 * MB)).toEqual([uids]);
    expect(fetchGroups([], s, 25 * MB)).toEqual([]);
  });
});
