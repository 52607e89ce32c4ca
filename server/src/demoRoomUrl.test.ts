import { describe, expect, it } from 'vitest';
import { demoRoomUrl } from './demoRoomUrl';

describe('demoRoomUrl', () => {
  it('prints a usable address for any port, the default one included', () => {
    expect(demoRoomUrl('127.0.0.1', '3000')).toBe('http://127.0.0.1:3000/room/demo');
    expect(demoRoomUrl('127.0.0.1', 80)).toBe('http://127.0.0.1/room/demo');
    expect(demoRoomUrl('::1', 3000)).toBe('http://[::1]:3000/room/demo');
  });
});
