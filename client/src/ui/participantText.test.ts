import { describe, expect, it } from 'vitest';
import { initialsOf, mediaStateText, otherPeopleCount } from './participantText';

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

  it('says the media state in one word unless send and receive truly differ', () => {
    expect(mediaStateText('connected', 'connected')).toBe('connected');
    // alone in the room: nothing to receive yet
    expect(mediaStateText('connected', 'new')).toBe('connected');
    expect(mediaStateText('connected', 'disconnected')).toBe('send connected, receive disconnected');
    expect(mediaStateText('failed', 'connected')).toBe('send failed, receive connected');
  });
});
