/**
 * How a synthetic (server-rendered) track is disclosed: carried in the producer's appData and in
 * every ProducerInfo the clients receive.
 */
import { z } from 'zod';

export const syntheticTrackSchema = z.object({
  kind: z.literal('ai-avatar'),
  /** The human peer whose motion drives it. */
  drivenByPeerId: z.string(),
  /** The identity whose face it shows. */
  identityId: z.string(),
});
export type SyntheticTrack = z.infer<typeof syntheticTrackSchema>;
