/** Remembers the display name between visits (localStorage may be unavailable: private mode). */
const key = 'avatar-call.displayName';

export function loadDisplayName(): string {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

export function saveDisplayName(name: string): void {
  try {
    localStorage.setItem(key, name);
  } catch {
    // Not remembering the name is harmless.
  }
}
