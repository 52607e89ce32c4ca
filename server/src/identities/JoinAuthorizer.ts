/**
 * The join check, kept out of the signalling code: `authorize()` verifies a participant's join
 * token (JoinTokens) for the room and name they join with, or lets them in without one where the
 * config allows (every room unless `requireJoinToken`; the demo room always). `bind()` remembers
 * the verified grant for the peer, and `requester()` turns a peer into the `IdentityRequester`
 * the live avatar runtime hands to `IdentityAccess`.
 */
import type { Config } from '../config';
import type { IdentityRequester } from './IdentityAccess';
import { JoinTokenError, type JoinGrant, type JoinTokens } from './JoinTokens';

/** Refusal of a join, with the reason in plain words (signalling answers UNAUTHORIZED). */
export class JoinRefusedError extends Error {
  override readonly name = 'JoinRefusedError';
  constructor(
    readonly reason: JoinTokenError['reason'] | 'WRONG_NAME',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What a peer proved at join: the grant of its token, or nothing (joined an open room without one). */
export type JoinAuth = { grant: JoinGrant | undefined };

type PeerLike = { id: string; displayName: string };

export class JoinAuthorizer {
  readonly #tokens: JoinTokens;
  readonly #config: Config['onboarding'];
  readonly #byPeer = new WeakMap<object, JoinAuth>();

  constructor(tokens: JoinTokens, config: Config['onboarding']) {
    this.#tokens = tokens;
    this.#config = config;
  }

  /** Throws JoinRefusedError when this join is not allowed; resolves with what the peer proved. */
  async authorize(join: { roomId: string; displayName: string; token?: string | undefined }): Promise<JoinAuth> {
    if (join.token === undefined) {
      if (this.#config.requireJoinToken && join.roomId !== this.#config.demo.roomId) {
        throw new JoinRefusedError('MISSING', `room "${join.roomId}" needs a join token`);
      }
      return { grant: undefined };
    }
    let grant: JoinGrant;
    try {
      grant = await this.#tokens.verify(join.token, join.roomId);
    } catch (error) {
      if (error instanceof JoinTokenError) throw new JoinRefusedError(error.reason, error.message, { cause: error });
      throw error;
    }
    if (grant.displayName !== join.displayName.trim()) {
      throw new JoinRefusedError('WRONG_NAME', `the join token is for "${grant.displayName}", not "${join.displayName.trim()}"`);
    }
    return { grant };
  }

  /** Remembers what `peer` proved (dropped with the peer object). */
  bind(peer: PeerLike, auth: JoinAuth): void {
    this.#byPeer.set(peer, auth);
  }

  /** The requester for IdentityAccess; `tokenIdentities` is undefined for a peer without a token. */
  requester(roomId: string, peer: PeerLike): IdentityRequester {
    const auth = this.#byPeer.get(peer);
    return {
      roomId,
      peerId: peer.id,
      displayName: peer.displayName,
      ...(auth?.grant ? { tokenIdentities: auth.grant.identities } : {}),
    };
  }
}
