/**
 * The page: join form → call → ended (with a banner saying why) → join form again.
 * Owns the current LocalMedia, SignallingClient (through the session) and CallSession, and
 * tells extensions (avatar mode, overlays) about each session through typed events.
 */
import { CallSession } from './call/CallSession';
import type { SessionEnd } from './call/callTypes';
import { SignallingClient } from './call/SignallingClient';
import { loadDisplayName, saveDisplayName } from './displayNameStore';
import { LocalMedia } from './media/LocalMedia';
import type { MediaQuality } from './media/mediaQuality';
import { roomPath } from './roomUrl';
import { Banner } from './ui/Banner';
import { CallView } from './ui/CallView';
import { JoinScreen, type JoinChoice } from './ui/JoinScreen';
import { mediaStateText, otherPeopleCount } from './ui/participantText';
import { TypedEmitter } from './util/TypedEmitter';
import { userMessage } from './call/SignallingError';

export type AppState = 'idle' | 'joining' | 'in-call' | 'ended';

export type AppEvents = {
  statechange: [AppState];
  /** A call started: extensions add toolbar controls and use the session here. */
  sessionstarted: [{ session: CallSession; view: CallView; localMedia: LocalMedia; choice: JoinChoice }];
  sessionended: [SessionEnd];
};

export interface AppOptions {
  root: HTMLElement;
  banner: HTMLElement;
  status: HTMLElement;
  roomId: string | undefined;
  quality: MediaQuality;
  /** Signalling server origin; default the page's own. */
  serverUrl?: string;
}

export class App extends TypedEmitter<AppEvents> {
  readonly #options: AppOptions;
  readonly #banner: Banner;
  #state: AppState = 'idle';
  #session: CallSession | undefined;
  #view: CallView | undefined;
  #localMedia: LocalMedia | undefined;
  #lastChoice: JoinChoice | undefined;

  constructor(options: AppOptions) {
    super();
    this.#options = options;
    this.#banner = new Banner(options.banner);
  }

  get state(): AppState {
    return this.#state;
  }

  get session(): CallSession | undefined {
    return this.#session;
  }

  get view(): CallView | undefined {
    return this.#view;
  }

  get localMedia(): LocalMedia | undefined {
    return this.#localMedia;
  }

  get bannerText(): string {
    return this.#banner.text;
  }

  /** Shows the join form, and again after every call ends. */
  showJoinScreen(message?: string): void {
    const screen = new JoinScreen({
      roomId: this.#lastChoice?.roomId ?? this.#options.roomId,
      displayName: this.#lastChoice?.displayName ?? loadDisplayName(),
      ...(this.#lastChoice?.mode ? { mode: this.#lastChoice.mode } : {}),
      ...(message ? { message } : {}),
    });
    this.#options.root.replaceChildren(screen.element);
    void screen.submitted().then(async (choice) => {
      try {
        await this.join(choice);
      } catch (error) {
        this.showJoinScreen(`Could not join: ${userMessage(error)}`);
      }
    });
  }

  /**
   * Joins a room with the local mic and camera, or (mode 'audio-avatar') with the microphone only:
   * the camera is not even opened, and the voice-avatar extension starts the avatar. Rejects (and
   * cleans up) if joining fails, or if 'audio-avatar' cannot use the microphone.
   */
  async join(choice: JoinChoice): Promise<CallSession> {
    if (this.#state === 'joining' || this.#state === 'in-call') throw new Error('already in a call');
    this.#lastChoice = choice;
    saveDisplayName(choice.displayName);
    this.#banner.hide();
    this.#setState('joining');
    this.#setStatus(`Joining ${choice.roomId}…`);
    let localMedia: LocalMedia | undefined;
    let session: CallSession | undefined;
    try {
      const audioAvatar = choice.mode === 'audio-avatar';
      localMedia = await LocalMedia.open({ quality: this.#options.quality, ...(audioAvatar ? { video: false } : {}) });
      if (audioAvatar && !localMedia.audioTrack) {
        throw new Error(`"Audio only, as avatar" needs your microphone (${localMedia.problems.join('; ') || 'none found'}); allow it for this page, or join with the camera`);
      }
      const signalling = await SignallingClient.connect(this.#options.serverUrl ? { url: this.#options.serverUrl } : {});
      try {
        session = await CallSession.join({ signalling, roomId: choice.roomId, displayName: choice.displayName });
      } catch (error) {
        signalling.close();
        throw error;
      }
      if (localMedia.audioTrack) await session.publish(localMedia.audioTrack, 'mic');
      if (localMedia.videoTrack) await session.publish(localMedia.videoTrack, 'camera');
    } catch (error) {
      session?.close();
      localMedia?.stop();
      this.#setState('idle');
      this.#setStatus('Not connected');
      throw error;
    }
    this.#start(session, localMedia, choice);
    return session;
  }

  /** Leaves the call (the server closes this peer); resolves when the page is back on the form. */
  async leave(): Promise<void> {
    await this.#session?.leave();
  }

  #start(session: CallSession, localMedia: LocalMedia, choice: JoinChoice): void {
    this.#session = session;
    this.#localMedia = localMedia;
    const view = new CallView({ session, localMedia, onLeave: () => void this.leave() });
    this.#view = view;
    this.#options.root.replaceChildren(view.element);
    if (window.location.pathname !== roomPath(choice.roomId)) {
      window.history.replaceState(null, '', roomPath(choice.roomId) + window.location.search);
    }
    const refresh = (): void => this.#refreshStatus();
    session.on('participantjoined', refresh);
    session.on('participantleft', refresh);
    session.on('transportstate', refresh);
    session.once('ended', (end) => this.#end(end));
    this.#setState('in-call');
    this.#refreshStatus();
    if (localMedia.problems.length > 0) {
      this.#banner.show(`Joined without some devices: ${localMedia.problems.join('; ')}`, undefined, 'info');
    }
    this.emit('sessionstarted', { session, view, localMedia, choice });
  }

  #end(end: SessionEnd): void {
    this.#view?.destroy();
    this.#localMedia?.stop();
    this.#view = undefined;
    this.#localMedia = undefined;
    this.#session = undefined;
    this.#setState('ended');
    const rejoin = { label: 'Rejoin', run: () => void this.#rejoin() };
    switch (end.type) {
      case 'left':
        this.#setStatus('You left the call');
        this.showJoinScreen('You left the call.');
        break;
      case 'roomClosed':
        this.#setStatus('Room closed');
        this.#banner.show(
          end.reason === 'workerDied'
            ? 'The media server restarted; rejoin to continue the call.'
            : end.reason === 'serverShutdown'
              ? 'The server is shutting down; rejoin in a moment.'
              : `The room was closed: ${end.message}`,
          rejoin,
        );
        this.showJoinScreen();
        break;
      case 'disconnected':
        this.#setStatus('Disconnected');
        this.#banner.show('Lost the connection to the server; rejoin to continue.', rejoin);
        this.showJoinScreen();
        break;
      case 'failed':
        this.#setStatus('Call failed');
        this.#banner.show(`The call failed: ${end.message}`, rejoin);
        this.showJoinScreen();
        break;
    }
    this.emit('sessionended', end);
  }

  async #rejoin(): Promise<void> {
    if (!this.#lastChoice || this.#state === 'joining' || this.#state === 'in-call') return;
    try {
      await this.join(this.#lastChoice);
    } catch (error) {
      this.#banner.show(`Could not rejoin: ${userMessage(error)}`, {
        label: 'Try again',
        run: () => void this.#rejoin(),
      });
    }
  }

  #refreshStatus(): void {
    const session = this.#session;
    if (!session) return;
    const others = otherPeopleCount(session.participants.values());
    const media = mediaStateText(session.transportState('send'), session.transportState('recv'));
    this.#setStatus(
      `In room ${session.roomId} as ${session.displayName} · ${others} other participant${others === 1 ? '' : 's'} · media ${media}`,
    );
  }

  #setState(state: AppState): void {
    this.#state = state;
    document.body.dataset['callState'] = state;
    this.emit('statechange', state);
  }

  #setStatus(text: string): void {
    this.#options.status.textContent = text;
  }
}
