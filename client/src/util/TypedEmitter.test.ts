import { describe, expect, it, vi } from 'vitest';
import { TypedEmitter } from './TypedEmitter';

class Door extends TypedEmitter<{ open: [by: string]; close: [] }> {
  open(by: string): void {
    this.emit('open', by);
  }
}

describe('TypedEmitter', () => {
  it('calls listeners with the event arguments, and stops after the returned off()', () => {
    const door = new Door();
    const seen: string[] = [];
    const off = door.on('open', (by) => seen.push(by));
    door.open('alice');
    off();
    door.open('bob');
    expect(seen).toEqual(['alice']);
    expect(door.listenerCount('open')).toBe(0);
  });

  it('runs a once() listener a single time', () => {
    const door = new Door();
    const listener = vi.fn();
    door.once('open', listener);
    door.open('a');
    door.open('b');
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener).toHaveBeenCalledWith('a');
  });

  it('keeps calling the other listeners when one throws', () => {
    const door = new Door();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const after = vi.fn();
    door.on('open', () => {
      throw new Error('boom');
    });
    door.on('open', after);
    door.open('x');
    expect(after).toHaveBeenCalledWith('x');
    expect(errors).toHaveBeenCalledTimes(1);
    errors.mockRestore();
  });
});
