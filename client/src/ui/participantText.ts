/**
 * Text shown about participants: tile initials and the header's count of other people.
 */
import type { Participant } from '../call/callTypes';

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
