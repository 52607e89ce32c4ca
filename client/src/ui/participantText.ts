/**
 * Text shown about participants: tile initials, the header's count of other people and its media
 * connection state.
 */
import type { Participant, TransportState } from '../call/callTypes';

/**
 * Up to two capital initials of a display name, from its words of letters only: markup, a
 * parenthesised note, digits and punctuation are ignored ("Alice (AI avatar)" → "A",
 * `<b>Eve</b>` → "E", "bob smith" → "BS"). A name with no letter gives "?".
 */
export function initialsOf(name: string): string {
  const text = name.replace(/<[^>]*>/g, ' ').replace(/\([^)]*\)/g, ' ');
  const words = text.split(/[^\p{L}]+/u).filter(Boolean);
  const initials = words
    .slice(0, 2)
    .map((word) => word[0]!.toUpperCase())
    .join('');
  return initials || '?';
}

/** How many other people are in the call: server peers (AI avatars, yours or others') are not people. */
export function otherPeopleCount(participants: Iterable<Participant>): number {
  let count = 0;
  for (const participant of participants) if (participant.kind === 'human') count += 1;
  return count;
}

/**
 * The header's media state from the send and receive transports: one word when they agree, or
 * while nothing has been received yet (the receive transport stays `new` until there is something
 * to receive: alone in a room, "receive new" would only confuse); both otherwise.
 */
export function mediaStateText(send: TransportState, recv: TransportState): string {
  if (send === recv || recv === 'new') return send;
  return `send ${send}, receive ${recv}`;
}
