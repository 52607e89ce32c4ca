import { describe, expect, it } from 'vitest';
import { roomIdFromPath, roomPath } from './roomUrl';

describe('roomIdFromPath', () => {
  it('reads the room id from /room/:id, with or without a trailing slash', () => {
    expect(roomIdFromPath('/room/demo')).toBe('demo');
    expect(roomIdFromPath('/room/team-42_a/')).toBe('team-42_a');
  });

  it('returns undefined for other paths and for ids the server would reject', () => {
    expect(roomIdFromPath('/')).toBeUndefined();
    expect(roomIdFromPath('/room/')).toBeUndefined();
    expect(roomIdFromPath('/room/a/b')).toBeUndefined();
    expect(roomIdFromPath('/room/has%20space')).toBeUndefined();
    expect(roomIdFromPath('/room/%E0%A4%A')).toBeUndefined();
    expect(roomIdFromPath(`/room/${'x'.repeat(65)}`)).toBeUndefined();
  });

  it('round-trips with roomPath', () => {
    expect(roomIdFromPath(roomPath('r-1'))).toBe('r-1');
  });
});
