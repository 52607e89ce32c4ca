/**
 * Participants' join tokens: JWTs (HS256, jose) that name the room, the display name and the
 * identities the participant may drive. The admin API issues them (`POST /api/tokens`); the
 * signalling `join` verifies them (`verify`). A token for another room, an expired one, or one
 * whose signature does not check out is refused with the reason in plain words.
 *
 * Claims: { iss: "avatar-call", aud: "join", sub: <display name>, room, name, identities: string[], iat, exp }
 */
import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import { z } from 'zod';

const ISSUER = 'avatar-call';
const AUDIENCE = 'join';

const claimsSchema = z.object({
  room: z.string().min(1),
  name: z.string().min(1),
  identities: z.array(z.string()).default([]),
  exp: z.number(),
});

/** A verified token's grant. */
export type JoinGrant = { roomId: string; displayName: string; identities: string[]; expiresAt: Date };

export class JoinTokenError extends Error {
  override readonly name = 'JoinTokenError';
  constructor(
    readonly reason: 'MISSING' | 'MALFORMED' | 'EXPIRED' | 'BAD_SIGNATURE' | 'WRONG_ROOM' | 'INVALID',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class JoinTokens {
  readonly #key: Uint8Array;

  constructor(secret: string) {
    this.#key = new TextEncoder().encode(secret);
  }

  async issue(grant: { roomId: string; displayName: string; identities: readonly string[]; ttlS: number }): Promise<{ token: string; expiresAt: Date }> {
    const exp = Math.floor(Date.now() / 1000) + grant.ttlS;
    const token = await new SignJWT({ room: grant.roomId, name: grant.displayName, identities: [...grant.identities] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(grant.displayName)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(this.#key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** Verifies signature, expiry, issuer, audience and that the token is for `roomId` (any room when undefined). */
  async verify(token: string | undefined, roomId: string | undefined): Promise<JoinGrant> {
    if (!token) throw new JoinTokenError('MISSING', 'a join token is required for this room');
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.#key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new JoinTokenError('EXPIRED', 'the join token has expired', { cause: error });
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
        throw new JoinTokenError('BAD_SIGNATURE', 'the join token signature is not valid', { cause: error });
      }
      if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) {
        throw new JoinTokenError('MALFORMED', 'the join token is malformed', { cause: error });
      }
      throw new JoinTokenError('INVALID', `the join token is not valid: ${(error as Error).message}`, { cause: error });
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new JoinTokenError('INVALID', 'the join token lacks its room or name claims');
    if (roomId !== undefined && claims.data.room !== roomId) throw new JoinTokenError('WRONG_ROOM', `the join token is for another room, not "${roomId}"`);
    return {
      roomId: claims.data.room,
      displayName: claims.data.name,
      identities: claims.data.identities,
      expiresAt: new Date(claims.data.exp * 1000),
    };
  }
}
