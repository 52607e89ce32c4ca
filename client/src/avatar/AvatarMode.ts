/**
 * The "Avatar mode" toggle of one call. On: the camera producer is closed (no video leaves the
 * browser), the camera keeps running locally for the FaceTracker, and a MotionUplink sends
 * motion packets instead; the landmarks are drawn over the local preview and a stats panel
 * shows the uplink kbps and the server's view (`motionstats`). Off: the uplink closes and the
 * camera is published again.
 */
import { loadMotionBasis, MotionEncoder } from '@shared/motion';
import type { MotionStatsPayload } from '@shared/signalling/motionStats';
import type { AvatarStateData, AvatarStats, IdentitySummaryInfo } from '@shared/avatar/avatarProtocol';
import { AvatarRenderPanel } from './AvatarRenderPanel';
import { afterRefusedSwitch, avatarModeRefusal, renderedIdentity, shouldRepublishCamera } from './avatarModeRules';
import type { CallSession } from '../call/CallSession';
import type { LocalMedia } from '../media/LocalMedia';
import type { FaceTracker } from '../tracking/FaceTracker';
import type { CallView } from '../ui/CallView';
import { h } from '../ui/dom';
import { TypedEmitter } from '../util/TypedEmitter';
import { LandmarkOverlay } from './LandmarkOverlay';
import { MotionStatsPanel } from './MotionStatsPanel';
import { MotionUplink } from './MotionUplink';
import './avatar.css';
import { userMessage } from '../call/SignallingError';

export type AvatarModeState = 'off' | 'starting' | 'on' | 'stopping';

export type AvatarModeEvents = {
  statechange: [AvatarModeState];
  /** A new uplink started (tests and tools subscribe to its `sent` events here). */
  uplink: [MotionUplink];
  serverstats: [MotionStatsPayload];
  avatarstate: [AvatarStateData];
  avatarstats: [AvatarStats];
  error: [Error];
};

export interface AvatarModeOptions {
  session: CallSession;
  view: CallView;
  localMedia: LocalMedia;
  /** Creates the FaceTracker on first use (loads MediaPipe's wasm and model). */
  createTracker: () => Promise<FaceTracker>;
}

export class AvatarMode extends TypedEmitter<AvatarModeEvents> {
  readonly #options: AvatarModeOptions;
  readonly #button: HTMLButtonElement;
  readonly #overlay = new LandmarkOverlay();
  readonly #panel = new MotionStatsPanel();
  readonly #render = new AvatarRenderPanel();
  #identities: IdentitySummaryInfo[] = [];
  #identityId: string | undefined;
  /** The identity the server renders for this page now (from `avatarState`), if any. */
  #rendering: string | undefined;
  /** What drives the avatar's mouth: the camera motion or the microphone ("Mouth from my voice"). */
  #mouth: 'camera' | 'voice' = 'camera';
  /** Number of the latest selectIdentity call (an earlier one's refusal is stale). */
  #selections = 0;
  #avatarState: AvatarStateData | undefined;
  #avatarStats: AvatarStats | undefined;
  readonly #unsubscribe: (() => void)[] = [];
  #tracker: Promise<FaceTracker> | undefined;
  #uplink: MotionUplink | undefined;
  #state: AvatarModeState = 'off';
  #serverStats: MotionStatsPayload | undefined;
  #panelTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: AvatarModeOptions) {
    super();
    this.#options = options;
    this.#button = h('button', { type: 'button', id: 'toggle-avatar', 'aria-pressed': 'false' }, 'Avatar mode');
    this.#button.disabled = !options.localMedia.videoTrack;
    this.#button.title = options.localMedia.videoTrack
      ? 'Send only face motion instead of video'
      : 'Avatar mode needs a camera';
    // Refusals are already shown in the panel; nothing is left to throw into the page.
    this.#button.addEventListener('click', () => void this.toggle().catch((error: unknown) => console.warn('avatar mode:', error)));
    options.view.toolbar.add(this.#button);
    this.#panel.element.hidden = true;
    options.view.toolbar.add(this.#panel.element);
    this.#panel.element.append(this.#render.element);
    // Refusals are shown in the panel (and the picker goes back to the avatar still running).
    this.#render.picker.addEventListener('change', () => void this.selectIdentity(this.#render.picker.value).catch(() => undefined));
    this.#render.mouthFromVoice.addEventListener('change', () => {
      this.#mouth = this.#render.mouthFromVoice.checked ? 'voice' : 'camera';
      if (this.#identityId) void this.selectIdentity(this.#identityId).catch(() => undefined);
    });
    this.#unsubscribe.push(
      options.session.on('avatarstate', (data) => {
        this.#avatarState = data;
        this.#rendering = renderedIdentity(this.#rendering, data);
        // Late news of a stopped avatar must not linger in the (cleared) panel.
        if (this.#state === 'starting' || this.#state === 'on') {
          this.#render.showState(data, { cameraOff: this.#options.view.cameraOff, noFace: this.#uplink !== undefined && !this.#uplink.faceVisible });
        }
        this.emit('avatarstate', data);
      }),
      options.session.on('avatarstats', (stats) => {
        this.#avatarStats = stats;
        if (this.#state === 'on') this.#render.showStats(stats);
        this.emit('avatarstats', stats);
      }),
    );
    this.#unsubscribe.push(
      options.session.on('motionstats', (stats) => {
        this.#serverStats = stats;
        this.#panel.showServer(stats);
        this.emit('serverstats', stats);
      }),
    );
  }

  get state(): AvatarModeState {
    return this.#state;
  }

  get uplink(): MotionUplink | undefined {
    return this.#uplink;
  }

  /** The latest `motionStats` the server pushed for this peer. */
  get serverStats(): MotionStatsPayload | undefined {
    return this.#serverStats;
  }

  /** The latest avatar rendering state / stats the server pushed. */
  get avatarState(): AvatarStateData | undefined {
    return this.#avatarState;
  }

  get avatarStats(): AvatarStats | undefined {
    return this.#avatarStats;
  }

  get identities(): readonly IdentitySummaryInfo[] {
    return this.#identities;
  }

  /**
   * Renders the avatar as `identityId` (while avatar mode is on). A refusal (not granted,
   * unknown, model broken) is shown in the panel and rethrown; motion keeps flowing.
   */
  async selectIdentity(identityId: string): Promise<void> {
    this.#identityId = identityId;
    if (this.#state !== 'on') return;
    const selection = ++this.#selections;
    this.#render.showRefusal(undefined);
    try {
      await this.#options.session.startAvatar(identityId, undefined, this.#mouth === 'voice' ? 'voice' : undefined);
    } catch (error) {
      // A later choice superseded this one (the server cancels it): that one's state counts. Or
      // avatar mode is being switched off, and its stopAvatar cancelled this start: as asked.
      if (selection !== this.#selections || this.#state !== 'on') return;
      const failure = error instanceof Error ? error : new Error(String(error));
      const after = afterRefusedSwitch(identityId, userMessage(failure), this.#rendering);
      this.#identityId = after.picker;
      this.#render.picker.value = after.picker;
      this.#render.showState({ state: 'error', identityId, message: after.message });
      if (after.picker !== identityId) this.#render.showRefusal(after.message);
      this.emit('error', failure);
      throw failure;
    }
  }

  async toggle(): Promise<void> {
    if (this.#state === 'off') await this.enable();
    else if (this.#state === 'on') await this.disable();
  }

  /**
   * Stops publishing the camera and starts the motion uplink. Rejects if tracking cannot start,
   * or — before touching the camera — if no identity is granted in this room (nobody would see
   * a face while the camera is withheld).
   */
  async enable(): Promise<void> {
    if (this.#closed || this.#state !== 'off') return;
    const { session, localMedia, view } = this.#options;
    const track = localMedia.videoTrack;
    if (!track) throw new Error('avatar mode needs a camera');
    this.#setState('starting');
    this.#resetPanels();
    let identities: IdentitySummaryInfo[];
    try {
      identities = await session.listIdentities();
    } catch (error) {
      return this.#refuse(`cannot list avatar identities: ${userMessage(error)}`);
    }
    const refusal = avatarModeRefusal(identities);
    if (refusal) return this.#refuse(refusal);
    this.#identities = identities;
    try {
      if (!this.#tracker) {
        this.#tracker = this.#options.createTracker();
        this.#button.textContent = 'Avatar mode (loading face tracker…)';
      }
      const tracker = await this.#tracker;
      this.#button.textContent = 'Avatar mode';
      const encoder = new MotionEncoder(loadMotionBasis());
      // No video leaves the browser in avatar mode: close the camera producer first.
      view.cameraWithheld = true;
      await session.unpublish('camera');
      if (this.#closed) return;
      const uplink = await MotionUplink.start({ session, track, tracker, encoder });
      if (this.#closed) {
        uplink.close();
        return;
      }
      this.#uplink = uplink;
      uplink.on('sent', ({ face }) => this.#overlay.draw(face.landmarks, uplink.videoWidth, uplink.videoHeight));
      uplink.on('noface', () => this.#overlay.clear());
      uplink.on('close', () => {
        if (this.#uplink === uplink) void this.disable();
      });
      this.#showUi(true);
      this.#setState('on');
      this.emit('uplink', uplink);
      await this.#startRendering();
    } catch (error) {
      this.#tracker = undefined;
      this.#showUi(false);
      this.#setState('off');
      await this.#republishCamera();
      const failure = error instanceof Error ? error : new Error(String(error));
      this.#panel.showError(`Avatar mode could not start: ${userMessage(failure)}`);
      this.emit('error', failure);
      throw failure;
    }
  }

  /** Stops the uplink and publishes the camera again. */
  async disable(): Promise<void> {
    if (this.#closed || this.#state !== 'on') return;
    this.#setState('stopping');
    const uplink = this.#uplink;
    this.#uplink = undefined;
    uplink?.close();
    await this.#options.session.stopAvatar().catch((error: unknown) => console.warn('stopAvatar failed', error));
    this.#showUi(false);
    this.#resetPanels();
    await this.#republishCamera();
    this.#setState('off');
  }

  /** Refuses avatar mode before anything changed: the camera stays published. */
  #refuse(message: string): never {
    this.#button.textContent = 'Avatar mode';
    this.#setState('off');
    this.#panel.showError(`Avatar mode is not available: ${message}`);
    const failure = new Error(message);
    this.emit('error', failure);
    throw failure;
  }

  /** Clears the uplink figures and the rendering state of an earlier avatar-mode run. */
  #resetPanels(): void {
    this.#panel.reset();
    this.#render.reset();
  }

  /** Idempotent: stops the uplink, frees the tracker and removes the controls. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#uplink?.close();
    this.#uplink = undefined;
    clearInterval(this.#panelTimer);
    for (const off of this.#unsubscribe.splice(0)) off();
    void this.#tracker?.then((tracker) => tracker.close()).catch(() => undefined);
    this.#overlay.remove();
    this.#panel.remove();
    this.#button.remove();
    this.removeAllListeners();
  }

  /** Starts rendering the chosen (or first) granted identity. */
  async #startRendering(): Promise<void> {
    const chosen = this.#identities.find((i) => i.identityId === this.#identityId)?.identityId ?? this.#identities[0]?.identityId;
    this.#render.setIdentities(this.#identities, chosen);
    if (chosen) await this.selectIdentity(chosen).catch(() => undefined);
  }

  async #republishCamera(): Promise<void> {
    const { localMedia, view } = this.#options;
    view.cameraWithheld = false;
    const track = localMedia.videoTrack;
    if (this.#closed || !track || !shouldRepublishCamera({ track, cameraOff: view.cameraOff })) return;
    try {
      await this.#options.session.publish(track, 'camera');
    } catch (error) {
      console.warn('could not publish the camera again', error);
    }
  }

  #showUi(on: boolean): void {
    this.#button.textContent = on ? 'Avatar mode: on' : 'Avatar mode';
    this.#button.setAttribute('aria-pressed', String(on));
    this.#panel.element.hidden = !on;
    clearInterval(this.#panelTimer);
    this.#panelTimer = undefined;
    if (on) {
      // Over the camera preview (an inset of the local tile once the own avatar shows there).
      this.#options.view.localTile.cameraElement.append(this.#overlay.element);
      this.#panelTimer = setInterval(() => this.#refreshPanel(), 500);
      this.#refreshPanel();
    } else {
      this.#overlay.clear();
      this.#overlay.remove();
    }
  }

  #refreshPanel(): void {
    const uplink = this.#uplink;
    if (!uplink) return;
    this.#panel.showLocal({
      trackedFps: uplink.trackedFps(),
      kbps: uplink.meter.kbps(),
      sentPackets: uplink.counters.sent,
      faceFound: uplink.faceVisible,
      refusedFrames: uplink.refusedFrames,
      lastRefusal: uplink.lastRefusal?.field,
      shapeSaturatedFrames: uplink.shapeSaturation.frames,
      shapeSaturationMaxPct: 100 * uplink.shapeSaturation.maxError,
    });
  }

  #setState(state: AvatarModeState): void {
    this.#state = state;
    if (state === 'off') this.#rendering = undefined;
    this.#button.disabled = state === 'starting' || state === 'stopping';
    document.body.dataset['avatarMode'] = state;
    this.emit('statechange', state);
  }
}
