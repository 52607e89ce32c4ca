/** Room ids in page URLs: `/room/<id>`. Anything else means "no room chosen yet". */
import { roomIdSchema } from '@shared/signalling';

export function roomIdFromPath(pathname: string): string | undefined {
  const match = /^\/room\/([^/]+)\/?$/.exec(pathname);
  if (!match?.[1]) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
  return roomIdSchema.safeParse(decoded).success ? decoded : undefined;
}

export function roomPath(roomId: string): string {
  return `/room/${encodeURIComponent(roomId)}`;
}
