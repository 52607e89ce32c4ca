import { describe, expect, it } from 'vitest';
import { initialsOf, otherPeopleCount } from './participantText';

describe('participant text', () => {
  it('takes initials from letters only', () => {
    expect(initialsOf('Alice (AI avatar)')).toBe('A');
    expect(initialsOf('<b>Eve</b>')).toBe('E');
    expect(initialsOf('  bob   smith jr ')).toBe('BS');
    expect(initialsOf('émile zola')).toBe('ÉZ');
    expect(initialsOf('42 !!')).toBe('?');
  });

  it('counts only other humans, not AI avatar server peers', () => {
    expect(
      otherPeopleCount([
        { id: 'a', displayName: 'Bob', kind: 'human' },
        { id: 's1', displayName: 'Alice (AI avatar)', kind: 'server' },
        { id: 's2', displayName: 'Bob (AI avatar)', kind: 'server' },
      ]),
    ).toBe(1);
  });
});
