/**
 * The bitrate an avatar track can use: the lowest `availableOutgoingBitrate` (mediasoup's
 * send-side bandwidth estimate) among the WebRTC transports consuming the producer, or undefined
 * when nobody consumes it or no estimate exists yet.
 */
import type { Room } from '../rooms/Room';

export function consumerBandwidthProbe(room: Room): (producerId: string) => Promise<number | undefined> {
  return async (producerId) => {
    const transports = new Set<string>();
    const estimates: number[] = [];
    for (const peer of room.peers.values()) {
      const consumes = [...peer.consumers.values()].some((c) => c.producerId === producerId && !c.closed);
      if (!consumes) continue;
      for (const transport of peer.transports.values()) {
        if (transport.closed || transport.appData.direction !== 'recv' || transports.has(transport.id)) continue;
        transports.add(transport.id);
        const stats = await transport.getStats();
        for (const s of stats as { availableOutgoingBitrate?: number }[]) {
          if (typeof s.availableOutgoingBitrate === 'number' && s.availableOutgoingBitrate > 0) estimates.push(s.availableOutgoingBitrate);
        }
      }
    }
    return estimates.length > 0 ? Math.min(...estimates) : undefined;
  };
}
