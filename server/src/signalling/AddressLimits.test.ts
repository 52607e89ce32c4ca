import { describe, expect, it } from 'vitest';
import { AddressLimits, clientAddressKey } from './AddressLimits';

const config = { maxConnectionsPerAddress: 3, roomCreationsPerMinutePerAddress: 60, roomCreationBurstPerAddress: 2, maxRoomsPerAddress: 5 };

describe('AddressLimits', () => {
  it('counts connections per address and refuses past the maximum with RATE_LIMITED', () => {
    const limits = new AddressLimits(config);
    const releases = [0, 1, 2].map(() => limits.openConnection('10.0.0.1'));
    expect(() => limits.checkConnection('10.0.0.1')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', retryable: true }));
    expect(() => limits.checkConnection('10.0.0.2')).not.toThrow();
    releases[0]!();
    releases[0]!(); // idempotent
    expect(limits.usage('10.0.0.1').connections).toBe(2);
    expect(() => limits.checkConnection('10.0.0.1')).not.toThrow();
    for (const release of releases) release();
    expect(limits.size).toBe(0); // an idle address with a full bucket is forgotten
    limits.close();
  });

  it('admits room creations at the bucket rate and says when to retry', () => {
    let now = 0;
    const limits = new AddressLimits(config, () => now);
    const a = limits.reserveRoomCreation('10.0.0.1');
    const b = limits.reserveRoomCreation('10.0.0.1');
    expect(() => limits.reserveRoomCreation('10.0.0.1')).toThrow(/too many new rooms from your address; retry in 1000 ms/);
    expect(() => limits.reserveRoomCreation('10.0.0.9')).not.toThrow(); // other addresses are not affected
    now = 1000; // 60 per minute: one token a second
    const c = limits.reserveRoomCreation('10.0.0.1');
    expect(limits.usage('10.0.0.1').rooms).toBe(3); // creations in flight hold their slots
    for (const r of [a, b, c]) r.cancel();
    expect(limits.usage('10.0.0.1').rooms).toBe(0);
    limits.close();
  });

  it('caps the creations in flight plus open rooms of one address', () => {
    let now = 0;
    const limits = new AddressLimits({ ...config, roomCreationBurstPerAddress: 100, maxRoomsPerAddress: 2 }, () => now);
    limits.reserveRoomCreation('10.0.0.1');
    limits.reserveRoomCreation('10.0.0.1');
    expect(() => limits.reserveRoomCreation('10.0.0.1')).toThrow(/already has 2 open rooms/);
    limits.close();
  });

  it('keys clients by address: IPv4-mapped unwrapped, IPv6 per /64, X-Forwarded-For only when trusted', () => {
    expect(clientAddressKey('::ffff:127.0.0.1', undefined, false)).toBe('127.0.0.1');
    expect(clientAddressKey('2001:db8:1:2:aaaa::1', undefined, false)).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('2001:db8:1:2:ffff:ffff:ffff:ffff', undefined, false)).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('::1', undefined, false)).toBe('0:0:0:0::/64');
    expect(clientAddressKey('127.0.0.1', '203.0.113.7, 10.0.0.1', false)).toBe('127.0.0.1');
    expect(clientAddressKey('127.0.0.1', '203.0.113.7, 10.0.0.1', true)).toBe('203.0.113.7');
    expect(clientAddressKey('127.0.0.1', undefined, true)).toBe('127.0.0.1');
  });
});
