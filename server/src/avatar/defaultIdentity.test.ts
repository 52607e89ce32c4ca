/** Out of the box: the embedded defaults offer the committed demo identity in the demo room. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvatarServer } from '../AvatarServer';
import { startTestServer } from '../testing/startTestServer';
import { SignallingTestClient } from '../testing/SignallingTestClient';

let server: AvatarServer;
let client: SignallingTestClient | undefined;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  client?.close();
  await server.close();
});

describe('default avatar config', () => {
  it('offers and renders the demo identity in the demo room, and nothing in other rooms', async () => {
    client = await SignallingTestClient.connect(server.url);
    await client.join('demo', 'Visitor');
    expect((await client.request('listIdentities', {})).identities).toEqual([{ identityId: 'demo', displayName: 'Demo identity', version: 1 }]);
    const started = await client.request('startAvatar', { identityId: 'demo' });
    expect(started.fps).toBe(25);
    await client.waitFor('newProducer', (n) => n.data.producerId === started.producerId && n.data.synthetic?.identityId === 'demo');
    await client.request('stopAvatar', {});
    await client.request('leave', {});
    await client.join('elsewhere', 'Visitor');
    expect((await client.request('listIdentities', {})).identities).toEqual([]);
    await expect(client.request('startAvatar', { identityId: 'demo' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
