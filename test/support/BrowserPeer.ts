/**
 * One call participant in headless Chromium: its own browser context (separate storage and
 * devices), the real client page from the test server, joined through the UI like a person
 * would, and inspected through the page's `window.__call` hook.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { AppState } from '../../client/src/App';
import type { InboundTrackStats, OutboundTrackStats } from '../../client/src/call/callTypes';
import { waitFor } from './waitFor';

export interface BrowserPeerOptions {
  serverUrl: string;
  roomId: string;
  displayName: string;
  /** Capture preset (`?quality=`); `low` (320x240@15) keeps 2 shared cores breathing. */
  quality?: 'low' | 'medium' | 'high';
  /** Join screen choice: 'audio-avatar' ticks "Audio only, as avatar" (default: camera and microphone). */
  mode?: 'camera' | 'audio-avatar';
  /** Record every state badge the local tile shows from the start (`localTileStates()`). */
  recordLocalTileStates?: boolean;
}

declare global {
  interface Window {
    __localTileStates?: string[];
  }
}

/** Runs in the page before its scripts: records each `data-state` the local tile takes. */
function recordLocalTileStates(): void {
  const states: string[] = [];
  window.__localTileStates = states;
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      const tile = mutation.target as HTMLElement;
      const state = tile.dataset?.['state'];
      if (tile.matches?.('.tile[data-local]') && state !== undefined && states.at(-1) !== state) states.push(state);
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
}

/** A remote track as a tile plays it: matched by track id against the page's session. */
export interface TileTrackView {
  consumerId: string;
  /** The peer that publishes it (a server peer for an avatar). */
  peerId: string;
  source: string;
  drivenByPeerId: string | null;
}

/** What one tile on the page shows (`BrowserPeer.tiles()`). */
export interface TileView {
  peerId: string;
  local: boolean;
  kind: string;
  name: string;
  state: string;
  /** The "as others see you" note of the local tile showing its own avatar, else null. */
  note: string | null;
  /** An "AI avatar" label is in the tile and rendered (not hidden, non-zero size). */
  aiLabelVisible: boolean;
  synthetic: string | null;
  ownAvatar: boolean;
  /** What the avatar <video> plays, and whether it is visible and has rendered a frame. */
  avatar: TileTrackView | null;
  avatarVisible: boolean;
  avatarFrames: boolean;
  /** What the camera <video> plays ('local' for the own preview), and whether it is visible. */
  camera: TileTrackView | 'local' | null;
  cameraVisible: boolean;
  /** What the <audio> element plays. */
  audio: TileTrackView | null;
}

/**
 * The tile shows `driverId`'s AI avatar as a person's video: the avatar <video> plays the synthetic
 * track driven by them, visible and rendering, with the "AI avatar" label visible.
 */
export function showsAvatarOf(tile: TileView, driverId: string): boolean {
  return tile.avatar?.drivenByPeerId === driverId && tile.avatar.source === 'avatar' && tile.avatarVisible && tile.avatarFrames &&
    tile.aiLabelVisible && tile.synthetic === 'ai-avatar';
}

export class BrowserPeer {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly displayName: string;
  /** Console errors and page crashes, for failure messages. */
  readonly problems: string[] = [];
  #closed = false;

  /** Opens the room page, fills in the name, clicks Join and waits until the call is up. */
  static async join(browser: Browser, options: BrowserPeerOptions): Promise<BrowserPeer> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const peer = new BrowserPeer(context, page, options.displayName);
    try {
      if (options.recordLocalTileStates) await context.addInitScript(recordLocalTileStates);
      await page.goto(`${options.serverUrl}/room/${options.roomId}?quality=${options.quality ?? 'low'}`);
      await page.fill('#join-name', options.displayName);
      if (options.mode === 'audio-avatar') await page.check('#join-mode-audio-avatar');
      await page.click('#join-button');
      await peer.waitForState('in-call');
    } catch (error) {
      await peer.close();
      throw new Error(`${options.displayName} could not join: ${String(error)}; page problems: ${peer.problems.join(' | ')}`);
    }
    return peer;
  }

  private constructor(context: BrowserContext, page: Page, displayName: string) {
    this.context = context;
    this.page = page;
    this.displayName = displayName;
    page.on('console', (message) => {
      if (message.type() === 'error') this.problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => this.problems.push(`pageerror: ${error.message}`));
    page.on('crash', () => this.problems.push('page crashed'));
  }

  state(): Promise<AppState | undefined> {
    return this.page.evaluate(() => window.__call?.state);
  }

  async waitForState(state: AppState, timeoutMs = 30_000): Promise<void> {
    await this.page.waitForFunction((want) => window.__call?.state === want, state, { timeout: timeoutMs });
  }

  peerId(): Promise<string | undefined> {
    return this.page.evaluate(() => window.__call?.session?.peerId);
  }

  inboundStats(): Promise<InboundTrackStats[]> {
    return this.page.evaluate(() => window.__call?.inboundStats() ?? []);
  }

  outboundStats(): Promise<OutboundTrackStats[]> {
    return this.page.evaluate(() => window.__call?.outboundStats() ?? []);
  }

  /** Names on the remote tiles (the local "(you)" tile excluded). */
  remoteTileNames(): Promise<string[]> {
    return this.page.$$eval('.tile:not([data-local]) .tile-name', (nodes) => nodes.map((n) => n.textContent ?? ''));
  }

  /** Every tile on the page, local first, with the tracks its elements play resolved against the session. */
  tiles(): Promise<TileView[]> {
    return this.page.evaluate(() => {
      const session = window.__call?.session;
      const resolve = (element: HTMLMediaElement | null): { consumerId: string; peerId: string; source: string; drivenByPeerId: string | null } | 'local' | null => {
        const track = element?.srcObject instanceof MediaStream ? element.srcObject.getTracks()[0] : undefined;
        if (!track) return null;
        for (const remote of session?.tracks.values() ?? []) {
          if (remote.track.id === track.id) {
            return { consumerId: remote.consumerId, peerId: remote.peerId, source: remote.source, drivenByPeerId: remote.synthetic?.drivenByPeerId ?? null };
          }
        }
        return 'local';
      };
      const visible = (element: Element | null): boolean =>
        element !== null && element.checkVisibility({ opacityProperty: true, visibilityProperty: true }) && element.getBoundingClientRect().width > 0;
      return [...document.querySelectorAll<HTMLElement>('.tile')].map((tile) => {
        const avatar = tile.querySelector<HTMLVideoElement>('.tile-avatar-video');
        const camera = tile.querySelector<HTMLVideoElement>('.tile-camera-video');
        const avatarTrack = resolve(avatar);
        const audioTrack = resolve(tile.querySelector('audio'));
        return {
          peerId: tile.dataset['peerId'] ?? '',
          local: tile.hasAttribute('data-local'),
          kind: tile.dataset['kind'] ?? '',
          name: tile.querySelector('.tile-name')?.textContent ?? '',
          state: tile.dataset['state'] ?? '',
          note: tile.querySelector('.tile-note')?.textContent ?? null,
          aiLabelVisible: visible(tile.querySelector('.tile-ai-label')),
          synthetic: tile.dataset['synthetic'] ?? null,
          ownAvatar: tile.dataset['ownAvatar'] === 'true',
          avatar: avatarTrack === 'local' ? null : avatarTrack,
          avatarVisible: visible(avatar),
          avatarFrames: (avatar?.readyState ?? 0) >= 2 && (avatar?.videoWidth ?? 0) > 0,
          camera: resolve(camera),
          cameraVisible: visible(camera),
          audio: audioTrack === 'local' ? null : audioTrack,
        };
      });
    });
  }

  /** The local tile's state badges so far, in order (with `recordLocalTileStates`), then its current one. */
  localTileStates(): Promise<string[]> {
    return this.page.evaluate(() => [...(window.__localTileStates ?? []), document.querySelector<HTMLElement>('.tile[data-local]')?.dataset['state'] ?? '']);
  }

  /** Waits until `check` holds for this page's tiles; on timeout, the message includes them. */
  async waitForTiles(check: (tiles: TileView[]) => boolean, what: string, timeoutMs = 15_000): Promise<TileView[]> {
    let last: TileView[] = [];
    try {
      return await waitFor(async () => {
        last = await this.tiles();
        return check(last) ? last : undefined;
      }, { timeoutMs, message: `${this.displayName}: ${what}` });
    } catch (error) {
      throw new Error(`${(error as Error).message}; tiles: ${JSON.stringify(last)}; problems: ${this.problems.join(' | ')}`);
    }
  }

  bannerText(): Promise<string> {
    return this.page.evaluate(() => window.__call?.banner ?? '');
  }

  /**
   * Waits until the inbound figure `pick` of the remote track matching `match` has a value,
   * and then rises across a second sample `gapMs` later. Returns both samples.
   */
  async expectRising(
    match: (s: InboundTrackStats) => boolean,
    pick: (s: InboundTrackStats) => number,
    options: { gapMs?: number; timeoutMs?: number; what?: string } = {},
  ): Promise<[number, number]> {
    const read = async (): Promise<number | undefined> => {
      const stats = (await this.inboundStats()).filter(match);
      return stats.length > 0 ? Math.max(...stats.map(pick)) : undefined;
    };
    const what = options.what ?? 'figure';
    const first = await waitFor(async () => {
      const value = await read();
      return value !== undefined && value > 0 ? value : undefined;
    }, {
      timeoutMs: options.timeoutMs ?? 30_000,
      message: `${this.displayName}: ${what} never became positive; problems: ${this.problems.join(' | ')}`,
    });
    const second = await waitFor(
      async () => {
        const now = await read();
        return now !== undefined && now > first ? now : undefined;
      },
      { timeoutMs: (options.gapMs ?? 1000) + 15_000, intervalMs: options.gapMs ?? 1000, message: `${this.displayName}: ${what} stopped rising at ${first}` },
    );
    return [first, second];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.context.close().catch(() => undefined);
  }
}
